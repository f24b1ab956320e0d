package dev.zverse.actors;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * The only code that changes a store: applies every write, publishes snapshots, answers writers.
 *
 * <h2>Group commit</h2>
 *
 * The first write of a group opens a {@link Transient} over the last published snapshot, is applied
 * to it, and makes the writer send itself a {@link Flush} marker. Every write that arrives before
 * the marker is applied to the same transient, each as its own batch and so its own version; nobody
 * sees any of it yet. The marker publishes the group: one {@code persistent()}, one release store
 * into the {@link Root}, then a reply to every writer of the group. Under load many writes share
 * one publish; a lone writer waits one mailbox hop plus the marker. A group that reaches {@code
 * max-group-writes} is published at once, which bounds its latency; at most one marker is in
 * flight, and a marker that finds a newer group publishes that one early, which is harmless. The
 * steps of a group are a sealed type ({@link Group.Step}).
 *
 * <p>Writes are answered only when their group is published, refused ones too: a refusal (failed
 * condition, key or value over its limit) was decided against state that becomes real only then.
 * Every exceptional answer means the batch was not committed.
 *
 * <h2>Pruning</h2>
 *
 * The writer sends the EpochActor nothing when it publishes: the EpochActor reads the root on its
 * tick and records the watermark it decides in {@link Pins}. A group's first step prunes to that
 * watermark when the group opens, if it rose: under writes, pruning costs no message and no publish
 * of its own. An idle store would then keep its history forever, so the EpochActor nudges the
 * writer ({@link PruneIfIdle}) on a tick that finds no write pending and the root behind its
 * decision; a writer still idle then opens a group that only prunes (writes that arrive before its
 * marker join it). Publish listeners (change feeds) are woken only when the version moved, so a
 * group that only prunes wakes nobody.
 *
 * <h2>Faults</h2>
 *
 * The {@link Group} contains a fault while applying a step: it fails that step and replays the
 * others. If it cannot, every write of the group is failed and the exception goes to the
 * supervisor, which restarts the writer from the last published snapshot. Nothing partial is ever
 * published.
 *
 * <h2>Durability</h2>
 *
 * A durable store hands the writer a {@link GroupLog}, which says how a group is sealed for the log
 * and held over for returning writers; the writer publishes a sealed group when its append is done
 * ({@link GroupLog.Logged}). If an append fails, that group and every group after it are failed
 * with a {@link StoreFailedException}, nothing of them is published, and every later write is
 * refused with it; reads go on from the last published snapshot. A group that the log refuses
 * before writing any of it (an {@link IllegalArgumentException}: a version too big for a record)
 * fails only itself and the groups built on it, with that refusal; the store goes on.
 *
 * <p>A durable replica's {@link Reset} waits for the groups sealed before it, then the log thread
 * writes the base as a checkpoint and restarts the log after it ({@link GroupLog#reset}); the base
 * is published on {@link GroupLog.ResetLogged}. What arrives meanwhile follows the base, so it is
 * kept and handled in order once the base is published.
 *
 * <h2>Closing</h2>
 *
 * On {@link Close} (sent after the {@link WriteGate} was closed) the writer publishes its open
 * group, then goes on committing the writes still arriving, which were admitted before the close,
 * until the gate has no write left unanswered (and, if durable, no group is left in the log
 * thread). Nudges to prune are ignored from then on. It then asks the EpochActor to stop and stops
 * itself on the answer ({@link EpochStopped}), once nothing from the journal's log thread is on its
 * way either (a {@link GroupLog.HoldOver}, the {@link GroupLog.Logged} of a group failed along with
 * an earlier one): nothing is left in flight to either actor, so closing a store leaves no dead
 * letters behind.
 *
 * <h2>Caller-runs</h2>
 *
 * A write that finds the writer idle need not wake it. When the {@link WriteGate} admits a write as
 * the owner of the writer's state (no write pending, nobody owning it; see the gate's
 * "Caller-runs"), the calling thread runs {@link #runForCaller}: if no group is open, no marker is
 * on its way, the store is memory-only and not closing, it opens a group of that one write, applies
 * it, publishes and answers, exactly as the actor's own {@link Flush} would, then leaves; otherwise
 * it sends the write to the mailbox as usual. Every message of the actor runs as the owner too
 * ({@link #onCommand}): a message that finds a caller owning is kept, in order, until the caller
 * hands the state over and tells the actor to {@link Resume}. So the writer's state has one owner
 * at a time (the single-writer rule), every version is still published by one release store into
 * the {@link Root} before its writer is answered, and group commit, overload bounds, pruning,
 * change feeds, restarts and the close work as before: a caller's write is a group of one, opened
 * over the published snapshot and published before the caller's {@code put} returns. A durable
 * store never lets a caller run (its force belongs to the log thread); a memory-only one only with
 * {@code writer.caller-runs = on}.
 *
 * <p>It logs under {@code dev.zverse.actors.WriterActor}.
 *
 * <p>One class, over 500 lines, because it is one actor's protocol: each handler is short, and the
 * group, its log and its steps already live in their own classes ({@link Group}, {@link GroupLog}).
 *
 * <p>Confined to the owner of the writer's state: the actor's messages, or a caller in {@link
 * #runForCaller}, one at a time (see the {@link WriteGate}).
 */
final class WriterActor extends AbstractBehavior<WriterActor.Command> {

  /** The writer's protocol. Local only: writes carry a future, not a serializable reference. */
  interface Command {}

  /**
   * Apply {@code batch} as one version; complete {@code result} with it once published.
   *
   * @param batch the batch
   * @param result completed with the committed version, or exceptionally if not committed
   */
  record Write(WriteBatch batch, CompletableFuture<Long> result) implements Command {}

  /**
   * A replica's input: apply {@code commits}, consecutive commits of the store it follows, as the
   * next versions; complete {@code result} with the last one once published, or exceptionally if
   * they do not follow the replica's version (nothing of them applied).
   */
  record Follow(List<CommitRecord> commits, CompletableFuture<Long> result) implements Command {}

  /**
   * A replica's input: publish {@code base} as the replica's snapshot, in place of everything it
   * holds (what a state transfer delivers); complete {@code result} with its version.
   */
  record Reset(Snapshot base, CompletableFuture<Long> result) implements Command {}

  /**
   * Sent by the EpochActor when it decided a watermark above the published one and found no write
   * pending. An idle writer opens a group to prune; a busy one ignores it, as it picks the decided
   * watermark up when it opens its next group anyway.
   */
  enum PruneIfIdle implements Command {
    INSTANCE
  }

  /** The group-commit marker: publish what is open. */
  enum Flush implements Command {
    INSTANCE
  }

  /**
   * A caller that owned the writer's state handed it over as it left, because a message waited:
   * handle the messages kept meanwhile, in order.
   */
  enum Resume implements Command {
    INSTANCE
  }

  /** The store is closed: publish, drain what was admitted, stop. */
  enum Close implements Command {
    INSTANCE
  }

  /**
   * The EpochActor stopped on the writer's {@link EpochActor.Stop}: no nudge will come after this.
   */
  enum EpochStopped implements Command {
    INSTANCE
  }

  /**
   * How a batch is applied to the open transient: {@code Transient.apply} in production, the seam
   * where tests inject slow or failing writes.
   */
  @FunctionalInterface
  interface Applier {
    Applier DEFAULT = (tx, batch, clockReading) -> tx.apply(batch, clockReading);

    /**
     * Applies {@code batch} to {@code tx}.
     *
     * @param clockReading the store's clock as the writer took the write, for {@link
     *     Transient#apply(WriteBatch, java.time.Instant)}
     * @return the version the batch took
     */
    long apply(Transient tx, WriteBatch batch, Instant clockReading);
  }

  /**
   * Everything the writer is started with. The objects in it live as long as the store, across
   * restarts of the writer: a restart starts again from them.
   *
   * @param pins where the writer finds the watermark the EpochActor decided
   * @param durable the durable side of group commit; null for a memory-only store
   */
  record Setup(
      String storeName,
      Root root,
      WriteGate gate,
      Pins pins,
      ActorRef<EpochActor.Command> epoch,
      Applier applier,
      int maxGroupWrites,
      CompletableFuture<Done> stopped,
      @Nullable GroupLog durable,
      InstantSource clock) {}

  /**
   * What the writer keeps across its restarts about the EpochActor, so that it introduces itself
   * once and stops only after the EpochActor did. Writer-confined.
   */
  private static final class Lifecycle {
    /** Whether the EpochActor was told who the writer is ({@link EpochActor.Attach}). */
    boolean epochAttached;

    /** Whether the EpochActor was asked to stop; it answers {@link EpochStopped}. */
    boolean epochStopAsked;

    boolean epochStopped;

    /**
     * Messages that arrived while a caller owned the writer's state, oldest first: handled on the
     * {@link Resume} that follows the caller's hand-over. Outlives a restart, which may come while
     * they are being handled (the restarted writer resumes them).
     */
    final ArrayDeque<Command> kept = new ArrayDeque<>();
  }

  /**
   * The writer behaviour, restarted by its supervisor from the last published snapshot after an
   * exception it could not contain.
   */
  static Behavior<Command> create(Setup setup) {
    Lifecycle lifecycle = new Lifecycle();
    return Behaviors.supervise(
            Behaviors.<Command>setup(
                ctx -> {
                  // Pekko would name the logger after the class that first logs through it: fix
                  // it, so that users find it under dev.zverse.
                  ctx.setLoggerName(WriterActor.class);
                  return new WriterActor(ctx, setup, lifecycle);
                }))
        .onFailure(Throwable.class, SupervisorStrategy.restart());
  }

  private final Setup setup;
  private final Lifecycle lifecycle;

  /** The actor's logger, taken once: a caller's thread must not touch the actor's context. */
  private final Logger log;

  /** The durable side, or null: {@code setup.durable()}. */
  private final @Nullable GroupLog durable;

  private Snapshot published;

  /** The open group, or null. */
  private @Nullable Group group;

  private boolean flushInFlight;
  private boolean closing;

  private WriterActor(ActorContext<Command> context, Setup setup, Lifecycle lifecycle) {
    super(context);
    this.setup = setup;
    this.lifecycle = lifecycle;
    this.durable = setup.durable();
    // The writer's own last release store (or the initial snapshot): after a restart, the truth.
    this.published = setup.root().snapshotAcquire();
    // A restart forgets the Close message it may already have seen; the gate remembers.
    this.closing = setup.gate().isClosed();
    this.log = context.getLog();
    if (!lifecycle.epochAttached) {
      lifecycle.epochAttached = true;
      setup.epoch().tell(new EpochActor.Attach(context.getSelf()));
    }
    // Last: from here on a caller may run on this instance (only while owning the state). After a
    // restart the actor still owns the state, taken by the message that failed.
    setup.gate().attach(this);
    if (lifecycle.kept.isEmpty()) {
      setup.gate().actorLeave();
    } else {
      context.getSelf().tell(Resume.INSTANCE);
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Command.class, this::onCommand)
        .onSignal(PreRestart.class, signal -> onPreRestart())
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  /**
   * Handles {@code c} as the owner of the writer's state, or keeps it until a caller that owns the
   * state hands it over ({@link Resume}); then handles what was kept, in order, and frees the
   * state. A message that arrives while others are kept is kept behind them, so the mailbox order
   * is the handling order. An exception leaves the state owned: the restarted writer frees it.
   */
  private Behavior<Command> onCommand(Command c) {
    ArrayDeque<Command> kept = lifecycle.kept;
    if (c != Resume.INSTANCE) {
      if (!kept.isEmpty() || !setup.gate().actorEnter()) {
        kept.addLast(c);
        return this;
      }
      Behavior<Command> next = handle(c);
      if (next != this) {
        return next; // stopped: the gate is closed and drained, no caller can enter again
      }
    }
    for (Command k; (k = kept.pollFirst()) != null; ) {
      Behavior<Command> next = handle(k);
      if (next != this) {
        return next;
      }
    }
    setup.gate().actorLeave();
    return this;
  }

  private Behavior<Command> handle(Command c) {
    if (durable != null
        && durable.resetting()
        && (c instanceof Write || c instanceof Follow || c instanceof Reset)) {
      // They follow the base: handled in order once it is published (onResetLogged).
      durable.keep(c);
      return this;
    }
    if (c instanceof Write w) {
      return onWrite(w);
    } else if (c instanceof Follow f) {
      return onFollow(f);
    } else if (c instanceof Reset r) {
      return onReset(r);
    } else if (c == PruneIfIdle.INSTANCE) {
      return onPruneIfIdle();
    } else if (c == Flush.INSTANCE) {
      return onFlush();
    } else if (c == Close.INSTANCE) {
      return onClose();
    } else if (c == EpochStopped.INSTANCE) {
      return onEpochStopped();
    } else if (c instanceof GroupLog.Logged logged) {
      return onLogged(logged);
    } else if (c instanceof GroupLog.HoldOver over) {
      return onHoldOver(over);
    } else if (c instanceof GroupLog.ResetLogged done) {
      return onResetLogged(done);
    }
    throw new IllegalArgumentException("unknown writer command " + c);
  }

  /**
   * Caller-runs: applies and publishes {@code batch} on the calling thread, as a group of its own,
   * if the writer is idle; the caller owns the writer's state ({@link WriteGate.Admission#OWNER}).
   * Answers {@code result} before returning, so the caller leaves the state with its write
   * published and answered (a close waiting for the drain then finds it done).
   *
   * @param batch the write
   * @param result completed with the committed version, or exceptionally if not committed
   * @return false if the writer is not idle (a group open, a marker on its way, closing, durable):
   *     nothing was done, and the caller must send the write to the actor
   */
  boolean runForCaller(WriteBatch batch, CompletableFuture<Long> result) {
    if (group != null || flushInFlight || closing || durable != null) {
      return false;
    }
    Instant now = readClock(result);
    if (now == null) {
      return true;
    }
    Group open;
    try {
      open = openGroup();
      apply(open, new Group.Commit(batch, result, now));
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (RuntimeException | Error again) {
      // apply() failed the group already, and the state is the last published one: unlike the
      // actor, which the supervisor restarts, there is nothing left to reset. If the group's prune
      // was what failed, the write had not joined it yet.
      if (!result.isDone()) {
        setup.gate().answered(1);
        result.completeExceptionally(again);
      }
      log.error(
          "[{}] the writer failed while applying a write on the caller's thread and could not"
              + " replay its group; the write is refused",
          setup.storeName(),
          again);
      return true;
    }
    group = null;
    Snapshot s;
    try {
      s = open.persistent();
    } catch (RuntimeException | Error broken) {
      open.fail(setup.gate(), broken);
      if (broken instanceof VirtualMachineError) {
        throw broken;
      }
      return true;
    }
    setup.gate().metrics().callerRuns.add(1);
    publishAndAnswer(s, open);
    return true;
  }

  /**
   * The store's clock for a write, or null if reading it failed: then {@code result} is refused.
   */
  private @Nullable Instant readClock(CompletableFuture<Long> result) {
    try {
      return Objects.requireNonNull(setup.clock().instant(), "the store's clock gave null");
    } catch (RuntimeException broken) {
      log.error(
          "[{}] reading the store's clock failed; the write is refused", setup.storeName(), broken);
      setup.gate().answered(1);
      result.completeExceptionally(broken);
      return null;
    }
  }

  private Behavior<Command> onWrite(Write w) {
    StoreFailedException failed = durable == null ? null : durable.failure();
    if (failed != null) {
      setup.gate().answered(1);
      w.result().completeExceptionally(failed);
      return stopIfDrained();
    }
    // Read after the write was sent, so every instant its sender read before is not later (unless
    // the clock stepped back) and, the commit time being after this reading, not covered by it.
    Instant now = readClock(w.result());
    if (now == null) {
      return stopIfDrained();
    }
    Group open = group == null ? openGroup() : group;
    apply(open, new Group.Commit(w.batch(), w.result(), now));
    askForMarker();
    if (open.writes() >= setup.maxGroupWrites()) {
      endGroup(open, true);
    }
    return stopIfDrained();
  }

  private Behavior<Command> onFollow(Follow f) {
    StoreFailedException failed = durable == null ? null : durable.failure();
    if (failed != null) {
      setup.gate().answered(1);
      f.result().completeExceptionally(failed);
      return stopIfDrained();
    }
    Group open = group == null ? openGroup() : group;
    apply(open, new Group.Follow(f.commits(), f.result()));
    askForMarker();
    if (open.writes() >= setup.maxGroupWrites()) {
      endGroup(open, true);
    }
    return stopIfDrained();
  }

  /**
   * Makes {@code r.base()} a replica's new snapshot after what is open. A memory-only replica
   * publishes it at once. A durable one first writes it to its log ({@link GroupLog#reset}: a
   * checkpoint of the base, the log restarted after it), once the groups before it are logged, and
   * publishes it when that is done ({@link #onResetLogged}): a crash before then recovers the old
   * state, which then asks for a transfer again. A base behind the replica is refused: its reads
   * never go back in time, and the decided watermark may already be past the base.
   */
  private Behavior<Command> onReset(Reset r) {
    Group open = group;
    if (open != null) {
      // A durable group is sealed now, full or not: the reset waits for it rather than for writers.
      endGroup(open, durable != null);
    }
    long at = base().version();
    StoreFailedException failed = durable == null ? null : durable.failure();
    if (r.base().version() < at) {
      setup.gate().answered(1);
      r.result()
          .completeExceptionally(
              new IllegalArgumentException(
                  "base.version must be at least the replica's version "
                      + at
                      + ", was "
                      + r.base().version()));
    } else if (failed != null) {
      setup.gate().answered(1);
      r.result().completeExceptionally(failed);
    } else if (durable != null) {
      // Answered in the gate once the log is reset, so that a close waits for it.
      durable.reset(r, getContext());
    } else {
      setup.gate().answered(1);
      publishBase(r);
    }
    return stopIfDrained();
  }

  private void publishBase(Reset r) {
    Snapshot before = published;
    published = r.base();
    setup
        .root()
        .publish(published, published.version() != before.version(), log, setup.storeName());
    r.result().complete(published.version());
  }

  private Behavior<Command> onResetLogged(GroupLog.ResetLogged done) {
    GroupLog logging = durableOnly();
    Throwable failure = logging.resetLogged(done);
    setup.gate().answered(1);
    if (failure == null) {
      publishBase(done.reset());
    } else {
      log.warn(
          "[{}] resetting the durable log to the base at version [{}] failed; reads go on at"
              + " version [{}]",
          setup.storeName(),
          done.reset().base().version(),
          published.version(),
          failure);
      done.reset().result().completeExceptionally(failure);
    }
    // What arrived meanwhile, in order; a kept reset makes the rest wait again.
    for (Command kept; !logging.resetting() && (kept = logging.nextKept()) != null; ) {
      Behavior<Command> unused = handle(kept);
    }
    return stopIfDrained();
  }

  private Behavior<Command> onPruneIfIdle() {
    boolean idle = group == null && (durable == null || durable.idle());
    if (idle
        && !closing
        && (durable == null || durable.failure() == null)
        && setup.pins().decidedWatermark() > base().watermark()) {
      openGroup();
      askForMarker();
    }
    return this;
  }

  private Behavior<Command> onFlush() {
    flushInFlight = false;
    Group open = group;
    if (open != null) {
      endGroup(open, false);
    }
    return stopIfDrained();
  }

  private Behavior<Command> onClose() {
    closing = true;
    Group open = group;
    if (open != null) {
      endGroup(open, false);
    }
    return stopIfDrained();
  }

  /**
   * Stops once closing and nothing is left to do or on its way here. Drained, the writer first asks
   * the EpochActor to stop and waits for its answer: every nudge the EpochActor sent, and every
   * marker the writer sent itself before asking, is then ahead of the answer in the mailbox. It
   * also waits for what the journal's log thread still sends ({@link GroupLog#inFlight()}).
   */
  private Behavior<Command> stopIfDrained() {
    if (!closing || group != null || !setup.gate().drained() || !nothingLogging()) {
      return this;
    }
    // Drained while closing is final: the gate admits no write, nudges are ignored, no group opens.
    if (!lifecycle.epochStopAsked) {
      lifecycle.epochStopAsked = true;
      setup.epoch().tell(new EpochActor.Stop(getContext().getSelf()));
    }
    boolean quiet = durable == null || durable.inFlight() == 0;
    return lifecycle.epochStopped && quiet ? Behaviors.stopped() : this;
  }

  private Behavior<Command> onEpochStopped() {
    lifecycle.epochStopped = true;
    return stopIfDrained();
  }

  /**
   * Opens a group over the base. Its first step prunes to the watermark the EpochActor decided, if
   * that rose since: pruning rides on a group that is published anyway.
   */
  private Group openGroup() {
    Group open = new Group(base(), setup.applier(), log, setup.storeName());
    group = open;
    long decided = setup.pins().decidedWatermark();
    if (decided > open.base().watermark()) {
      apply(open, new Group.Prune(decided));
    }
    return open;
  }

  /** Sends the open group's marker unless one is on its way. */
  private void askForMarker() {
    if (!flushInFlight) {
      // After the first step, not before: whatever arrives while it is applied joins this group.
      getContext().getSelf().tell(Flush.INSTANCE);
      flushInFlight = true;
    }
  }

  /**
   * Adds {@code step} to {@code open}, the open group, and applies it. If the group cannot contain
   * a fault (see {@link Group}), fails it whole and rethrows to the supervisor.
   */
  private void apply(Group open, Group.Step step) {
    try {
      open.apply(step);
    } catch (RuntimeException | Error again) {
      failOpen(
          new IllegalStateException(
              "store ["
                  + setup.storeName()
                  + "]: the write was not applied: the writer failed"
                  + " while applying its group and could not replay it; the group was dropped",
              again));
      throw again;
    }
  }

  /**
   * Makes {@code s} the store's snapshot, wakes the change feeds if the version moved, and answers
   * {@code done}, in that order: a writer answered here reads its own write.
   */
  private void publishAndAnswer(Snapshot s, Group done) {
    Snapshot before = published;
    published = s;
    // Change feeds wake here; listeners only flag and hand off, never block (PublishListener). A
    // prune alone (or a group of refused writes) moves no version: nothing new to read, nobody is
    // woken, and the EpochActor finds the new watermark on the root when it next ticks.
    setup.root().publish(s, s.version() != before.version(), log, setup.storeName());
    if (StoreMetrics.RECORDING) {
      setup.gate().metrics().published(done.writes(), System.nanoTime() - done.openedNanos);
    }
    done.answer(setup.gate());
  }

  /** Fails every write of the open group, steps that succeeded too; nothing of it is published. */
  private void failOpen(Throwable cause) {
    Group failed = group;
    group = null;
    if (failed != null) {
      failed.fail(setup.gate(), cause);
    }
  }

  // ---------------------------------------------------------------- durability

  /** The snapshot the next group builds on: the last published one, or the newest sealed one. */
  private Snapshot base() {
    return durable == null ? published : durable.head();
  }

  private boolean nothingLogging() {
    return durable == null || durable.idle();
  }

  /**
   * Ends the open group: publishes it if memory-only; if durable, seals it for the log when the
   * {@link GroupLog} says so, else leaves it open to grow until the group in the log is done or the
   * wait for returning writers ends.
   */
  private void endGroup(Group open, boolean full) {
    if (durable == null) {
      group = null;
      Snapshot s = open.persistent();
      publishAndAnswer(s, open);
    } else if (durable.sealNow(open.writes(), full, closing, getContext().getSelf())) {
      seal(durable, open);
    }
  }

  private Behavior<Command> onHoldOver(GroupLog.HoldOver over) {
    GroupLog logging = durableOnly();
    Group open = group;
    if (logging.holdOver(over) && open != null && logging.idle()) {
      seal(logging, open);
    }
    return stopIfDrained();
  }

  /** Makes {@code open} persistent and hands it to the journal; it is published once logged. */
  private void seal(GroupLog logging, Group open) {
    group = null;
    logging.seal(open.persistent(), open, getContext());
  }

  /** The durable side, for the messages only its journal sends. */
  private GroupLog durableOnly() {
    if (durable == null) {
      throw new IllegalStateException("a memory-only writer got a message of the durable log");
    }
    return durable;
  }

  private Behavior<Command> onLogged(GroupLog.Logged logged) {
    GroupLog logging = durableOnly();
    if (!logging.isOldest(logged)) {
      return stopIfDrained(); // failed already, with an earlier group
    }
    if (logged.failure() != null) {
      // The groups sealed after it, and the open one, were built on it: they fail too.
      Throwable why = logging.failed(logged, published, log, setup.storeName());
      failLogging(why);
      failOpen(why);
      logging.resetIfDue(getContext());
      return stopIfDrained();
    }
    GroupLog.Sealed sealed = logged.sealed();
    publishAndAnswer(sealed.snapshot(), sealed.group());
    Group open = group;
    logging.published(sealed, open == null ? 0 : open.writes(), setup.maxGroupWrites());
    if (open != null && logging.sealNow(open.writes(), false, closing, getContext().getSelf())) {
      seal(logging, open);
    }
    logging.resetIfDue(getContext());
    return stopIfDrained();
  }

  /**
   * Fails every write of every sealed group not yet logged; the next group builds on the published.
   */
  private void failLogging(Throwable cause) {
    if (durable != null) {
      for (Group g : durable.dropAll(published)) {
        g.fail(setup.gate(), cause);
      }
    }
  }

  private Behavior<Command> onPreRestart() {
    // An exception escaped a handler: whatever is still in the group was never published.
    failOpen(
        new IllegalStateException(
            "store [" + setup.storeName() + "]: the write was not applied: the writer restarted"));
    if (durable != null) {
      durable.forgetHold();
    }
    return this;
  }

  private Behavior<Command> onPostStop() {
    // Stopped by the actor system, a caller may be running its write: wait for it to leave. No
    // caller enters after the gate is closed.
    setup.gate().close();
    setup.gate().actorEnterToStop();
    // Normally empty: the writer stops when drained. Not so when the actor system stops it.
    failOpen(
        new IllegalStateException(
            "store [" + setup.storeName() + "]: the write was not applied: the writer stopped"));
    failLogging(
        new IllegalStateException(
            "store ["
                + setup.storeName()
                + "]: the write was not acknowledged: the writer stopped"
                + " while it was being logged; after a reopen it may or may not be there"));
    if (durable != null) {
      List<CompletableFuture<Long>> waiting = new ArrayList<>();
      for (Reset r : durable.dropResets()) {
        waiting.add(r.result());
      }
      for (Command kept; (kept = durable.nextKept()) != null; ) {
        if (kept instanceof Write w) {
          waiting.add(w.result());
        } else if (kept instanceof Follow f) {
          waiting.add(f.result());
        } else if (kept instanceof Reset r) {
          waiting.add(r.result());
        }
      }
      for (CompletableFuture<Long> result : waiting) {
        result.completeExceptionally(
            new IllegalStateException(
                "store ["
                    + setup.storeName()
                    + "]: not applied: the writer stopped while a replica's reset to a base was"
                    + " being logged; after a reopen the store holds the base or the state before"
                    + " it"));
      }
    }
    setup.gate().close();
    setup.root().listeners().stop(published, log, setup.storeName());
    if (!lifecycle.epochStopAsked) {
      // Stopped by the actor system, not drained after a close: nobody to answer to.
      lifecycle.epochStopAsked = true;
      setup.epoch().tell(new EpochActor.Stop(null));
    }
    setup.stopped().complete(Done.getInstance());
    return this;
  }
}
