/** A Micrometer binder of a ZVerse store's figures. */
module zverse.metrics {
  requires transitive zverse.actors;
  requires transitive micrometer.core;
  requires static org.jspecify;

  exports dev.zverse.metrics;
}
