package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.jspecify.annotations.Nullable;

/**
 * Turns the retention policy and the pinned versions of a store into its watermark, which the
 * writer prunes to.
 *
 * <h2>Design</h2>
 *
 * The EpochActor exchanges no message with the writer or a reader while the store works. It reads
 * the latest snapshot from the {@link Root} on each {@code epoch.tick}; readers register their pins
 * in {@link Pins}, which it scans then:
 *
 * <ol>
 *   <li>the retention target is the lower of what the two rules want kept: the newest {@code
 *       retention.versions} versions, and (if {@code retention.duration} is set) the version a read
 *       "as of now minus the duration" needs, found with {@code Snapshot.versionAt} over the commit
 *       times;
 *   <li>if the target is above the current watermark it is proposed (see {@link Pins} for the race
 *       this closes), the pins are scanned, and the watermark becomes the lower of the target and
 *       the oldest pinned version, never lower than before;
 *   <li>the decision goes to {@link Pins#decide}, where the writer picks it up when it opens its
 *       next group. Only when no write is pending (the writer is idle) and the root's watermark is
 *       behind the decision does the writer get a {@link WriterActor.PruneIfIdle}, so that an idle
 *       store frees its history too; a watermark lost in a failed group is picked up again the same
 *       way.
 * </ol>
 *
 * The same scan logs a warning for each pin older than {@code epoch.long-pin-warning} that holds
 * back at least one version, with its age, its owner and how many versions it holds back from
 * pruning, and repeats it every such interval while the pin stays open: long-held readers are how
 * an MVCC store runs out of memory.
 *
 * <p>It ticks with one scheduled message at a time rather than a periodic timer, so that on {@link
 * Stop} it knows whether a tick is still on its way and waits for it before stopping: nothing is
 * left in its mailbox to become a dead letter. It answers the writer only then, after its last
 * nudge. It logs under {@code dev.zverse.actors.EpochActor}.
 *
 * <p>Actor-confined.
 */
final class EpochActor extends AbstractBehavior<EpochActor.Command> {

  /** The EpochActor's protocol. */
  interface Command {}

  /**
   * The store's writer introduces itself, once: it is nudged when idle ({@link
   * WriterActor.PruneIfIdle}).
   *
   * @param writer the writer
   */
  record Attach(ActorRef<WriterActor.Command> writer) implements Command {}

  /**
   * Asks for the store's {@link EpochStats}.
   *
   * @param replyTo receives the stats
   */
  record GetStats(ActorRef<EpochStats> replyTo) implements Command {}

  /**
   * Stop, and tell {@code replyTo} once nothing more will come from here: sent by the writer once
   * it is drained and closing, so that no nudge reaches a stopped writer.
   *
   * @param replyTo told {@link WriterActor.EpochStopped} after the last nudge; null when the writer
   *     has stopped already (the actor system stopped it), so there is nobody to tell
   */
  record Stop(@Nullable ActorRef<WriterActor.Command> replyTo) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  /**
   * What the actor keeps across its restarts: the one tick that is scheduled or on its way (a
   * restart would otherwise start a second one), the writer, and the stop it is carrying out.
   * Actor-confined.
   */
  private static final class Lifecycle {
    /** The writer, once it {@linkplain Attach attached}; null before. */
    @Nullable ActorRef<WriterActor.Command> writer;

    /** The scheduled tick, or null while none is scheduled or in the mailbox. */
    @Nullable Cancellable pendingTick;

    /** Set by {@link Stop} while a tick that could not be cancelled is still on its way. */
    @Nullable Stop stopping;
  }

  /**
   * Everything the EpochActor is started with.
   *
   * @param gate the store's write gate: no write pending means the writer is idle
   */
  record Setup(
      String storeName,
      StoreSettings settings,
      Root root,
      Pins pins,
      WriteGate gate,
      CompletableFuture<Done> stopped) {}

  /** What one scan of the pins found. */
  private record Scan(int count, long oldestVersion, long oldestOpenedMillis) {}

