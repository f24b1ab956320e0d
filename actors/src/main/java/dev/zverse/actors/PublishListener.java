package dev.zverse.actors;

import dev.zverse.engine.Snapshot;

/**
 * Told of every snapshot a store publishes with a new version, without polling: the hook that
 * change feeds and snapshot sources wake on. A publish that moves no version (a prune of an idle
 * store) tells nobody. Register with {@link AdvancedOperations#addPublishListener}.
 *
 * <p>Both methods run on the thread that changes the store, right after the new snapshot became
 * visible and before the writers are answered: the WriterActor's, or the caller's thread of a write
 * that found the writer idle and ran there ({@code writer.caller-runs}, see {@link
 * ZVerseStore#write(dev.zverse.engine.WriteBatch)}), so an application thread or another actor's
 * may run them. They must return at once and never block: hand the snapshot to your own thread or
 * stage (a volatile field and a wake-up flag, a stream stage's async callback). Every listener of
 * the store is called in turn, so a slow listener delays every write. An exception thrown by a
 * listener is logged and otherwise ignored.
 */
public interface PublishListener {
  /**
   * The store published {@code snapshot}; every later call passes a snapshot of a higher version.
   * Several commits may be published at once (group commit): versions can skip.
   *
   * @param snapshot the new latest snapshot
   */
  void published(Snapshot snapshot);

  /**
   * The store's writer stopped (the store was closed, or its actor system stopped): {@code last} is
   * its final snapshot and nothing is published after it. Called exactly once per registration, at
   * once (on the registering thread) if the writer had stopped before the listener was added.
   *
   * @param last the store's final snapshot
   */
  void stopped(Snapshot last);
}
