/**
 * The ZVerse engine: the multi-version store's data structures and durability, on the JDK alone.
 *
 * <p>Only the API package is exported; every implementation type in it is package-private.
 */
module zverse.engine {
  requires static transitive org.jspecify;

  exports dev.zverse.engine;
}
