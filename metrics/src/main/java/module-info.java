/**
 * Micrometer binders of a ZVerse store's figures and of a cluster store's replica. The cluster
 * module is read only if present ({@code requires static}): only {@code ClusterStoreMeterBinder}
 * needs it.
 */
module zverse.metrics {
  requires transitive zverse.actors;
  requires transitive micrometer.core;
  requires static zverse.cluster;
  requires static org.jspecify;

  exports dev.zverse.metrics;
}
