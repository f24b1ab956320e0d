/**
 * ZVerse across a Pekko Cluster: the writer as a cluster singleton and the wire format.
 *
 * <p>Pekko's cluster jars carry no module descriptor; they resolve as the automatic modules their
 * manifests name ({@code pekko.cluster.typed}, ...).
 */
module zverse.cluster {
  requires transitive zverse.actors;
  requires transitive zverse.streams;
  requires pekko.cluster.typed;
  requires pekko.cluster;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.zverse.cluster;
}
