package dev.zverse.engine;

/**
 * One committed write batch as the commit log keeps it: its version, its commit time and the keys it
 * changed. The values are not repeated here: the key's version chain holds the node of this version.
 *
 * <p>Immutable. {@code keys} are the tree's own arrays, sorted in key order and distinct; never
 * handed out.
 */
final class Commit {
  final long version;
  final long timeMillis;
  final byte[][] keys;

  Commit(long version, long timeMillis, byte[][] keys) {
    this.version = version;
    this.timeMillis = timeMillis;
    this.keys = keys;
  }
}
