package dev.zverse.engine;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One committed write batch as a reader sees it: its version, its commit time and its changes (each
 * a key with its new value or a tombstone), in key order, optionally with each key's previous
 * value. What a change feed emits; read with {@link Snapshot#commit(long, KeyRange, boolean)} or
 * {@link Snapshot#commits(long, long, KeyRange, boolean)}.
 *
 * <p>A record read through a {@link KeyRange} holds only the changes to keys in that range, and may
 * hold none: every version is a commit, even one whose batch changed nothing (a delete of an absent
 * key, a range delete that matched nothing) or nothing in the range.
 *
 * <p>Immutable. Keys and values go out as copies, as in {@link Change}.
 */
public final class CommitRecord {
  private final long version;
  private final long timeMicros;
  private final Change[] changes;

  /** Parallel to {@link #changes}; {@code null} when previous values were not read. */
  private final byte @Nullable [][] previous;

  private CommitRecord(
      long version, long timeMicros, Change[] changes, byte @Nullable [][] previous) {
    this.version = version;
    this.timeMicros = timeMicros;
    this.changes = changes;
    this.previous = previous;
  }

  /**
   * Reads the commit of {@code v} from {@code s}: keys and values come from the commit log;
   * previous values, if asked for, from the key's version chain, one tree descent per key in {@code
   * range}. The caller has checked that {@code v} is retained (and, for previous values, that
   * {@code v - 1} is).
   */
  static CommitRecord read(Snapshot s, long v, KeyRange range, boolean withPrevious) {
    Commit commit = s.commits.get(v);
    byte[][] keys = commit.keys;
    int from = range.firstNotBelowStart(keys);
    int to = from;
    while (to < keys.length && !range.aboveEnd(keys[to])) {
      to++;
    }
    int n = to - from;
    Change[] changes = new Change[n];
    byte @Nullable [][] previous = withPrevious ? new byte[n][] : null;
    for (int i = 0; i < n; i++) {
      byte[] key = keys[from + i];
      changes[i] = new Change(key, v, commit.values[from + i]);
      if (previous != null) {
        Version node = TreeCursor.changeAt(s.root, s.height, key, v);
        // Retained for v above the watermark: pruning keeps the newest change below it, unless that
        // was a tombstone, and then the key was absent before v, which null says as well.
        previous[i] = node.next() == null ? null : node.next().value;
      }
    }
    return new CommitRecord(v, commit.timeMicros, changes, previous);
  }

  /** A commit without previous values, as a log record holds it; {@code changes} handed over. */
  static CommitRecord of(long version, long timeMicros, Change[] changes) {
    return new CommitRecord(version, timeMicros, changes, null);
  }

  /** The changes themselves, not to be changed or handed out. */
  Change[] changesRef() {
    return changes;
  }

  /** The commit time in microseconds since the epoch; see {@link #commitTime()}. */
  long timeMicros() {
    return timeMicros;
  }

  /** The version this commit took. */
  public long version() {
    return version;
  }

  /**
   * When the writer applied the batch, to the microsecond: the same as {@link
   * Snapshot#commitTime(long)}, which says how it is chosen.
   *
   * @return the commit time, a whole number of microseconds, after every earlier commit's
   */
  public Instant commitTime() {
    return Commit.instant(timeMicros);
  }

  /** The changes, one per key, in key order; unmodifiable, possibly empty. */
  public List<Change> changes() {
    return Collections.unmodifiableList(Arrays.asList(changes));
  }

  /** Number of changes held. */
  public int size() {
    return changes.length;
  }

  /**
   * Whether no change is held: the batch changed nothing, or nothing in the range it was read with.
   */
  public boolean isEmpty() {
    return changes.length == 0;
  }

  /** Whether this record was read with previous values, so that {@link #previousValue} answers. */
  public boolean hasPreviousValues() {
    return previous != null;
  }

  /**
   * A copy of the value the key of change {@code index} had just before this commit.
   *
   * @param index in [0, {@link #size()})
   * @return the previous value, or {@code null} if the key had none (absent or deleted)
   * @throws IndexOutOfBoundsException if {@code index} is out of bounds
   * @throws IllegalStateException if this record was read without previous values
   */
  public byte @Nullable [] previousValue(int index) {
    byte[] p = previousRef(index);
    return p == null ? null : p.clone();
  }

  /** {@link #previousValue(int)} decoded as UTF-8; throws like it. */
  public @Nullable String previousValueUtf8(int index) {
    byte[] p = previousRef(index);
    return p == null ? null : new String(p, StandardCharsets.UTF_8);
  }

  private byte @Nullable [] previousRef(int index) {
    if (previous == null) {
      throw new IllegalStateException(
          "commit " + version + " was read without previous values; ask for them when reading it");
    }
    return previous[index];
  }

  /** Equal when version, commit time, changes and previous values (or their absence) are. */
  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof CommitRecord c
        && version == c.version
        && timeMicros == c.timeMicros
        && Arrays.equals(changes, c.changes)
        && Arrays.deepEquals(previous, c.previous);
  }

  @Override
  public int hashCode() {
    return 31 * Long.hashCode(version) + Arrays.hashCode(changes);
  }

  @Override
  public String toString() {
    return "commit " + version + " at " + commitTime() + " " + Arrays.toString(changes);
  }
}
