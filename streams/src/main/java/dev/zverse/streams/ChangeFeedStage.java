package dev.zverse.streams;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.VersionPin;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.jspecify.annotations.Nullable;

/**
 * The change feed: a source of one store's commits after a version, replayed and then live.
 *
 * <h2>Design</h2>
 *
 * The feed has one position, {@code cursor}: the last version it emitted (or skipped as empty). On
 * each pull it reads commit {@code cursor + 1} from the newest snapshot it knows and pushes it;
 * that is all. Replay and live are the same loop: while the store is ahead, each pull reads the
 * next commit out of the retained history; once caught up, the stage waits for a {@link Wakeup}
 * from the writer's next publish and goes on from the same cursor with the snapshot it brings.
 * There is no switch between two sources, so no gap and no duplicate can arise at one, and versions
 * come out in order. Nothing is buffered: a commit is read when it is about to be pushed.
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
 * <p><b>History stays while needed.</b> The feed pins the oldest version it still needs, {@code
 * needed(cursor)}: commit {@code cursor + 1}, or the state at {@code cursor} when it reads previous
 * values. So it can start wherever a read can ({@code after(W - 1)} reads commit {@code W}) and
 * holds one version less than a pin on its cursor would. It moves the pin up every {@code pinStep}
 * versions, and at once when the pin would hold anything the store's retention does not keep. A
 * feed that falls behind its limit fails with {@link ChangeFeedLagException} and lets go of its
 * pin: by default ({@code max-lag = retention}) once its needed version is older than retention
 * alone keeps by more than one group commit ({@code writer.max-group-writes}: one publish may bring
 * more versions than a small retention keeps), so that compaction wins over a slow consumer; with a
 * lag limit of its own, once it is more than {@code maxLag} versions behind, holding back at most
 * {@code maxLag + pinStep} versions. The lag is checked on every pull and every publish, so a
 * consumer that stops pulling altogether is caught as well.
 *
 * <p><b>Starting without a race and without blocking.</b> The pin is taken when the stream is
 * materialized, on the materializing thread ({@link #createLogic}), not later in {@code preStart}
 * on the stream's actor: a state read just before materializing is pinned as early as possible. A
 * feed {@linkplain ChangeFeedOptions#after(ReadTransaction) after a read transaction} takes a share
 * of the transaction's own pin there, so nothing can be pruned between the transaction's read and
 * the feed's start, and the caller may close the transaction as soon as materializing returns.
 * Taking a pin never waits: when the EpochActor is mid-decision ({@link
 * dev.zverse.actors.AdvancedOperations#tryPin} answers empty) the stage tries again after {@link
 * #RETRY}, on its timer. A feed refused at the start (compacted, too far behind, closed store,
 * closed transaction) fails its stage with the error; nothing is thrown from {@code preStart},
 * which Pekko would log as an ERROR.
 *
 * <p>A named gap: if materializing the graph fails after this stage's logic was created (another
 * stage of the same graph throws), the stage never starts or stops, and its pin stays until the
 * store closes. Pekko gives a stage no hook for that case.
 *
 * <p><b>End.</b> When the store's writer stops (the store closed), the feed emits what was
 * published up to then and completes. The pin and the listener go in {@code postStop}, whatever
 * ended the stage: completion, failure or cancellation.
 */
final class ChangeFeedStage extends GraphStage<SourceShape<CommitRecord>> {
  /** Empty commits skipped in one go before the stage yields to its other messages. */
  private static final int SKIP_BUDGET = 4096;

  /** The most snapshots kept to read commits from (see the class comment). */
  private static final int MAX_TRAIL = 256;

  /** The most versions the pin trails the cursor by, besides lag. */
  private static final long MAX_PIN_STEP = 1024;

  /** How long the stage waits before it tries again a pin whose decision was pending. */
  private static final Duration RETRY = Duration.ofMillis(1);

  /** Pins a feed from now tries on newer snapshots before it waits for {@link #RETRY}. */
  private static final int FROM_NOW_TRIES = 8;

  private final ZVerseStore store;
  private final ChangeFeedOptions options;
  private final @Nullable StreamsSettings settings;
  private final Outlet<CommitRecord> out = Outlet.create("ChangeFeed.out");
  private final SourceShape<CommitRecord> shape = SourceShape.of(out);

