/**
 * The ZVerse store for Pekko typed: the writer and epoch actors behind the store facade.
 *
 * <p>Pekko and Scala jars carry no module descriptor; they resolve as the automatic modules their
 * manifests name ({@code pekko.actor.typed}, {@code scala.library}, ...).
 */
module zverse.actors {
  requires transitive zverse.engine;
  requires transitive pekko.actor.typed;
  requires transitive pekko.actor;
  requires transitive typesafe.config;
  requires transitive scala.library;
  requires org.slf4j;
  requires java.management;
  requires static org.jspecify;

  exports dev.zverse.actors;
}
