package dev.zverse.engine;

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
 */
class Version {
  private static final long MAX_DELTA = 0xFFFF_FFFFL;

  private final int createdDelta;
  final long version;

  /** The value, never handed out; {@code null} marks a tombstone. */
  final byte @Nullable [] value;

  /** The key's previous node, or {@code null} where the retained chain ends. */
  final @Nullable Version next;

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
    Version n = this;
    while (n != null && n.version > atVersion) {
      n = n.next;
    }
    return n;
  }

  /**
   * How many nodes of this chain, from this node on, reads at or above {@code watermark} need:
   * every node at or above it, and the newest one below it if that is a put and no node sits
   * exactly at the watermark. The rest is what {@link Transient#prune} drops.
   */
  final int retainedLength(long watermark) {
    int n = 0;
    Version last = null;
    Version v = this;
    while (v != null && v.version >= watermark) {
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
}