  /** {@code settings} null: read them from the materializer's actor system. */
  ChangeFeedStage(
      ZVerseStore store, ChangeFeedOptions options, @Nullable StreamsSettings settings) {
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
    // Runs when the stream is materialized, on the caller's thread: the pin taken here holds from
    // before materializing returns, and a close that comes between this and preStart (run later, on
    // the stream's actor) must not fail a feed started before it.
    Logic logic = new Logic();
    logic.start(store.isClosed());
    return logic;
  }

  private final class Logic extends TimerGraphStageLogic {
    private final KeyRange range = options.range();
    private final boolean previous = options.previousValues();
    private final boolean emitEmpty = options.emptyCommits();
    private final String owner = "change feed of store [" + store.name() + "] " + options;

    /** The feed's own lag limit in versions; 0 when retention bounds it. */
    private long maxLag;

    private long pinStep;

    // Set in preStart; a stage failed there runs no handler that reads it.
    @SuppressWarnings("NullAway.Init")
    private Wakeup wakeup;

    /** The feed's pin; null before the start and for a feed started on a stopped store. */
    private @Nullable VersionPin pin;

    /** Why the feed cannot start; failed in preStart. */
    private @Nullable Throwable refused;

    /** Whether the start position is settled ({@link #cursor} set, pinned if needed). */
    private boolean started;

    /** The newest snapshot the stage has seen; it reads every commit from it. */
    @SuppressWarnings("NullAway.Init") // set in begin(), before any handler reads it
    private Snapshot snap;

    /**
     * Snapshots seen, oldest first, all at or below {@link #snap}; the first that holds the next
     * commit is read.
     */
    private final ArrayDeque<Snapshot> trail = new ArrayDeque<>();

    /** The last version emitted or skipped. */
    private long cursor;

