package dev.zverse.streams;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Snapshot;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * The snapshot source: on each pull, the newest snapshot not yet emitted, or the next one
 * published. Conflated by construction: it holds one reference (the newest snapshot), never a
 * queue, so a slow consumer skips the snapshots published while it was busy and never slows the
 * writer.
 */
final class SnapshotSourceStage extends GraphStage<SourceShape<Snapshot>> {
  private final ZVerseStore store;
  private final Outlet<Snapshot> out = Outlet.create("SnapshotSource.out");
  private final SourceShape<Snapshot> shape = SourceShape.of(out);

  SnapshotSourceStage(ZVerseStore store) {
    this.store = store;
  }

  @Override
  public SourceShape<Snapshot> shape() {
    return shape;
  }

  @Override
  public Attributes initialAttributes() {
    return Attributes.name("zverseSnapshots");
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    boolean closedAtStart = store.isClosed(); // see ChangeFeedStage.createLogic
    return new GraphStageLogic(shape) {
      // Set in preStart; a stage failed there runs no handler that reads them.
      @SuppressWarnings("NullAway.Init")
      private Wakeup wakeup;

      @SuppressWarnings("NullAway.Init")
      private Snapshot snap;

      /** The version of the last snapshot pushed; -1 before the first. */
      private long emitted = -1;

      {
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                advance();
              }
            });
      }

      @Override
      public void preStart() {
        if (closedAtStart) {
          failStage(new IllegalStateException("store [" + store.name() + "] is closed"));
          return;
        }
        wakeup = new Wakeup(createAsyncCallback(w -> onWakeup()));
        store.advanced().addPublishListener(wakeup);
        snap = store.advanced().lastPublished();
      }

      private void onWakeup() {
        wakeup.taken();
        advance();
      }

      private void advance() {
        boolean stopped = wakeup.isStopped();
        snap = wakeup.newest(snap);
        if (snap.version() > emitted) {
          if (isAvailable(out)) {
            emitted = snap.version();
            push(out, snap);
          }
        } else if (stopped) {
          completeStage();
        }
      }

      @Override
      public void postStop() {
        if (wakeup != null) {
          store.advanced().removePublishListener(wakeup);
        }
      }
    };
  }
}
