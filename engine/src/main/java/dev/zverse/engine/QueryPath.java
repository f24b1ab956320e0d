package dev.zverse.engine;

/**
 * How {@link Snapshot#changes(KeyRange, long, long, QueryPath)} finds the changes in a box of keys
 * and versions. Every path gives the same answer; they differ in cost, and each wins somewhere.
 */
public enum QueryPath {
  /** Let the store estimate the cost of each path and take the cheapest. */
  AUTO,
  /**
   * The Z-index: jump through the sealed segments with BIGMIN, then walk the unsealed commits. Wins
   * for boxes that are narrow in both keys and versions.
   */
  Z_INDEX,
  /**
   * Visit every key in the range in the tree and walk its version chain. Wins for few keys over
   * many versions.
   */
  KEY_RANGE_WALK,
  /**
   * Visit every commit in the version window and pick its keys in the range. Wins for few versions
   * over many keys.
   */
  COMMIT_WALK
}