    Logic() {
      super(shape);
      setHandler(
          out,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (started) {
                advance();
              }
            }
          });
    }

    /** The oldest version the feed needs readable at {@code cursor}. */
    private long needed(long cursor) {
      return previous ? cursor : cursor + 1;
    }

    /**
     * Takes the start pin, on the materializing thread. Leaves {@link #refused} set, or {@link
     * #started} set, or neither: the EpochActor's decision is pending, and preStart tries again.
     */
    void start(boolean closedAtStart) {
      if (closedAtStart) {
        refused = new IllegalStateException("store [" + store.name() + "] is closed");
        return;
      }
      Optional<ReadTransaction> tx = options.transaction();
      try {
        if (tx.isPresent()) {
          try {
            pin = store.advanced().pin(tx.get(), owner);
            cursor = options.afterVersion();
            started = true;
          } catch (IllegalStateException e) {
            if (tx.get().isClosed()) {
              throw e;
            }
            startStopped();
          }
        } else {
          tryPin(FROM_NOW_TRIES);
        }
      } catch (RuntimeException e) {
        // The refusals the feed reports: a closed transaction or store, a transaction of another
        // store, a start after the latest version or below the watermark.
        refused = e;
      }
    }

    /** Tries the start pin of a feed after a version or from now; see {@link #start}. */
    private void tryPin(int fromNowTries) {
      if (options.isFromNow()) {
        for (int i = 0; i < fromNowTries && !started; i++) {
          long latest = store.advanced().lastPublished().version();
          try {
            Optional<VersionPin> p = store.advanced().tryPin(needed(latest), owner);
            if (p.isPresent()) {
              pin = p.get();
              cursor = latest;
              started = true;
            }
          } catch (VersionCompactedException raced) {
            // The EpochActor pruned past it meanwhile: a newer snapshot is published; take that.
          } catch (IllegalStateException stopped) {
            startStopped();
          }
        }
        return;
      }
      long after = options.afterVersion();
      Snapshot s = store.advanced().lastPublished();
      if (after > s.version()) {
        throw new IllegalArgumentException(
            "afterVersion must be in ["
                + Math.max(0, s.watermark() - (previous ? 0 : 1))
                + ", "
                + s.version()
                + "], was "
                + after);
      }
      try {
        Optional<VersionPin> p = store.advanced().tryPin(needed(after), owner);
        if (p.isPresent()) {
          pin = p.get();
          cursor = after;
          started = true;
        }
      } catch (VersionCompactedException e) {
        throw compacted(after, e.watermark());
      } catch (IllegalStateException stopped) {
        startStopped();
      }
    }

    /**
     * Starts a feed on a store that was closed and has stopped since the feed was materialized:
     * nothing prunes any more, so no pin is needed; the feed emits what the final snapshot holds
     * after its start, then completes.
     */
    private void startStopped() {
      Snapshot last = store.advanced().lastPublished();
      long after = options.isFromNow() ? last.version() : options.afterVersion();
      if (needed(after) < last.watermark()) {
        throw compacted(after, last.watermark());
      }
      cursor = after;
      started = true;
    }

    private ChangeFeedCompactedException compacted(long after, long watermark) {
      return new ChangeFeedCompactedException(
          after, needed(after), Math.max(watermark, store.retentionWatermark()));
    }

    @Override
    public void preStart() {
      if (refused != null) {
        failStage(refused);
        return;
      }
      StreamsSettings s =
          settings != null ? settings : StreamsSettings.create(materializer().system());
      OptionalLong lag = options.maxLag(s);
      maxLag = lag.orElse(0);
      long step = lag.orElse(store.settings().retentionVersions()) / 4;
      pinStep = Math.max(1, Math.min(MAX_PIN_STEP, step));
      AsyncCallback<Wakeup> callback = createAsyncCallback(w -> onWakeup());
      wakeup = new Wakeup(callback);
      // Listen before reading the first snapshot: every publish after that read wakes the stage.
      store.advanced().addPublishListener(wakeup);
      if (started) {
        begin();
      } else {
        scheduleOnce(RETRY, RETRY);
      }
    }

    @Override
    public void onTimer(Object key) {
      try {
        tryPin(1);
      } catch (RuntimeException e) {
        failStage(e);
        return;
      }
      if (started) {
        begin();
      } else {
        scheduleOnce(RETRY, RETRY);
      }
    }

    /** The start is settled: reads the first snapshot and checks the lag. */
    private void begin() {
      // Read after the pin: this and every later snapshot can read from needed(cursor) on.
      snap = store.advanced().lastPublished();
      trail.addLast(snap);
      assert pin == null || snap.watermark() <= needed(cursor)
          : "watermark " + snap.watermark() + " above the pin at " + needed(cursor);
      // A feed that starts already too far behind fails now, not at the first pull or publish: it
      // must not hold its pin on a quiet store whose consumer never pulls.
      if (!checkLag(snap.version())) {
        return;
      }
      advance();
    }

    private void onWakeup() {
      wakeup.taken();
      if (started) {
        advance();
      }
    }

    /**
     * Fails the stage if the feed is further behind than its limit, with where history starts once
     * it lets go.
     *
     * @return true if within the limit
     */
    private boolean checkLag(long latest) {
      if (maxLag > 0) {
        if (latest - cursor <= maxLag) {
          return true;
        }
      } else if (!holdsPastRetention(latest)) {
        return true;
      }
      failStage(new ChangeFeedLagException(cursor, latest, maxLag, store.retentionWatermark()));
      return false;
    }

    /**
     * Whether the version the feed needs is older than the store's retention keeps, by more than
     * one group commit ({@code writer.max-group-writes} versions): one publish may bring more
     * versions than the store retains, and a feed that keeps up is then behind retention through no
     * slowness of its consumer. Retention by count alone keeps {@code latest - retentionVersions +
     * 1} on; retention by time may keep more, never less, so that cheap bound is checked before the
     * exact one.
     */
    private boolean holdsPastRetention(long latest) {
      long slack = store.settings().maxGroupWrites();
      long byCount = latest - store.settings().retentionVersions() + 1;
      long need = needed(cursor) + slack;
      return need < byCount && need < store.retentionWatermark();
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
      if (!checkLag(latest)) {
        return;
      }
      if (!isAvailable(out)) {
        return;
      }
      int budget = SKIP_BUDGET;
      while (cursor < latest) {
        CommitRecord r = readable(cursor + 1).commit(cursor + 1, range, previous);
        cursor++;
        movePin(latest);
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

    /**
     * Moves the pin up to what the feed needs, every {@link #pinStep} versions and, for a feed
     * bounded by retention, at once when it would hold a version that retention by count drops.
     */
    private void movePin(long latest) {
      if (pin == null) {
        return;
      }
      long need = needed(cursor);
      long pinned = pin.version();
      long keptByCount = latest - store.settings().retentionVersions() + 1;
      boolean pastRetention = maxLag == 0 && need > pinned && pinned < keptByCount;
      if (need - pinned >= pinStep || pastRetention) {
        // False when the EpochActor is mid-decision: the old pin stays valid; retried next step.
        pin.moveTo(need);
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
        store.advanced().removePublishListener(wakeup);
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
