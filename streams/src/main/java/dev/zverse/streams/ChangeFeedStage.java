package dev.zverse.streams;

import dev.zverse.actors.VersionPin;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import java.util.ArrayDeque;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * The change feed: a source of one store's commits after a version, replayed and then live.
 *
 * <h2>Design</h2>
 *
 * The feed has one position, {@code cursor}: the last version it emitted (or skipped as empty). On
 * each pull it reads commit {@code cursor + 1} from the newest snapshot it knows and pushes it; that
 * is all. Replay and live are the same loop: while the store is ahead, each pull reads the next
 * commit out of the retained history; once caught up, the stage waits for a {@link Wakeup} from the
 * writer's next publish and goes on from the same cursor with the snapshot it brings. There is no
 * switch between two sources, so no gap and no duplicate can arise at one, and versions come out in
 * order. Nothing is buffered: a commit is read when it is about to be pushed.
 *
 * <p><b>Which snapshot to read from.</b> Any snapshot at or above version {@code v} answers commit
 * {@code v} alike, but not at the same cost: each change is found by walking its key's version
 * chain from the newest node down to {@code v}, so reading from the latest snapshot would cost a
 * lagging feed one step per newer change to the key, and a feed that falls behind would fall
 * further. So the stage keeps a short trail of the snapshots it was woken with (at most {@value
 * #MAX_TRAIL}; when full, the newest entry is replaced) and reads each commit from the oldest one
 * that contains it: the walk then passes only the changes of one publish (one group commit) or so.
 * The trail holds nothing the pin does not already keep readable, apart from superseded tree paths
 * between those snapshots, and it empties as the feed catches up.
 *
 * <p><b>History stays while needed.</b> When it starts, the feed pins {@code afterVersion} ({@link
 * ZVerseStore#pin}), so retention cannot prune what it has not read; it moves the pin up behind the
 * cursor every {@code pinStep} versions. A feed that falls more than {@code maxLag} versions behind
 * the latest version fails with {@link ChangeFeedLagException} and lets go of its pin: one stuck
 * consumer holds back at most {@code maxLag + pinStep} versions. The lag is checked on every pull and
 * every publish, so a consumer that stops pulling altogether is caught as well.
 *
 * <p><b>End.</b> When the store's writer stops (the store closed), the feed emits what was published
 * up to then and completes. The pin and the listener go in {@code postStop}, whatever ended the
 * stage: completion, failure or cancellation.
 */
final class ChangeFeedStage extends GraphStage<SourceShape<CommitRecord>> {
  /** Empty commits skipped in one go before the stage yields to its other messages. */
  private static final int SKIP_BUDGET = 4096;
  /** The most snapshots kept to read commits from (see the class comment). */
  private static final int MAX_TRAIL = 256;
  /** The most versions the pin trails the cursor by, besides lag. */
  private static final long MAX_PIN_STEP = 1024;

  private final ZVerseStore store;
  private final ChangeFeedOptions options;
  private final StreamsSettings settings;
  private final Outlet<CommitRecord> out = Outlet.create("ChangeFeed.out");
  private final SourceShape<CommitRecord> shape = SourceShape.of(out);

  /** {@code settings} null: read them from the materializer's actor system. */
  ChangeFeedStage(ZVerseStore store, ChangeFeedOptions options, StreamsSettings settings) {
    this.store = store;
    this.options = options;
    this.settings = settings;
  }

  @Override
  public SourceShape<CommitRecord> shape() {
    return shape;
  }

  @Override
  public Attributes initialAttributes() {
    return Attributes.name("zverseChangeFeed");
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    // Decided when the stream is materialized, in the caller's thread: a close that comes between
    // this and preStart (run later, on the stream's actor) must not fail a feed started before it.
    return new Logic(store.isClosed());
  }

  private final class Logic extends GraphStageLogic {
    private final KeyRange range = options.range();
    private final boolean previous = options.previousValues();
    private final boolean emitEmpty = options.emptyCommits();
    private long maxLag;
    private long pinStep;
    private Wakeup wakeup;
    private VersionPin pin;
    /** The newest snapshot the stage has seen; it reads every commit from it. */
    private Snapshot snap;
    /** Snapshots seen, oldest first, all at or below {@link #snap}; the first that holds the next commit is read. */
    private final ArrayDeque<Snapshot> trail = new ArrayDeque<>();
    /** The last version emitted or skipped. */
    private long cursor;

    /** Whether the store was closed when the feed was materialized. */
    private final boolean closedAtStart;

    Logic(boolean closedAtStart) {
      super(shape);
      this.closedAtStart = closedAtStart;
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
      StreamsSettings s = settings != null ? settings : StreamsSettings.create(materializer().system());
      maxLag = options.maxLag(s);
      pinStep = Math.max(1, Math.min(MAX_PIN_STEP, maxLag / 4));
      AsyncCallback<Wakeup> callback = createAsyncCallback(w -> onWakeup());
      wakeup = new Wakeup(callback);
      // Listen before reading the first snapshot: every publish after that read wakes the stage.
      store.addPublishListener(wakeup);
      String owner = "change feed of store [" + store.name() + "] " + options;
      try {
        if (options.isFromNow()) {
          for (; ; ) {
            Snapshot latest = store.lastPublished();
            try {
              pin = store.pin(latest.version(), owner);
              break;
            } catch (VersionCompactedException raced) {
              // The EpochActor pruned past it meanwhile: a newer snapshot is published; take that.
            }
          }
        } else {
          pin = store.pin(options.afterVersion(), owner);
        }
        cursor = pin.version();
      } catch (IllegalStateException stoppedMeanwhile) {
        // Closed and stopped since the feed was materialized: nothing prunes any more, so no pin
        // is needed; the feed emits what the final snapshot holds after its start, then completes.
        Snapshot last = store.lastPublished();
        cursor = options.isFromNow() ? last.version() : options.afterVersion();
        if (cursor > last.version()) {
          throw new IllegalArgumentException(
              "afterVersion must be at most the latest version " + last.version() + ", was " + cursor);
        }
        if (cursor < last.watermark()) {
          throw new VersionCompactedException(cursor, last.watermark());
        }
      }
      // Read after the pin: this and every later snapshot can read from cursor on.
      snap = store.lastPublished();
      trail.addLast(snap);
      assert snap.watermark() <= cursor : "watermark " + snap.watermark() + " above pin " + cursor;
      // A feed that starts already too far behind fails now, not at the first pull or publish: it
      // must not hold its pin on a quiet store whose consumer never pulls.
      if (snap.version() - cursor > maxLag) {
        failStage(new ChangeFeedLagException(cursor, snap.version(), maxLag, snap.watermark()));
      }
    }

    private void onWakeup() {
      wakeup.taken();
      advance();
    }

    /** Checks the lag, then pushes the next commit if pulled, or completes if the store is done. */
    private void advance() {
      boolean stopped = wakeup.isStopped(); // before newest(): then it includes the final snapshot
      Snapshot newest = wakeup.newest(snap);
      if (newest != snap) {
        snap = newest;
        if (trail.size() >= MAX_TRAIL) {
          trail.pollLast();
        }
        trail.addLast(newest);
      }
      long latest = snap.version();
      if (latest - cursor > maxLag) {
        failStage(new ChangeFeedLagException(cursor, latest, maxLag, snap.watermark()));
        return;
      }
      if (!isAvailable(out)) {
        return;
      }
      int budget = SKIP_BUDGET;
      while (cursor < latest) {
        CommitRecord r = readable(cursor + 1).commit(cursor + 1, range, previous);
        cursor++;
        if (pin != null && cursor - pin.version() >= pinStep) {
          // False when the EpochActor is mid-decision: the old pin stays valid; retried next step.
          pin.moveTo(cursor);
        }
        if (emitEmpty || !r.isEmpty()) {
          push(out, r);
          return;
        }
        if (--budget == 0) {
          // A long run of commits outside the range: let other messages (cancel) in, then go on.
          wakeup.poke();
          return;
        }
      }
      if (stopped) {
        completeStage();
      }
    }

    /** The oldest snapshot of the trail that holds version {@code v}. */
    private Snapshot readable(long v) {
      Snapshot first;
      while ((first = trail.peekFirst()) != null && first.version() < v) {
        trail.pollFirst();
      }
      return first != null ? first : snap;
    }

    @Override
    public void postStop() {
      if (wakeup != null) {
        store.removePublishListener(wakeup);
      }
      if (pin != null) {
        pin.close();
      }
    }
  }

  @Override
  public String toString() {
    return "ChangeFeed[" + store.name() + ", " + options + "]";
  }
}
