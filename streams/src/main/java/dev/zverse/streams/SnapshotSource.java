package dev.zverse.streams;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Snapshot;
import java.util.Objects;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The latest snapshot of a store after each publish, for pipelines that care only about the newest
 * state (a cache to refresh, a view to redraw).
 *
 * <p>The source first emits the store's latest snapshot, then, on each pull, the newest snapshot
 * published since the last one it emitted, waiting for the next publish if there is none. It is
 * conflated: a consumer that is busy while several snapshots are published gets only the newest of
 * them, and the source holds only that one reference, never a queue. Versions strictly increase
 * from element to element but may skip (group commit publishes several versions at once, and
 * conflation drops snapshots). The writer is never slowed: it only sets a flag per source.
 *
 * <p>Completes once the store is closed and its final snapshot was emitted. Materializing it on a
 * closed store fails the stream with {@link IllegalStateException}.
 */
public final class SnapshotSource {
  private SnapshotSource() {}

  /**
   * A source of the latest snapshots of {@code store}.
   *
   * @param store the store
   * @return a source; each materialization follows the store on its own
   * @throws NullPointerException if {@code store} is null
   */
  public static Source<Snapshot, NotUsed> create(ZVerseStore store) {
    Objects.requireNonNull(store, "store");
    return Source.fromGraph(new SnapshotSourceStage(store));
  }
}
