/**
 * The ZVerse durable-state plug-in for Pekko Persistence and its query side.
 *
 * <p>Pekko loads the plug-in by the class name in its configuration; the class is public in the
 * exported package, so no {@code opens} is needed.
 */
module zverse.persistence {
  requires transitive zverse.streams;
  requires transitive pekko.persistence;
  requires transitive pekko.persistence.query;
  requires static org.jspecify;

  exports dev.zverse.persistence;
}
