package dev.zverse.engine;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * One node of a key's version chain: the value a key took at one version, or a tombstone, linked to
 * the key's previous node. Chains run newest first, so the head answers reads at the latest version
 * and a read at version {@code v} walks to the first node whose version is at most {@code v}.
 *
 * <p>Immutable and shared between snapshots: pruning never edits a node, it copies the retained
 * part of a chain (see {@link Transient#prune}).
 *
 * <p>Each put node records the version that created its key's current incarnation (the first put
 * after the key was absent or deleted), as an unsigned 32-bit distance below its own version. The
 * {@code int} fills what would be alignment padding under compressed oops (12-byte header, 4-byte
 * int, 8-byte long, two 4-byte references: 32 bytes), so it costs nothing; the rare node whose
 * incarnation is 2^32 versions old is a {@link Wide} node.
 *
 * <p>A chain may end in a {@link Packed} node: the key's older versions as two arrays, versions and
 * values side by side, which {@link ChainPacker} builds in the background once a chain has grown.
 * Walkers go through {@link #next()}, which steps into a packed run as views, so they see the same
 * chain either way; the read at an old version ({@link #visibleAt}, {@link #valueAt})
 * binary-searches the run instead of taking a cache miss per node.
 */
class Version {
  private static final long MAX_DELTA = 0xFFFF_FFFFL;

  private final int createdDelta;
  final long version;

  /** The value, never handed out; {@code null} marks a tombstone. */
  final byte @Nullable [] value;

  /**
   * The key's previous node, or {@code null} where the retained chain ends or this node is {@link
   * Packed} (whose older versions are in its arrays): read it through {@link #next()}.
   */
  private final @Nullable Version next;

  private Version(long version, byte @Nullable [] value, @Nullable Version next, int createdDelta) {
    this.version = version;
    this.value = value;
    this.next = next;
    this.createdDelta = createdDelta;
  }

  /** A put node; {@code created} is the version that created the key's current incarnation. */
  static Version put(long version, byte[] value, @Nullable Version next, long created) {
    assert value != null : "a put needs a value";
    assert created <= version : created + " > " + version;
    long delta = version - created;
    if (delta > MAX_DELTA) {
      return new Wide(version, value, next, created);
    }
    return new Version(version, value, next, (int) delta);
  }

  /** A tombstone node. */
  static Version tombstone(long version, @Nullable Version next) {
    return new Version(version, null, next, 0);
  }

  /** A put of {@code value}, or a tombstone where it is {@code null}: a chain read back. */
  static Version of(long version, byte @Nullable [] value, @Nullable Version next, long created) {
    return value == null ? tombstone(version, next) : put(version, value, next, created);
  }

  /**
   * The key's previous node, or {@code null} where the retained chain ends. Inside a packed run
   * this is a fresh view of the next array slot: walkers that only read pay one small allocation
   * per step there, and reads at one version use {@link #visibleAt} or {@link #valueAt} instead.
   */
  final @Nullable Version next() {
    Version n = next;
    if (n == null && this instanceof Packed p) {
      return p.following();
    }
    return n;
  }

  boolean isTombstone() {
    return value == null;
  }

  /** The version that created this put's incarnation of the key; for a tombstone, its version. */
  long created() {
    return version - (createdDelta & MAX_DELTA);
  }

  /** This node with another successor: how pruning cuts a chain without editing shared nodes. */
  Version withNext(@Nullable Version newNext) {
    return value == null ? tombstone(version, newNext) : put(version, value, newNext, created());
  }

  /** The newest node at or below {@code atVersion}, or {@code null}; starts at this node. */
  final @Nullable Version visibleAt(long atVersion) {
    @Nullable Version n = this;
    while (n != null && n.version > atVersion) {
      if (n instanceof Packed p) {
        return p.visibleBelow(atVersion);
      }
      n = n.next;
    }
    return n;
  }

  /**
   * The value of the newest node at or below {@code atVersion}: {@code null} if there is none or it
   * is a tombstone. {@link #visibleAt} without the view a packed run would allocate.
   */
  final byte @Nullable [] valueAt(long atVersion) {
    @Nullable Version n = this;
    while (n != null && n.version > atVersion) {
      if (n instanceof Packed p) {
        return p.valueBelow(atVersion);
      }
      n = n.next;
    }
    return n == null ? null : n.value;
  }

  /**
   * How many nodes of this chain, from this node on, reads at or above {@code watermark} need:
   * every node at or above it, and the newest one below it if that is a put and no node sits
   * exactly at the watermark. The rest is what {@link Transient#prune} drops.
   */
  final int retainedLength(long watermark) {
    int n = 0;
    @Nullable Version last = null;
    @Nullable Version v = this;
    while (v != null && v.version >= watermark) {
      if (v instanceof Packed p) {
        // The writer asks this at every put: a binary search, not a view per retained slot.
        return n + p.retainedInRun(watermark);
      }
      last = v;
      v = v.next;
      n++;
    }
    if (v != null && v.value != null && (last == null || last.version != watermark)) {
      n++;
    }
    return n;
  }

  /** A put whose incarnation began more than 2^32 versions before it. */
  private static final class Wide extends Version {
    private final long created;

    Wide(long version, byte[] value, @Nullable Version next, long created) {
      super(version, value, next, 0);
      this.created = created;
    }

    @Override
    long created() {
      return created;
    }
  }

  /**
   * A run of a key's versions packed into two arrays, newest first: {@code versions[i]} and {@code
   * values[i]} (null for a tombstone) are what the chain's {@code i}-th node would hold. This node
   * is slot {@link #index} of the run, and the run ends the chain: every older version is a later
   * slot. The arrays are shared by the views {@link #next()} hands out and never written after
   * construction, so a packed run is immutable like any node, and safe to publish through a race
   * (every field is final).
   *
   * <p>The version that created each put's incarnation follows from the run itself (the oldest put
   * of its unbroken run of puts), except for the run's oldest slot, whose incarnation may have
   * begun before the history that was kept: {@link #oldestCreated} holds that one.
   */
  static final class Packed extends Version {
    private final long[] versions;
    private final byte[] @Nullable [] values;
    private final int index;
    private final long oldestCreated;

    private Packed(long[] versions, byte[] @Nullable [] values, int index, long oldestCreated) {
      super(versions[index], values[index], null, 0);
      this.versions = versions;
      this.values = values;
      this.index = index;
      this.oldestCreated = oldestCreated;
    }

    /**
     * The whole chain from {@code head} packed into one run, or {@code null} if it has fewer than
     * {@code minLength} nodes. A packed run met on the way is copied in bulk.
     */
    static @Nullable Packed of(Version head, int minLength) {
      int length = 0;
      for (Version n = head; n != null; n = n.next) {
        if (n instanceof Packed p) {
          length += p.versions.length - p.index;
          break;
        }
        length++;
      }
      if (length < minLength) {
        return null;
      }
      long[] versions = new long[length];
      byte[] @Nullable [] values = new byte[length][];
      long oldestCreated = 0;
      int i = 0;
      for (Version n = head; n != null; n = n.next) {
        if (n instanceof Packed p) {
          int rest = p.versions.length - p.index;
          System.arraycopy(p.versions, p.index, versions, i, rest);
          System.arraycopy(p.values, p.index, values, i, rest);
          oldestCreated = p.oldestCreated;
          i += rest;
          break;
        }
        versions[i] = n.version;
        values[i] = n.value;
        oldestCreated = n.value == null ? n.version : n.created();
        i++;
      }
      assert i == length : i + " packed, " + length + " counted";
      return new Packed(versions, values, 0, oldestCreated);
    }

    /**
     * {@link Version#retainedLength} of the chain from this slot, which is at or above {@code
     * watermark}, so the node a read at the watermark needs is in this run or there is none.
     */
    int retainedInRun(long watermark) {
      assert version >= watermark : version + " below the watermark " + watermark;
      int below = slotAt(watermark - 1);
      int n = below - index;
      if (below < versions.length && values[below] != null && versions[below - 1] != watermark) {
        n++;
      }
      return n;
    }

    /**
     * The first {@code length} slots from this one as a run of their own, at least {@link
     * ChainPacker#MIN_LENGTH} and at most {@link #length()}: how a prune keeps a packed chain
     * packed while the versions it drops, and their arrays, go.
     */
    Packed prefix(int length) {
      assert length >= ChainPacker.MIN_LENGTH && length <= length()
          : "prefix of " + length + " from a run of " + length();
      int end = index + length;
      long[] vs = Arrays.copyOfRange(versions, index, end);
      byte[] @Nullable [] vals = Arrays.copyOfRange(values, index, end);
      Version oldest = new Packed(versions, values, end - 1, oldestCreated);
      return new Packed(vs, vals, 0, oldest.created());
    }

    /** Nodes of the chain from this slot on. */
    int length() {
      return versions.length - index;
    }

    /** The view of the next slot, or {@code null} after the oldest. */
    @Nullable Version following() {
      int i = index + 1;
      return i < versions.length ? new Packed(versions, values, i, oldestCreated) : null;
    }

    /** Slot of the newest version at or below {@code atVersion} after this one, or the length. */
    private int slotAt(long atVersion) {
      // Versions fall along the run: find the first slot at or below atVersion.
      int lo = index + 1;
      int hi = versions.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (versions[mid] <= atVersion) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      return lo;
    }

    /** {@link #visibleAt} for a version below this slot's. */
    @Nullable Version visibleBelow(long atVersion) {
      int i = slotAt(atVersion);
      return i < versions.length ? new Packed(versions, values, i, oldestCreated) : null;
    }

    /** {@link #valueAt} for a version below this slot's. */
    byte @Nullable [] valueBelow(long atVersion) {
      // Reading the values array's length first starts its cache miss while the search waits on
      // the versions array's: the two arrays then cost one memory round trip, not two.
      final byte[] @Nullable [] vs = values;
      final int n = vs.length;
      int i = slotAt(atVersion);
      return i < n ? vs[i] : null;
    }

    @Override
    long created() {
      if (value == null) {
        return version;
      }
      final int last = versions.length - 1;
      int k = index;
      while (k < last && values[k + 1] != null) {
        k++;
      }
      return k == last ? oldestCreated : versions[k];
    }
  }
}