  static Behavior<Command> create(Setup setup) {
    Lifecycle lifecycle = new Lifecycle();
    return Behaviors.supervise(
            Behaviors.<Command>setup(
                ctx -> {
                  // Pekko would name the logger after the class that first logs through it (or
                  // ActorCell, from a timer): fix it, so that users find it under dev.zverse.
                  ctx.setLoggerName(EpochActor.class);
                  return new EpochActor(ctx, setup, lifecycle);
                }))
        .onFailure(Throwable.class, SupervisorStrategy.restart());
  }

  private final Setup setup;
  private final Lifecycle lifecycle;
  private final long longPinMillis;

  /** The root as the last tick read it. */
  private Snapshot latest;

  /** The highest watermark decided (or published); never goes down. */
  private long decided;

  private EpochActor(ActorContext<Command> context, Setup setup, Lifecycle lifecycle) {
    super(context);
    this.setup = setup;
    this.lifecycle = lifecycle;
    if (lifecycle.pendingTick == null) {
      scheduleTick(); // after a restart, the tick still on its way schedules the next one
    }
    this.longPinMillis = setup.settings().longPinWarning().toMillis();
    this.latest = setup.root().snapshotAcquire();
    // After a restart, go on from the last decision (a prune to it may still be in flight), not
    // from a proposal a failed tick left: pins validated before that proposal were never scanned.
    // Deciding lowers the proposal back to it.
    this.decided = Math.max(latest.watermark(), setup.pins().decidedWatermark());
    setup.pins().decide(decided);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Attach.class, this::onAttach)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Stop.class, this::onStop)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onAttach(Attach attach) {
    lifecycle.writer = attach.writer();
    return this;
  }

  /**
   * Ticks are scheduled one at a time, not by a periodic timer, so that a stop can tell whether one
   * is still on its way: a tick left in the mailbox of a stopped actor would be a dead letter.
   */
  private void scheduleTick() {
    lifecycle.pendingTick =
        getContext()
            .scheduleOnce(setup.settings().epochTick(), getContext().getSelf(), Tick.INSTANCE);
  }

  private Behavior<Command> onStop(Stop stop) {
    lifecycle.stopping = stop;
    // Cancelled means it will never be sent; otherwise it was sent or is being sent: wait for it.
    if (lifecycle.pendingTick == null || lifecycle.pendingTick.cancel()) {
      lifecycle.pendingTick = null;
      return stopNow(stop);
    }
    return this;
  }

  /** Stops once the tick is not on its way, after the last nudge was sent. */
  private Behavior<Command> stopNow(Stop stop) {
    ActorRef<WriterActor.Command> answerTo = stop.replyTo();
    if (answerTo != null) {
      answerTo.tell(WriterActor.EpochStopped.INSTANCE);
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onTick() {
    lifecycle.pendingTick = null;
    Stop stop = lifecycle.stopping;
    if (stop != null) {
      return stopNow(stop);
    }
    scheduleTick();
    // The store's clock, read once: it ages the pins (stamped with it) and times retention.
    Instant now = setup.settings().clock().instant();
    latest = setup.root().snapshotAcquire();
    long target = retentionTarget(latest, setup.settings(), now);
    if (target > decided) {
      // Propose before scanning: a reader pinning concurrently either is seen by the scan or sees
      // the proposal and retries (Pins explains the race).
      setup.pins().propose(target);
    }
    Scan scan = scan(Pins.millis(now), target);
    if (target > decided) {
      long w = Math.max(decided, Math.min(target, scan.oldestVersion()));
      // Lowering the proposal from the target to w is safe: nothing above w was ever sent.
      setup.pins().decide(w);
      decided = w;
    }
    // A writer with writes pending opens groups, and each picks the decision up: nudge only an
    // idle one, so that a quiet store does not keep its history forever. The gate's count is
    // racy: a write admitted meanwhile joins the prune's group, or the writer ignores the nudge.
    // A closed gate (closing, or a failed log) means the writer will not prune: no nudge.
    if (setup.gate().drained()
        && !setup.gate().isClosed()
        && latest.watermark() < decided
        && lifecycle.writer != null) {
      lifecycle.writer.tell(WriterActor.PruneIfIdle.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onGetStats(GetStats request) {
    long nowMillis = setup.pins().clockMillis();
    Scan scan = scan(nowMillis, -1);
    Duration oldest =
        Duration.ofMillis(scan.count() == 0 ? 0 : age(nowMillis, scan.oldestOpenedMillis()));
    Snapshot root = setup.root().snapshotAcquire();
    request
        .replyTo()
        .tell(
            new EpochStats(
                root.version(),
                root.watermark(),
                scan.count(),
                oldest,
                root.version() - root.watermark() + 1,
                setup.root().publishes()));
    return this;
  }

  private Behavior<Command> onPostStop() {
    setup.stopped().complete(Done.getInstance());
    return this;
  }

  /**
   * The oldest version the retention policy of {@code settings} wants readable in {@code s} at
   * {@code now} (the store's clock, which stamps the commits too), ignoring pins: the watermark
   * retention alone gives. Also what a change feed tells its consumer when it lets go ({@link
   * ZVerseStore#retentionWatermark()}).
   */
  static long retentionTarget(Snapshot s, StoreSettings settings, Instant now) {
    long version = s.version();
    long byCount = version - Math.min(settings.retentionVersions() - 1, version);
    Duration duration = settings.retentionDuration();
    if (duration.isZero()) {
      return byCount;
    }
    long byTime;
    try {
      // A clock near the start of time has nothing before the window: the cut saturates.
      Instant cut = now.isAfter(Instant.MIN.plus(duration)) ? now.minus(duration) : Instant.MIN;
      byTime = s.versionAt(cut);
    } catch (VersionCompactedException e) {
      // Every retained commit is younger than the window: keep all of them.
      byTime = s.watermark();
    }
    return Math.min(byCount, byTime);
  }

  /**
   * Scans the pins: counts them, finds the oldest version and the oldest pin, and (when {@code
   * target} is not negative) warns about long-held ones.
   */
  private Scan scan(long nowMillis, long target) {
    int count = 0;
    long oldestVersion = Long.MAX_VALUE;
    long oldestOpened = nowMillis;
    for (Iterator<Pins.Pin> it = setup.pins().iterator(); it.hasNext(); ) {
      Pins.Pin pin = it.next();
      count++;
      oldestVersion = Math.min(oldestVersion, pin.version);
      oldestOpened = Math.min(oldestOpened, pin.openedMillis);
      if (target >= 0) {
        warnIfLong(pin, nowMillis, target);
      }
    }
    return new Scan(count, oldestVersion, oldestOpened);
  }

  /** Milliseconds from {@code thenMillis} to {@code nowMillis}; zero if the clock stepped back. */
  private static long age(long nowMillis, long thenMillis) {
    long age = nowMillis - thenMillis;
    // Overflows only between saturated readings of an absurd clock: such an age is very long.
    boolean overflowed = ((nowMillis ^ thenMillis) & (nowMillis ^ age)) < 0;
    return overflowed ? (nowMillis > thenMillis ? Long.MAX_VALUE : 0) : Math.max(0, age);
  }

  private void warnIfLong(Pins.Pin pin, long nowMillis, long target) {
    if (pin.version >= target) {
      // Holds nothing back: retention keeps its version anyway. A caught-up change feed's pin sits
      // here for as long as the store is quiet, which is no reason to warn.
      return;
    }
    long age = age(nowMillis, pin.openedMillis);
    if (age < longPinMillis || (pin.warned && age(nowMillis, pin.warnedMillis) < longPinMillis)) {
      return;
    }
    pin.warned = true;
    pin.warnedMillis = nowMillis;
    getContext()
        .getLog()
        .warn(
            "[{}] a pin held by [{}] (a read transaction or a change feed) has pinned version [{}] for [{}] ms, holding back [{}] versions from pruning (latest version [{}]); close it (or let the feed catch up) to let the store prune",
            setup.storeName(),
            pin.owner,
            pin.version,
            age,
            Math.max(0, target - pin.version),
            latest.version());
  }
}
