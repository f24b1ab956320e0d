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
 * <p>Immutable. {@code keys} are the tree's own arrays, sorted in key order and distinct, and
 * {@code values[i]} belongs to {@code keys[i]}; neither is handed out.
 */
final class Commit {
  final long version;
  final long timeMillis;
  final byte[][] keys;
  final byte[][] values;

  Commit(long version, long timeMillis, byte[][] keys, byte[][] values) {
    if (keys.length != values.length) {
      throw new IllegalArgumentException(keys.length + " keys but " + values.length + " values");
    }
    this.version = version;
    this.timeMillis = timeMillis;
    this.keys = keys;
    this.values = values;
  }
}
