package dev.zverse.engine;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The whole store as of one version, and every retained version before it: an immutable root of the
 * versioned tree plus the version it shows.
 *
 * <h2>Reads</h2>
 *
 * Each key holds its version chain, newest first, so this one root answers reads at any version
 * from {@link #watermark()} to {@link #version()}: a read at {@code v} takes, for each key, the
 * newest change at or below {@code v}. Reads take no lock and allocate only what they return. Byte
 * arrays going in are never kept and arrays coming out are copies, so no caller can change the
 * store through an array; {@link Entry#valueBuffer()} is the read-only, zero-copy way out.
 *
 * <h2>Writes</h2>
 *
 * A snapshot never changes. {@link #apply(WriteBatch)} and {@link #prune(long)} return new
 * snapshots that share every untouched node with this one; {@link #asTransient()} gathers many
 * batches before one new snapshot. Holding a snapshot keeps everything it can read reachable,
 * whatever later snapshots prune.
 *
 * <p>One class, long because it is the one read type: every read (point, range, prefix, history,
 * changes, at any retained version) is a method here, and splitting them would only scatter a
 * public API that users find in one place.
 *
 * <h2>Thread safety</h2>
 *
 * Immutable, and safe for concurrent readers once published through a happens-before edge (the
 * store publishes each snapshot with a release store that readers acquire).
 */
public final class Snapshot {
  /** Heap per key beyond its bytes, measured with JOL (see the benchmarks' MemoryFootprint). */
  static final int KEY_OVERHEAD_BYTES = 40;

  /**
   * Heap per stored version beyond its value bytes, measured likewise (56), plus the commit log's
   * reference to the value (4, compressed).
   */
  static final int VERSION_OVERHEAD_BYTES = 60;

  final Limits limits;
  final Node root;
  final int height;
  final long version;
  final long watermark;
  final CommitLog commits;

  /** Time of the newest commit, in microseconds since the epoch; {@link Commit#NO_TIME} if none. */
  final long lastCommitMicros;

  final long keys;
  final long liveKeys;
  final long storedVersions;
  final long payloadBytes;
  final ZIndex zindex;

  /** Packs the chains of this snapshot's lineage in the background (see {@link ChainPacker}). */
  final ChainPacker packer;

  Snapshot(
      Limits limits,
      Node root,
      int height,
      long version,
      long watermark,
      CommitLog commits,
      long lastCommitMicros,
      long keys,
      long liveKeys,
      long storedVersions,
      long payloadBytes,
      ZIndex zindex,
      ChainPacker packer) {
    this.limits = limits;
    this.root = root;
    this.height = height;
    this.version = version;
    this.watermark = watermark;
    this.commits = commits;
    this.lastCommitMicros = lastCommitMicros;
    this.keys = keys;
    this.liveKeys = liveKeys;
    this.storedVersions = storedVersions;
    this.payloadBytes = payloadBytes;
    this.zindex = zindex;
    this.packer = packer;
  }

  /** The empty store at version 0, with the {@linkplain Limits#defaults() default limits}. */
  public static Snapshot empty() {
    return empty(Limits.defaults());
  }

  /**
   * The empty store at version 0.
   *
   * @param limits the key and value limits that every later batch is checked against
   * @throws NullPointerException if {@code limits} is null
   */
  public static Snapshot empty(Limits limits) {
    return empty(limits, ZIndexOptions.defaults());
  }

  /**
   * The empty store at version 0, keeping its Z-index as {@code index} says.
   *
   * @param limits the key and value limits that every later batch is checked against
   * @param index whether and how to keep the Z-index that {@link #changes} uses; its executor also
   *     packs the version chains of keys with history in the background (unless {@link
   *     ZIndexOptions#withPackedChains} turns that off), which makes reads at older versions faster
   *     and changes no answer
   * @throws NullPointerException if an argument is null
   */
  public static Snapshot empty(Limits limits, ZIndexOptions index) {
    Objects.requireNonNull(index, "index");
    return empty(limits, index, ChainPacker.of(index));
  }

  /** {@link #empty(Limits, ZIndexOptions)} packing chains with {@code packer}: for tests. */
  static Snapshot empty(Limits limits, ZIndexOptions index, ChainPacker packer) {
    return new Snapshot(
        Objects.requireNonNull(limits, "limits"),
        Node.Leaf.EMPTY,
        1,
        0,
        0,
        CommitLog.EMPTY,
        Commit.NO_TIME,
        0,
        0,
        0,
        0,
        ZIndex.empty(Objects.requireNonNull(index, "index")),
        packer);
  }

  /** The version this snapshot shows: that of its newest commit, 0 for the empty store. */
  public long version() {
    return version;
  }

  /** The oldest version this snapshot can still read; reads below it throw. */
  public long watermark() {
    return watermark;
  }

  /** The limits every batch applied to this snapshot is checked against. */
  public Limits limits() {
    return limits;
  }

  /** Number of keys with a value at {@link #version()}. */
  public long size() {
    return liveKeys;
  }

  /** Counters of this snapshot. */
  public Stats stats() {
    return new Stats(
        version,
        watermark,
        keys,
        liveKeys,
        storedVersions,
        payloadBytes,
        payloadBytes + keys * KEY_OVERHEAD_BYTES + storedVersions * VERSION_OVERHEAD_BYTES);
  }

  /**
   * The newest version committed at or before {@code time}: the version a reader "as of" that
   * instant should read. Commit times strictly increase with the version (see {@link
   * #commitTime(long)}), so this is well defined; an instant read from the writer's clock before a
   * batch was applied never reaches that batch's version.
   *
   * @param time any instant, {@link Instant#MIN} and {@link Instant#MAX} included (compared to the
   *     microsecond; instants beyond about 292,000 years from 1970 count as the end of that range)
   * @return a version in [{@link #watermark()}, {@link #version()}]; 0 if {@code time} is before
   *     the first commit and nothing was pruned
   * @throws NullPointerException if {@code time} is null
   * @throws VersionCompactedException if that version is below {@link #watermark()} (its {@code
   *     requestedVersion} is then {@code watermark() - 1}, the newest version it could be)
   */
  public long versionAt(Instant time) {
    long micros = Commit.micros(Objects.requireNonNull(time, "time"));
    long v = commits.versionAt(micros);
    if (v >= 0) {
      return v;
    }
    if (watermark == 0) {
      return 0;
    }
    throw new VersionCompactedException(watermark - 1, watermark);
  }

  /**
   * The time at which {@code atVersion} was committed, to the microsecond.
   *
   * <p>The writer stamps a batch with the first microsecond after its clock's reading as it applies
   * the batch, or the microsecond after the previous commit's time if that is later (see {@link
   * Transient#apply(WriteBatch, Instant)}). So commit times strictly increase with the version, and
   * an instant read from the same clock before the batch was applied, ties included, is before its
   * commit time. If the clock steps back, commit times run ahead of it, one microsecond per commit,
   * until it catches up: meanwhile an instant read just before the step may reach versions
   * committed after it, as their times say.
   *
   * @param atVersion a version in [max(1, {@link #watermark()}), {@link #version()}]
   * @return the commit time, a whole number of microseconds since the epoch
   * @throws IllegalArgumentException if {@code atVersion} is below 1 or above {@link #version()}
   * @throws VersionCompactedException if {@code atVersion} is below {@link #watermark()}
   */
  public Instant commitTime(long atVersion) {
    if (atVersion < 1) {
      throw new IllegalArgumentException(
          "atVersion must be in [1, " + version + "], was " + atVersion);
    }
    checkReadVersion(atVersion, "atVersion");
    return Commit.instant(commits.get(atVersion).timeMicros);
  }

  // ---------------------------------------------------------------- point reads

  /**
   * The value of {@code key} at {@link #version()}.
   *
   * @return a copy of the value, or {@code null} if the key has none
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is longer than the key limit
   */
  public byte @Nullable [] get(byte[] key) {
    limits.checkKey(key, "key");
    byte[] value = TreeCursor.findValue(root, height, key);
    return value == null ? null : value.clone();
  }

  /**
   * The value of {@code key} at {@code atVersion}.
   *
   * @param atVersion a version in [{@link #watermark()}, {@link #version()}]
   * @return a copy of the value, or {@code null} if the key had none at that version
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit, or {@code atVersion} is
   *     negative or above {@link #version()}
   * @throws VersionCompactedException if {@code atVersion} is below {@link #watermark()}
   */
  public byte @Nullable [] get(byte[] key, long atVersion) {
    limits.checkKey(key, "key");
    checkReadVersion(atVersion, "atVersion");
    Version head = TreeCursor.find(root, height, key);
    byte[] value = head == null ? null : head.valueAt(atVersion);
    return value == null ? null : value.clone();
  }

  /** {@link #get(byte[])} of a UTF-8 key, decoding the value as UTF-8. */
  public @Nullable String get(String key) {
    byte[] v = get(utf8(key));
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  /** {@link #get(byte[], long)} of a UTF-8 key, decoding the value as UTF-8. */
  public @Nullable String get(String key, long atVersion) {
    byte[] v = get(utf8(key), atVersion);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  /** Whether {@code key} has a value at {@link #version()}; throws like {@link #get(byte[])}. */
  public boolean containsKey(byte[] key) {
    limits.checkKey(key, "key");
    Version head = TreeCursor.find(root, height, key);
    return head != null && head.value != null;
  }

  /**
   * {@link #containsKey(byte[])} of a UTF-8 key.
   *
   * @param key the key, encoded as UTF-8; the empty string is a valid key
   * @return whether the key has a value at {@link #version()}
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if the key's UTF-8 bytes are over the key limit
   */
  public boolean containsKey(String key) {
    return containsKey(utf8(key));
  }

  /**
   * The entry of {@code key} at {@link #version()}, with its create and modify versions.
   *
   * @return the entry, or {@code null} if the key has no value
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is longer than the key limit
   */
  public @Nullable Entry entry(byte[] key) {
    return entry(key, version);
  }

  /**
   * The entry of {@code key} at {@code atVersion}; throws like {@link #get(byte[], long)}.
   *
   * @return the entry, or {@code null} if the key had no value at that version
   */
  public @Nullable Entry entry(byte[] key, long atVersion) {
    limits.checkKey(key, "key");
    checkReadVersion(atVersion, "atVersion");
    Version head = TreeCursor.find(root, height, key);
    Version v = head == null ? null : head.visibleAt(atVersion);
    return v == null || v.value == null
        ? null
        : new Entry(key.clone(), v.value, v.created(), v.version);
  }

  /** {@link #entry(byte[])} of a UTF-8 key. */
  public @Nullable Entry entry(String key) {
    return entry(utf8(key));
  }

  /**
   * {@link #entry(byte[], long)} of a UTF-8 key.
   *
   * @param key the key, encoded as UTF-8
   * @param atVersion a version in [{@link #watermark()}, {@link #version()}]
   * @return the entry, or {@code null} if the key had no value at that version
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if the key's UTF-8 bytes are over the key limit, or {@code
   *     atVersion} is negative or above {@link #version()}
   * @throws VersionCompactedException if {@code atVersion} is below {@link #watermark()}
   */
  public @Nullable Entry entry(String key, long atVersion) {
    return entry(utf8(key), atVersion);
  }

  // ---------------------------------------------------------------- history

  /**
   * Every change to {@code key} with a version in [{@code fromVersion}, {@code toVersion}], oldest
   * first, deletes included.
   *
   * @param fromVersion lowest version, at least {@link #watermark()}
   * @param toVersion highest version, at most {@link #version()}
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit, {@code fromVersion >
   *     toVersion}, or a version is negative or above {@link #version()}
   * @throws VersionCompactedException if {@code fromVersion} is below {@link #watermark()}
   */
  public List<Change> history(byte[] key, long fromVersion, long toVersion) {
    limits.checkKey(key, "key");
    checkVersionRange(fromVersion, toVersion);
    Version head = TreeCursor.find(root, height, key);
    if (head == null) {
      return List.of();
    }
    byte[] k = key.clone();
    List<Change> changes = new ArrayList<>();
    for (Version v = head.visibleAt(toVersion);
        v != null && v.version >= fromVersion;
        v = v.next()) {
      changes.add(new Change(k, v.version, v.value));
    }
    Collections.reverse(changes);
    return changes;
  }

  /**
   * Every retained change to {@code key}, oldest first: {@code history(key, watermark(),
   * version())}.
   */
  public List<Change> history(byte[] key) {
    return history(key, watermark, version);
  }

  /** {@link #history(byte[], long, long)} of a UTF-8 key. */
  public List<Change> history(String key, long fromVersion, long toVersion) {
    return history(utf8(key), fromVersion, toVersion);
  }

  /**
   * {@link #history(byte[])} of a UTF-8 key: every retained change to it, oldest first.
   *
   * @param key the key, encoded as UTF-8
   * @return the changes from {@link #watermark()} to {@link #version()}, deletes included
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if the key's UTF-8 bytes are over the key limit
   */
  public List<Change> history(String key) {
    return history(utf8(key));
  }

  // ---------------------------------------------------------------- changes in a box

  /**
   * Every change to a key in {@code range} with a version in [{@code fromVersion}, {@code
   * toVersion}], deletes included: "what changed under {@code orders/} between versions 1,000 and
   * 2,000". Ordered by version, then key. The store picks the cheapest way to find them ({@link
   * QueryPath#AUTO}).
   *
   * @param range the keys
   * @param fromVersion lowest version, at least {@link #watermark()}
   * @param toVersion highest version, at most {@link #version()}
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalArgumentException if {@code fromVersion > toVersion}, or a version is negative
   *     or above {@link #version()}
   * @throws VersionCompactedException if {@code fromVersion} is below {@link #watermark()}
   */
  public List<Change> changes(KeyRange range, long fromVersion, long toVersion) {
    return changes(range, fromVersion, toVersion, QueryPath.AUTO);
  }

  /**
   * {@link #changes(KeyRange, long, long)} along a chosen path: every path gives the same answer,
   * at different costs (see {@link QueryPath}). Throws like {@link #changes(KeyRange, long, long)},
   * and {@link NullPointerException} if {@code path} is null.
   */
  public List<Change> changes(KeyRange range, long fromVersion, long toVersion, QueryPath path) {
    Objects.requireNonNull(range, "range");
    Objects.requireNonNull(path, "path");
    checkVersionRange(fromVersion, toVersion);
    return ChangeQuery.run(this, range, fromVersion, toVersion, path);
  }

  /** {@link #changes(KeyRange, long, long)} of a UTF-8 key prefix. */
  public List<Change> changes(String keyPrefix, long fromVersion, long toVersion) {
    return changes(
        KeyRange.prefix(Objects.requireNonNull(keyPrefix, "keyPrefix")), fromVersion, toVersion);
  }

  /** The path {@link #changes(KeyRange, long, long)} would take for this box; throws like it. */
  public QueryPath plan(KeyRange range, long fromVersion, long toVersion) {
    Objects.requireNonNull(range, "range");
    checkVersionRange(fromVersion, toVersion);
    return ChangeQuery.choose(this, zindex.settled(watermark), range, fromVersion, toVersion);
  }

  /** The state of the Z-index, as queries on this snapshot see it. */
  public ZIndexStats indexStats() {
    return zindex.settled(watermark).stats();
  }

  // ---------------------------------------------------------------- commits, one by one

  /**
   * The commit of {@code atVersion}, every change, without previous values.
   *
   * @param atVersion a version in [max(1, {@link #watermark()}), {@link #version()}]
   * @throws IllegalArgumentException if {@code atVersion} is below 1 or above {@link #version()}
   * @throws VersionCompactedException if {@code atVersion} is below {@link #watermark()}
   */
  public CommitRecord commit(long atVersion) {
    return commit(atVersion, KeyRange.all(), false);
  }

  /**
   * The commit of {@code atVersion}, only its changes to keys in {@code range} (maybe none), and
   * with {@code previousValues} each key's value just before it. Costs one tree descent per change
   * in the range: the commit log knows each commit's keys, the version chains their values.
   *
   * @param atVersion a version in [max(1, {@link #watermark()}), {@link #version()}]; above {@link
   *     #watermark()} when {@code previousValues}, whose reads are at {@code atVersion - 1}
   * @param range the keys whose changes are wanted; {@link KeyRange#all()} for every change
   * @param previousValues whether to read each key's previous value too
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalArgumentException if {@code atVersion} is below 1 or above {@link #version()}
   * @throws VersionCompactedException if {@code atVersion} is below {@link #watermark()}, or
   *     previous values are asked for and {@code atVersion - 1} is
   */
  public CommitRecord commit(long atVersion, KeyRange range, boolean previousValues) {
    Objects.requireNonNull(range, "range");
    if (atVersion < 1) {
      throw new IllegalArgumentException(
          "atVersion must be in [1, " + version + "], was " + atVersion);
    }
    checkReadVersion(atVersion, "atVersion");
    if (previousValues) {
      checkReadVersion(atVersion - 1, "atVersion - 1");
    }
    return CommitRecord.read(this, atVersion, range, previousValues);
  }

  /**
   * The commits with versions in ({@code afterVersion}, {@code toVersion}], oldest first, read
   * lazily: each {@code next()} reads one commit as {@link #commit(long, KeyRange, boolean)} does.
   * Every version in the window yields a record, even one with no change in {@code range}, so a
   * consumer can check that it saw every version. This is what a change feed replays from: the
   * state at {@code afterVersion} (read with {@link #scan}) plus these commits is the state at
   * {@code toVersion}.
   *
   * @param afterVersion the version before the first commit wanted, in [{@link #watermark()},
   *     {@code toVersion}]
   * @param toVersion the last version wanted, at most {@link #version()}
   * @param range the keys whose changes are wanted; {@link KeyRange#all()} for every change
   * @param previousValues whether to read each key's previous value too
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalArgumentException if {@code afterVersion > toVersion}, or a version is negative
   *     or above {@link #version()}
   * @throws VersionCompactedException if {@code afterVersion} is below {@link #watermark()}
   */
  public Iterator<CommitRecord> commits(
      long afterVersion, long toVersion, KeyRange range, boolean previousValues) {
    Objects.requireNonNull(range, "range");
    if (afterVersion > toVersion) {
      throw new IllegalArgumentException(
          "afterVersion " + afterVersion + " is after toVersion " + toVersion);
    }
    checkReadVersion(toVersion, "toVersion");
    checkReadVersion(afterVersion, "afterVersion");
    return new Iterator<>() {
      private long next = afterVersion + 1;

      @Override
      public boolean hasNext() {
        return next <= toVersion;
      }

      @Override
      public CommitRecord next() {
        if (next > toVersion) {
          throw new NoSuchElementException();
        }
        return CommitRecord.read(Snapshot.this, next++, range, previousValues);
      }
    };
  }

  // ---------------------------------------------------------------- scans

  /** Every live entry in {@code range} at {@link #version()}, in key order. */
  public List<Entry> scan(KeyRange range) {
    return scan(range, version, Direction.FORWARD, Integer.MAX_VALUE);
  }

  /** Every live entry in {@code range} at {@code atVersion}, in key order. */
  public List<Entry> scan(KeyRange range, long atVersion) {
    return scan(range, atVersion, Direction.FORWARD, Integer.MAX_VALUE);
  }

  /**
   * The first {@code limit} live entries in {@code range} at {@link #version()}, in {@code
   * direction}: {@code scan(range, version(), direction, limit)}.
   *
   * @param range the keys to visit
   * @param direction ascending or descending key order
   * @param limit the most entries returned, at least 0
   * @return the entries, at most {@code limit} of them
   * @throws NullPointerException if {@code range} or {@code direction} is null
   * @throws IllegalArgumentException if {@code limit} is negative
   */
  public List<Entry> scan(KeyRange range, Direction direction, int limit) {
    return scan(range, version, direction, limit);
  }

  /**
   * The first {@code limit} live entries in {@code range} at {@code atVersion}, in {@code
   * direction}.
   *
   * @param range the keys to visit
   * @param atVersion a version in [{@link #watermark()}, {@link #version()}]
   * @param direction ascending or descending key order
   * @param limit the most entries returned, at least 0
   * @throws NullPointerException if {@code range} or {@code direction} is null
   * @throws IllegalArgumentException if {@code limit} is negative, or {@code atVersion} is negative
   *     or above {@link #version()}
   * @throws VersionCompactedException if {@code atVersion} is below {@link #watermark()}
   */
  public List<Entry> scan(KeyRange range, long atVersion, Direction direction, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0, was " + limit);
    }
    Iterator<Entry> it = iterator(range, atVersion, direction);
    List<Entry> out = new ArrayList<>(Math.min(limit, 1024));
    while (out.size() < limit && it.hasNext()) {
      out.add(it.next());
    }
    return out;
  }

  /**
   * A lazy iterator over the live entries in {@code range} at {@code atVersion}: the way to walk a
   * large range, or the whole store ({@link KeyRange#all()}), without holding it in a list. It
   * reads this immutable snapshot, so concurrent commits never disturb it.
   *
   * @throws NullPointerException if {@code range} or {@code direction} is null
   * @throws IllegalArgumentException if {@code atVersion} is negative or above {@link #version()}
   * @throws VersionCompactedException if {@code atVersion} is below {@link #watermark()}
   */
  public Iterator<Entry> iterator(KeyRange range, long atVersion, Direction direction) {
    Objects.requireNonNull(range, "range");
    Objects.requireNonNull(direction, "direction");
    checkReadVersion(atVersion, "atVersion");
    return new ScanIterator(range, atVersion, direction == Direction.REVERSE);
  }

  /**
   * A lazy iterator over the live entries in {@code range} at {@link #version()}, in {@code
   * direction}: {@code iterator(range, version(), direction)}.
   *
   * @param range the keys to visit
   * @param direction ascending or descending key order
   * @return the iterator; it reads this immutable snapshot only
   * @throws NullPointerException if {@code range} or {@code direction} is null
   */
  public Iterator<Entry> iterator(KeyRange range, Direction direction) {
    return iterator(range, version, direction);
  }

  /**
   * Number of live keys in {@code range} at {@link #version()}, by a scan: {@code count(range,
   * version())}. (Unlike {@link #size()}, which is kept as a counter, this walks the range.)
   *
   * @param range the keys to count
   * @return the number of keys with a value, at least 0
   * @throws NullPointerException if {@code range} is null
   */
  public long count(KeyRange range) {
    return count(range, version);
  }

  /**
   * Number of live keys in {@code range} at {@code atVersion}, by a scan; throws like {@link
   * #iterator}.
   */
  public long count(KeyRange range, long atVersion) {
    Objects.requireNonNull(range, "range");
    checkReadVersion(atVersion, "atVersion");
    TreeCursor c = seek(range, false);
    long n = 0;
    for (; c.valid() && !range.aboveEnd(c.key(), c.prefix()); c.next()) {
      Version v = c.head().visibleAt(atVersion);
      if (v != null && v.value != null) {
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- writes

  /**
   * A transient over this snapshot, to apply batches and prunes and publish them at once with
   * {@link Transient#persistent()}. This snapshot is not affected.
   */
  public Transient asTransient() {
    return new Transient(this);
  }

  /**
   * This store after {@code batch}: a new snapshot at {@code version() + 1}, committed just after
   * the system clock's present reading (see {@link Transient#apply(WriteBatch)}). This snapshot is
   * not affected.
   *
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalArgumentException if a key or value is over its limit
   * @throws ConditionFailedException if a condition of the batch fails
   */
  public Snapshot apply(WriteBatch batch) {
    Transient t = asTransient();
    t.apply(batch);
    return t.persistent();
  }

  /**
   * This store without the history that only reads below {@code watermark} need. The new snapshot
   * answers every read at versions from {@code watermark} on exactly as this one does, and refuses
   * older ones with {@link VersionCompactedException}. This snapshot is not affected.
   *
   * <p>A prune costs about the changes between the old watermark and the new one that need it, not
   * the size of the store. Writes share the work: a write drops, for free, the history below the
   * version it supersedes when that version is at or below the watermark, so a prune visits only
   * tombstones and keys changed twice or more within the window. The price is that each key may
   * keep one version no read needs any more (one a write superseded, once the watermark passes that
   * write) until it is written again or a later prune visits it; {@link Stats#storedVersions()}
   * counts it.
   *
   * @param watermark the oldest version to keep readable, in [0, {@link #version()}]; at or below
   *     the current watermark nothing changes
   * @throws IllegalArgumentException if {@code watermark} is negative or above {@link #version()}
   */
  public Snapshot prune(long watermark) {
    Transient t = asTransient();
    t.prune(watermark);
    return t.persistent();
  }

  // ---------------------------------------------------------------- internals

  void checkReadVersion(long atVersion, String name) {
    if (atVersion < 0 || atVersion > version) {
      throw new IllegalArgumentException(
          name + " must be in [" + watermark + ", " + version + "], was " + atVersion);
    }
    if (atVersion < watermark) {
      throw new VersionCompactedException(atVersion, watermark);
    }
  }

  private void checkVersionRange(long fromVersion, long toVersion) {
    if (fromVersion > toVersion) {
      throw new IllegalArgumentException(
          "fromVersion " + fromVersion + " is after toVersion " + toVersion);
    }
    checkReadVersion(toVersion, "toVersion");
    checkReadVersion(fromVersion, "fromVersion");
  }

  /** A cursor on the first key of {@code range} in the given direction (maybe out of range). */
  private TreeCursor seek(KeyRange range, boolean reverse) {
    TreeCursor c = new TreeCursor(root, height);
    c.seekStart(range, reverse);
    return c;
  }

  private static byte[] utf8(String s) {
    return Objects.requireNonNull(s, "key").getBytes(StandardCharsets.UTF_8);
  }

  /** Walks a range of the tree, skipping keys without a value at the version read. */
  private final class ScanIterator implements Iterator<Entry> {
    private final KeyRange range;
    private final long atVersion;
    private final boolean reverse;
    private final TreeCursor cursor;
    private @Nullable Entry next;

    ScanIterator(KeyRange range, long atVersion, boolean reverse) {
      this.range = range;
      this.atVersion = atVersion;
      this.reverse = reverse;
      this.cursor = seek(range, reverse);
      advance();
    }

    private void advance() {
      next = null;
      while (cursor.valid()) {
        byte[] key = cursor.key();
        long kp = cursor.prefix();
        if (reverse ? range.belowStart(key, kp) : range.aboveEnd(key, kp)) {
          return;
        }
        Version v = cursor.head().visibleAt(atVersion);
        if (reverse) {
          cursor.prev();
        } else {
          cursor.next();
        }
        if (v != null && v.value != null) {
          next = new Entry(key, v.value, v.created(), v.version);
          return;
        }
      }
    }

    @Override
    public boolean hasNext() {
      return next != null;
    }

    @Override
    public Entry next() {
      Entry e = next;
      if (e == null) {
        throw new NoSuchElementException();
      }
      advance();
      return e;
    }
  }
}
