/** ZVerse change feeds and write flows as Pekko Streams stages. */
module zverse.streams {
  requires transitive zverse.actors;
  requires transitive pekko.stream;
  requires static org.jspecify;

  exports dev.zverse.streams;
}
