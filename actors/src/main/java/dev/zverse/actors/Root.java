package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * The one published root of a store: the latest {@link Snapshot}, written by the WriterActor and
 * read by everyone else.
 *
 * <h2>Memory ordering</h2>
 *
 * A snapshot's tree was built in place by a writer-confined {@code Transient}, with plain writes to
 * non-final fields and arrays. The writer makes it visible with one release store ({@link
 * #setSnapshotRelease}); a reader takes it with one acquire load ({@link #snapshotAcquire}). The
 * pair orders every plain write the writer made while building the tree before any read the reader
 * makes through the loaded reference, so a reader never sees a half-built node. No lock, no CAS:
 * one writer, any number of readers.
 *
 * <p>Recency: the writer replies to a write (completing a future, a CAS) only after its release
 * store, so any thread that has learned of the reply happens-after the store and loads this
 * snapshot or a later one. That is what makes "a read begun after a write was acknowledged sees it"
 * hold.
 *
 * <p>Thread-safe: one writer (the store's WriterActor), any number of readers.
 */
final class Root {
  private static final VarHandle SNAPSHOT;

  static {
    try {
      SNAPSHOT = MethodHandles.lookup().findVarHandle(Root.class, "snapshot", Snapshot.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * Told of each publish after the release store; lives as long as the store, across writer
   * restarts.
   */
  private final PublishListeners listeners = new PublishListeners();

  /** How many snapshots were published; written by the writer only, read by anyone. */
  private final AtomicLong publishes = new AtomicLong();

  /** Accessed only through {@link #SNAPSHOT}. */
  @SuppressWarnings("unused")
  private Snapshot snapshot;

  Root(Snapshot initial) {
    // Safe publication of the initial value is the store constructor's job (final field). A plain
    // write, as SNAPSHOT.set would be.
    this.snapshot = initial;
  }

  /** The latest published snapshot: an acquire load, pairing with {@link #setSnapshotRelease}. */
  Snapshot snapshotAcquire() {
    return (Snapshot) SNAPSHOT.getAcquire(this);
  }

  /** The store's publish listeners. */
  PublishListeners listeners() {
    return listeners;
  }

  /** Publishes {@code s}: a release store, after every write that built it. Writer only. */
  void setSnapshotRelease(Snapshot s) {
    // One writer: a plain read and a store count without a CAS. Counted before the release store
    // of s, so that whoever acquires s and then reads the count sees this publish counted.
    publishes.setRelease(publishes.getPlain() + 1);
    SNAPSHOT.setRelease(this, s);
  }

  /**
   * Publishes {@code s} and, if {@code wake}, then tells the publish listeners. Writer only.
   *
   * <p>The release store of {@code s} and the read of the listener list form a Dekker-style
   * handshake with {@link PublishListeners#add} followed by {@link #snapshotAcquire} (a change feed
   * registering, then reading the latest snapshot): each side writes its variable, then reads the
   * other's. Without a full fence between the two steps on each side, the writer's read of the list
   * may pass its own store of {@code s} (a store still in a store buffer), the feed read the old
   * snapshot, and neither sees the other: the feed would wait for a publish that already happened.
   * {@code PublishHandshake} in the jcstress module tests it.
   */
  void publish(Snapshot s, boolean wake, Logger log, String storeName) {
    setSnapshotRelease(s);
    if (wake) {
      VarHandle.fullFence();
      listeners.published(s, log, storeName);
    }
  }

  /**
   * How many snapshots the writer published since the store opened (idle prunes too); read after
   * {@link #snapshotAcquire}, it counts the publish of the snapshot loaded.
   */
  long publishes() {
    return publishes.getAcquire();
  }
}
