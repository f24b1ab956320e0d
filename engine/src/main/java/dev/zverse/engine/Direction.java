package dev.zverse.engine;

/** The order in which a scan visits keys. */
public enum Direction {
  /** Ascending unsigned lexicographic key order. */
  FORWARD,
  /** Descending key order. */
  REVERSE
}
