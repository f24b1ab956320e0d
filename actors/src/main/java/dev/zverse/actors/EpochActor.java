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

/**
 * Turns the retention policy and the pinned versions of a store into its watermark, and tells the
 * writer to prune to it.
 *
 * <h2>Design</h2>
 *
 * The EpochActor learns every published snapshot from the writer ({@link Published}); it never sees
 * a reader. Readers register their pins in {@link Pins} without a message, and the EpochActor scans
 * them on every {@code epoch.tick}:
 *
 * <ol>
 *   <li>the retention target is the lower of what the two rules want kept: the newest {@code
 *       retention.versions} versions, and (if {@code retention.duration} is set) the version a read
 *       "as of now minus the duration" needs, found with {@code Snapshot.versionAt} over the commit
 *       times;
 *   <li>if the target is above the current watermark it is proposed (see {@link Pins} for the race
 *       this closes), the pins are scanned, and the watermark becomes the lower of the target and
 *       the oldest pinned version, never lower than before;
 *   <li>if it rose, the writer gets a {@link WriterActor.Prune}. If the published watermark is still
 *       behind a watermark already decided (a prune lost in a failed group), the prune is sent again;
 *       the writer ignores prunes that change nothing.
 * </ol>
 *
 * The same scan logs a warning for each pin older than {@code epoch.long-pin-warning} that holds back
 * at least one version, with its age, its owner and how many versions it holds back from pruning,
 * and repeats it every such interval while the pin stays open: long-held readers are how an MVCC
 * store runs out of memory.
 *
 * <p>It ticks with one scheduled message at a time rather than a periodic timer, so that on {@link
 * Stop} it knows whether a tick is still on its way and waits for it before stopping: nothing is
 * left in its mailbox to become a dead letter. It answers the writer only then, after its last
 * prune. It logs under {@code dev.zverse.actors.EpochActor}.
 *
 * <p>Actor-confined.
 */
final class EpochActor extends AbstractBehavior<EpochActor.Command> {

  /** The EpochActor's protocol. */
  interface Command {}

  /**
   * The writer published {@code snapshot}; prunes go to {@code replyTo}.
   *
   * @param snapshot the new latest snapshot
   * @param replyTo the writer
   */
  record Published(Snapshot snapshot, ActorRef<WriterActor.Command> replyTo) implements Command {}

  /**
   * Asks for the store's {@link EpochStats}.
   *
   * @param replyTo receives the stats
   */
  record GetStats(ActorRef<EpochStats> replyTo) implements Command {}

  /**
   * Stop, and tell {@code replyTo} once nothing more will come from here: sent by the writer once
   * it is drained and closing, so that no prune reaches a stopped writer.
   *
   * @param replyTo told {@link WriterActor.EpochStopped} after the last prune; null when the writer
   *     has stopped already (the actor system stopped it), so there is nobody to tell
   */
  record Stop(ActorRef<WriterActor.Command> replyTo) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  /**
   * What the actor keeps across its restarts: the one tick that is scheduled or on its way (a
   * restart would otherwise start a second one) and the stop it is carrying out. Actor-confined.
   */
  private static final class Lifecycle {
    /** The scheduled tick, or null while none is scheduled or in the mailbox. */
    Cancellable pendingTick;

    /** Set by {@link Stop} while a tick that could not be cancelled is still on its way. */
    Stop stopping;
  }

  /** Everything the EpochActor is started with. */
  record Setup(
      String storeName, StoreSettings settings, Root root, Pins pins, CompletableFuture<Done> stopped) {}

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
  private Snapshot latest;
  private ActorRef<WriterActor.Command> writer;
  /** The highest watermark sent to the writer (or published); never goes down. */
  private long decided;
  private long publishes;

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
        .onMessage(Published.class, this::onPublished)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Stop.class, this::onStop)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onPublished(Published p) {
    latest = p.snapshot();
    writer = p.replyTo();
    publishes++;
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
      return stopNow();
    }
    return this;
  }

  /** Stops once the tick is not on its way, after the last prune was sent. */
  private Behavior<Command> stopNow() {
    ActorRef<WriterActor.Command> answerTo = lifecycle.stopping.replyTo();
    if (answerTo != null) {
      answerTo.tell(WriterActor.EpochStopped.INSTANCE);
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onTick() {
    lifecycle.pendingTick = null;
    if (lifecycle.stopping != null) {
      return stopNow();
    }
    scheduleTick();
    // The store's clock, read once: it ages the pins (stamped with it) and times retention.
    Instant now = setup.settings().clock().instant();
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
    if (writer != null && latest.watermark() < decided) {
      writer.tell(new WriterActor.Prune(decided));
    }
    return this;
  }

  private Behavior<Command> onGetStats(GetStats request) {
    long nowMillis = setup.pins().clockMillis();
    Scan scan = scan(nowMillis, -1);
    Duration oldest =
        Duration.ofMillis(scan.count() == 0 ? 0 : age(nowMillis, scan.oldestOpenedMillis()));
    request
        .replyTo()
        .tell(
            new EpochStats(
                latest.version(),
                latest.watermark(),
                scan.count(),
                oldest,
                latest.version() - latest.watermark() + 1,
                publishes));
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
