package dev.zverse.engine;

/**
 * One committed write batch as the commit log keeps it: its version, its commit time, the keys it
 * changed and what it left under each: the value put, or {@code null} for a tombstone.
 *
 * <p>The values are references to the arrays the version chains hold (no copy): reading a commit,
 * for a change feed, a commit walk, a Z-index seal or the durable log, needs no tree descent per
 * change. The commit log keeps commits at or above the watermark only, whose values the chains keep
 * anyway, so the references retain nothing extra.
 *
 * <p>{@link #trims} marks the changes whose keys the prune that passes this version must visit
 * (see {@link Transient#prune}); most commits list none.
 *
 * <p>Immutable. {@code keys} are the tree's own arrays, sorted in key order and distinct, and
 * {@code values[i]} belongs to {@code keys[i]}; none of the arrays is handed out.
 */
final class Commit {
  final long version;
  final long timeMillis;
  final byte[][] keys;
  final byte[][] values;
  /**
   * A bit set over {@link #keys} (bit {@code i} of word {@code i >>> 6}): the changes that leave
   * more history below them than one superseded version (a tombstone, or a put over a key changed
   * twice within the retention), whose chains a prune past this version trims; {@code null} when
   * there are none, {@link #ALL} when every change is one (then no bit set is kept: a store that
   * never prunes, with keys written again and again, marks every change).
   */
  final long[] trims;

  /** {@link #trims} when every change of the commit is to be trimmed. */
  static final long[] ALL = new long[0];

  /** A commit whose every change is trimmed by the prune that passes it. */
  Commit(long version, long timeMillis, byte[][] keys, byte[][] values) {
    this(version, timeMillis, keys, values, all(keys.length));
  }

  Commit(long version, long timeMillis, byte[][] keys, byte[][] values, long[] trims) {
    if (keys.length != values.length) {
      throw new IllegalArgumentException(keys.length + " keys but " + values.length + " values");
    }
    this.version = version;
    this.timeMillis = timeMillis;
    this.keys = keys;
    this.values = values;
    this.trims = trims;
  }

  private static long[] all(int n) {
    return n == 0 ? null : ALL;
  }

  /** Whether the change of {@code keys[i]} is to be trimmed; see {@link #trims}. */
  boolean trims(int i) {
    return trims == ALL || (trims != null && (trims[i >>> 6] & (1L << i)) != 0);
  }
}
