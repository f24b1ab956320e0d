package dev.zverse.actors;

import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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

/**
 * The only code that changes a store: applies every write, publishes snapshots, answers writers.
 *
 * <h2>Group commit</h2>
 *
 * The first step of a group (a write, or a prune from the EpochActor) opens a {@link Transient} over
 * the last published snapshot, is applied to it, and makes the writer send itself a {@link Flush}
 * marker. Every write that arrives before the marker is applied to the same transient, each as its
 * own batch and so its own version; nobody sees any of it yet. The marker publishes the group: one
 * {@code persistent()}, one release store into the {@link Root}, one message to the EpochActor,
 * then a reply to every writer of the group. Under load many writes share one publish; a lone
 * writer waits one mailbox hop plus the marker. A group that reaches {@code max-group-writes} is
 * published at once, which bounds its latency; at most one marker is in flight, and a marker that
 * finds a newer group publishes that one early, which is harmless.
 *
 * <p>Writes are answered only when their group is published, refused ones too: a refusal (failed
 * condition, key or value over its limit) was decided against state that becomes real only then.
 * Every exceptional answer means the batch was not committed.
 *
 * <h2>Faults</h2>
 *
 * A refused batch changes nothing and the transient stays usable (the engine checks limits and
 * conditions first). Any other exception while applying a step may leave the transient
 * half-changed, so it is dropped: the writer rebuilds a transient from the last published snapshot
 * and replays the steps of the group that had succeeded, in order and with their commit times
 * (batches are immutable, so each gets the same version and outcome again), and fails only the
 * write that threw. If the replay throws too, nothing of the group can be trusted: every write of it
 * is failed and the exception goes to the supervisor, which restarts the writer from the last
 * published snapshot. Nothing partial is ever published: the root only ever holds snapshots made by
 * {@code persistent()} of a transient that no exception touched.
 *
 * <h2>Durability</h2>
 *
 * A durable store gives the writer a {@link Journal}. A group is then not published when it ends but
 * <em>sealed</em>: made persistent and handed to the journal's log thread, which appends it as one
 * record and forces it per the sync policy. Only when the append is done ({@link Logged}) is the
 * group published and answered, so under {@code every-commit} no reader ever sees, and no writer is
 * told, a version that a crash could lose. Meanwhile the writer opens the next group on top of the
 * sealed snapshot and applies the writes that keep arriving; at most one group is in the log at a
 * time unless a group fills up, so the next group grows by exactly the writes that came in during
 * the force (group commit sized by the disk).
 *
 * <p>That alone would split steady writers into two cohorts: while group N is forced, the writers it
 * holds are waiting for it, so N + 1 gathers only the others, and sealing N + 1 the moment N is on
 * disk leaves the writers N just answered for N + 2; each force would serve half of them. So when N
 * is logged, N + 1 is sealed only once it holds as many writes as N answered plus what it held then
 * (the writers coming back), or when {@code durability.group-commit-wait} ends ({@link HoldOver},
 * timed on the journal's log thread), whichever is first. A lone writer is never held: its next
 * write alone reaches the target. If an append fails, that group and every group after
 * it are failed with a {@link StoreFailedException}, nothing of them is published, and every later
 * write is refused with it; reads go on from the last published snapshot. A group that the log
 * refuses before writing any of it (an {@link IllegalArgumentException}: a version too big for a
 * record) fails only itself and the groups built on it, with that refusal; the store goes on.
 *
 * <h2>Closing</h2>
 *
 * On {@link Close} (sent after the {@link WriteGate} was closed) the writer publishes its open
 * group, then goes on committing the writes still arriving, which were admitted before the close,
 * until the gate has no write left unanswered (and, if durable, no group is left in the log
 * thread). Prunes are ignored from then on. It then asks the EpochActor to stop and stops itself on
 * the answer ({@link EpochStopped}), once nothing from the journal's log thread is on its way
 * either (a {@link HoldOver}, the {@link Logged} of a group failed along with an earlier one):
 * nothing is left in flight to either actor, so closing a store leaves no dead letters behind.
 *
 * <p>It logs under {@code dev.zverse.actors.WriterActor}.
 *
 * <p>Actor-confined: every field is touched only by the actor's messages.
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

  /** Drop the history below {@code watermark}; sent by the EpochActor. */
  record Prune(long watermark) implements Command {}

  /** The group-commit marker: publish what is open. */
  enum Flush implements Command {
    INSTANCE
  }

  /** The store is closed: publish, drain what was admitted, stop. */
  enum Close implements Command {
    INSTANCE
  }

  /**
   * The EpochActor stopped on the writer's {@link EpochActor.Stop}: no prune will come after this.
   */
  enum EpochStopped implements Command {
    INSTANCE
  }

  /** The journal appended {@code group} (failure null) or could not. */
  private record Logged(Sealed group, Throwable failure) implements Command {}

  /** The end of wait {@code number} for a durable group's returning writers: {@link #holdOpenGroup}. */
  private record HoldOver(long number) implements Command {}

  /**
   * How a batch is applied to the open transient: {@code Transient.apply} in production, the seam
   * where tests inject slow or failing writes.
   */
  @FunctionalInterface
  interface Applier {
    Applier DEFAULT = (tx, batch, clockReading) -> tx.apply(batch, clockReading);

    /**
     * @param clockReading the store's clock as the writer took the write, for {@link
     *     Transient#apply(WriteBatch, java.time.Instant)}
     * @return the version the batch took
     */
    long apply(Transient tx, WriteBatch batch, Instant clockReading);
  }

  /** Everything the writer is started with. */
  record Setup(
      String storeName,
      Root root,
      WriteGate gate,
      ActorRef<EpochActor.Command> epoch,
      Applier applier,
      int maxGroupWrites,
      CompletableFuture<Done> stopped,
      Journal journal,
      InstantSource clock) {}

  /** A group made persistent and handed to the journal, published once logged. */
  private static final class Sealed {
    final Snapshot snapshot;
    final Step[] steps;
    final int writes;

    Sealed(Snapshot snapshot, Step[] steps, int writes) {
      this.snapshot = snapshot;
      this.steps = steps;
      this.writes = writes;
    }
  }

  /**
   * What a durable writer keeps in its {@link Journal}, so that it outlives a restart: the sealed
   * groups in the log thread, oldest first, and the newest sealed snapshot, which the next group
   * builds on. Writer-confined.
   */
  static final class Pipeline {
    private final ArrayDeque<Sealed> logging = new ArrayDeque<>();
    private Snapshot head;

    Pipeline(Snapshot recovered) {
      this.head = recovered;
    }
  }

  /**
   * What the writer keeps across its restarts about its stop: the messages still on their way to
   * it, so that it stops only once none is left (one left in its mailbox would be a dead letter).
   * Writer-confined.
   */
  private static final class Lifecycle {
    /**
     * Messages sent from the journal's log thread and not yet received: the {@link Logged} of each
     * append (also of those failed along with an earlier one) and each scheduled {@link HoldOver}.
     */
    int fromTheLogThread;

    /** Whether the EpochActor was asked to stop; it answers {@link EpochStopped}. */
    boolean epochStopAsked;

    boolean epochStopped;
  }

  /** One step of a group: a write (with its outcome once applied) or a prune. */
  private static final class Step {
    final WriteBatch batch;
    final CompletableFuture<Long> result;
    /** The clock when the writer took the write; kept so that a replay stamps it the same. */
    final Instant clockReading;
    final long pruneTo;
    long version;
    Throwable failure;

    Step(WriteBatch batch, CompletableFuture<Long> result, Instant clockReading, long pruneTo) {
      this.batch = batch;
      this.result = result;
      this.clockReading = clockReading;
      this.pruneTo = pruneTo;
    }

    boolean isWrite() {
      return batch != null;
    }
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
  private final ArrayList<Step> group = new ArrayList<>();
  private Snapshot published;
  private Transient open;
  private int groupWrites;
  private boolean flushInFlight;
  private boolean closing;
  /** Durable: the writes the open group should reach before it is sealed (see "Durability"). */
  private int holdTarget;
  /** Number of the open group's wait, to ignore a late {@link HoldOver}; 0 when none is armed. */
  private long holdNumber;
  private long holds;

  private WriterActor(ActorContext<Command> context, Setup setup, Lifecycle lifecycle) {
    super(context);
    this.setup = setup;
    this.lifecycle = lifecycle;
    // The writer's own last release store (or the initial snapshot): after a restart, the truth.
    this.published = setup.root().snapshotAcquire();
    // A restart forgets the Close message it may already have seen; the gate remembers.
    this.closing = setup.gate().isClosed();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Write.class, this::onWrite)
        .onMessage(Prune.class, this::onPrune)
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onMessageEquals(Close.INSTANCE, this::onClose)
        .onMessageEquals(EpochStopped.INSTANCE, this::onEpochStopped)
        .onMessage(Logged.class, this::onLogged)
        .onMessage(HoldOver.class, this::onHoldOver)
        .onSignal(PreRestart.class, signal -> onPreRestart())
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onWrite(Write w) {
    if (setup.journal() != null && setup.journal().failure() != null) {
      setup.gate().answered(1);
      w.result().completeExceptionally(setup.journal().failure());
      return stopIfDrained();
    }
    // Read after the write was sent, so every instant its sender read before is not later (unless
    // the clock stepped back) and, the commit time being after this reading, not covered by it.
    Instant now;
    try {
      now = Objects.requireNonNull(setup.clock().instant(), "the store's clock gave null");
    } catch (RuntimeException broken) {
      getContext()
          .getLog()
          .error(
              "[{}] reading the store's clock failed; the write is refused",
              setup.storeName(),
              broken);
      setup.gate().answered(1);
      w.result().completeExceptionally(broken);
      return stopIfDrained();
    }
    add(new Step(w.batch(), w.result(), now, -1));
    if (groupWrites >= setup.maxGroupWrites()) {
      endGroup(true);
    }
    return stopIfDrained();
  }

  private Behavior<Command> onPrune(Prune p) {
    if (setup.journal() != null && setup.journal().failure() != null) {
      return this;
    }
    if (!closing && p.watermark() > (open != null ? watermarkOfOpen() : base().watermark())) {
      add(new Step(null, null, null, p.watermark()));
    }
    return this;
  }

  private Behavior<Command> onFlush() {
    flushInFlight = false;
    if (open != null) {
      endGroup(false);
    }
    return stopIfDrained();
  }

  private Behavior<Command> onClose() {
    closing = true;
    if (open != null) {
      endGroup(false);
    }
    return stopIfDrained();
  }

  /**
   * Stops once closing and nothing is left to do or on its way here. Drained, the writer first asks
   * the EpochActor to stop and waits for its answer: every prune the EpochActor sent, and every
   * marker the writer sent itself before asking, is then ahead of the answer in the mailbox. It
   * also waits for what the journal's log thread still sends ({@link Logged}, {@link HoldOver}).
   */
  private Behavior<Command> stopIfDrained() {
    if (!closing || open != null || !setup.gate().drained() || !nothingLogging()) {
      return this;
    }
    // Drained while closing is final: the gate admits no write, prunes are ignored, no group opens.
    if (!lifecycle.epochStopAsked) {
      lifecycle.epochStopAsked = true;
      setup.epoch().tell(new EpochActor.Stop(getContext().getSelf()));
    }
    return lifecycle.epochStopped && lifecycle.fromTheLogThread == 0 ? Behaviors.stopped() : this;
  }

  private Behavior<Command> onEpochStopped() {
    lifecycle.epochStopped = true;
    return stopIfDrained();
  }


  /** Applies one step to the open group, opening it (and asking for its marker) if needed. */
  private void add(Step step) {
    if (open == null) {
      open = base().asTransient();
    }
    group.add(step);
    if (step.isWrite()) {
      groupWrites++;
    }
    apply(step);
    if (!flushInFlight) {
      // After the first step, not before: whatever arrives while it is applied joins this group.
      getContext().getSelf().tell(Flush.INSTANCE);
      flushInFlight = true;
    }
  }

  private void apply(Step step) {
    try {
      applyTo(open, step);
    } catch (IllegalArgumentException | ConditionFailedException refused) {
      // Checked before anything changed (the engine's contract): the transient stays usable.
      step.failure = refused;
      if (!step.isWrite()) {
        getContext().getLog().warn("[{}] prune to [{}] refused", setup.storeName(), step.pruneTo, refused);
      }
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (RuntimeException | Error fault) {
      step.failure = fault;
      replayWithout(step, fault);
    }
  }

  private void applyTo(Transient tx, Step step) {
    if (step.isWrite()) {
      step.version = setup.applier().apply(tx, step.batch, step.clockReading);
    } else {
      tx.prune(step.pruneTo);
    }
  }

  /**
   * Rebuilds the open transient from the last published snapshot with the group's successful steps
   * so far, which leaves out {@code failed} (the group's last step, its failure set). If that throws
   * as well, fails the whole group and rethrows to the supervisor.
   */
  private void replayWithout(Step failed, Throwable fault) {
    assert group.get(group.size() - 1) == failed && failed.failure == fault : "not the last step";
    getContext()
        .getLog()
        .error(
            "[{}] applying a {} failed; it is rejected and the other {} step(s) of its group are replayed from version [{}]",
            setup.storeName(),
            failed.isWrite() ? "write" : "prune",
            group.size() - 1,
            base().version(),
            fault);
    open = base().asTransient();
    try {
      for (Step s : group) {
        if (s.failure == null) {
          long before = s.version;
          applyTo(open, s);
          assert !s.isWrite() || s.version == before : "replay gave version " + s.version + ", first " + before;
        }
      }
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (RuntimeException | Error again) {
      if (again != fault) {
        again.addSuppressed(fault);
      }
      open = null;
      failGroup(
          new IllegalStateException(
              "store [" + setup.storeName() + "]: the write was not applied: the writer failed while "
                  + "applying its group and could not replay it; the group was dropped",
              again));
      throw again;
    }
  }

  private long watermarkOfOpen() {
    long w = base().watermark();
    for (Step s : group) {
      if (!s.isWrite() && s.failure == null) {
        w = Math.max(w, s.pruneTo);
      }
    }
    return w;
  }

  /** Publishes the open transient and answers the group. */
  private void publish() {
    Snapshot s = open.persistent();
    open = null;
    publishAndAnswer(s, group, groupWrites);
    group.clear();
    groupWrites = 0;
  }

  /**
   * Makes {@code s} the store's snapshot, wakes the change feeds, tells the EpochActor, and answers
   * the writes of {@code steps} ({@code writes} of them), in that order: a writer answered here
   * reads its own write.
   */
  private void publishAndAnswer(Snapshot s, Iterable<Step> steps, int writes) {
    setup.root().setSnapshotRelease(s);
    published = s;
    // Change feeds wake here; listeners only flag and hand off, never block (PublishListener).
    setup.root().listeners().published(s, getContext().getLog(), setup.storeName());
    assert !lifecycle.epochStopAsked : "published after the EpochActor was asked to stop";
    setup.epoch().tell(new EpochActor.Published(s, getContext().getSelf()));
    // Release the gate before replying, so that a writer answered here sees its slot free.
    setup.gate().answered(writes);
    for (Step step : steps) {
      if (step.isWrite()) {
        if (step.failure == null) {
          step.result.complete(step.version);
        } else {
          step.result.completeExceptionally(step.failure);
        }
      }
    }
  }

  /** Fails every write of the open group, steps that succeeded too; nothing of it is published. */
  private void failGroup(Throwable cause) {
    List<Step> steps = new ArrayList<>(group);
    int writes = groupWrites;
    group.clear();
    groupWrites = 0;
    setup.gate().answered(writes);
    for (Step step : steps) {
      if (step.isWrite()) {
        step.result.completeExceptionally(step.failure != null ? step.failure : cause);
      }
    }
  }

  // ---------------------------------------------------------------- durability

  /** The snapshot the next group builds on: the last published one, or the newest sealed one. */
  private Snapshot base() {
    return setup.journal() == null ? published : setup.journal().pipeline.head;
  }

  private boolean nothingLogging() {
    return setup.journal() == null || setup.journal().pipeline.logging.isEmpty();
  }

  /**
   * Ends the open group: publishes it if memory-only; if durable, seals it for the log when it is
   * {@code full}, when closing, or when no group is being logged and it need not wait for returning
   * writers; else leaves it open to grow until the group in the log is done or the wait ends.
   */
  private void endGroup(boolean full) {
    if (setup.journal() == null) {
      publish();
    } else if (full || closing || (nothingLogging() && !holdOpenGroup())) {
      seal();
    }
  }

  /** Whether the open group should wait for more writes before it is sealed (and arms the wait). */
  private boolean holdOpenGroup() {
    Journal journal = setup.journal();
    if (groupWrites >= holdTarget || journal.groupCommitWaitNanos == 0) {
      return false;
    }
    if (holdNumber == 0) {
      HoldOver over = new HoldOver(holdNumber = ++holds);
      ActorRef<Command> self = getContext().getSelf();
      if (journal.schedule(() -> self.tell(over), journal.groupCommitWaitNanos)) {
        lifecycle.fromTheLogThread++;
      }
    }
    return true;
  }

  private Behavior<Command> onHoldOver(HoldOver h) {
    lifecycle.fromTheLogThread--;
    if (h.number() == holdNumber) {
      holdNumber = 0;
      holdTarget = 0;
      if (open != null && nothingLogging()) {
        seal();
      }
    }
    return stopIfDrained();
  }

  /** Makes the open group persistent and hands it to the journal; it is published once logged. */
  private void seal() {
    holdTarget = 0;
    holdNumber = 0;
    Journal journal = setup.journal();
    Snapshot s = open.persistent();
    open = null;
    Sealed sealed = new Sealed(s, group.toArray(new Step[0]), groupWrites);
    group.clear();
    groupWrites = 0;
    Snapshot previous = journal.pipeline.head;
    journal.pipeline.head = s;
    journal.pipeline.logging.addLast(sealed);
    getContext().pipeToSelf(journal.append(previous, s), (ok, failure) -> new Logged(sealed, failure));
    lifecycle.fromTheLogThread++;
  }

  private Behavior<Command> onLogged(Logged logged) {
    lifecycle.fromTheLogThread--;
    Journal journal = setup.journal();
    if (journal.pipeline.logging.peekFirst() != logged.group()) {
      return stopIfDrained(); // failed already, with an earlier group
    }
    if (logged.failure() != null) {
      Throwable cause = logged.failure();
      if (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof UncheckedIOException && cause.getCause() != null) {
        cause = cause.getCause(); // the IOException of the append
      }
      if (cause instanceof IllegalArgumentException) {
        return onRefusedByLog(logged.group(), (IllegalArgumentException) cause);
      }
      StoreFailedException failure = journal.fail(cause);
      getContext()
          .getLog()
          .error(
              "[{}] appending versions [{}] to [{}] to the durable log failed; their writes and every later"
                  + " write are refused, reads go on at version [{}]",
              setup.storeName(),
              published.version() + 1,
              logged.group().snapshot.version(),
              published.version(),
              cause);
      failLogging(failure);
      open = null;
      failGroup(failure);
      return stopIfDrained();
    }
    journal.pipeline.logging.removeFirst();
    publishLogged(logged.group());
    if (nothingLogging()) {
      holdTarget = Math.min(setup.maxGroupWrites(), logged.group().writes + groupWrites);
      if (open != null && (closing || !holdOpenGroup())) {
        seal();
      }
    }
    return stopIfDrained();
  }

  /**
   * The log refused {@code group} before writing any of it (a version too big for one record): the
   * log and the store are sound, so the store goes on. The group fails with the refusal; the groups
   * sealed after it, and the open one, were built on it and fail too; nothing of them is published,
   * and the next group builds on the published snapshot again.
   */
  private Behavior<Command> onRefusedByLog(Sealed group, IllegalArgumentException refusal) {
    getContext()
        .getLog()
        .warn(
            "[{}] the durable log refused versions [{}] to [{}], which are not committed: {}",
            setup.storeName(),
            published.version() + 1,
            group.snapshot.version(),
            refusal.getMessage());
    failLogging(refusal);
    open = null;
    failGroup(refusal);
    return stopIfDrained();
  }

  /** Publishes a logged group and answers it, like {@link #publish()} for a sealed group. */
  private void publishLogged(Sealed sealed) {
    publishAndAnswer(sealed.snapshot, Arrays.asList(sealed.steps), sealed.writes);
    setup.journal().published(sealed.snapshot);
  }

  /** Fails every write of every sealed group not yet logged; the next group builds on the published. */
  private void failLogging(Throwable cause) {
    Journal journal = setup.journal();
    if (journal == null) {
      return;
    }
    for (Sealed sealed; (sealed = journal.pipeline.logging.pollFirst()) != null; ) {
      setup.gate().answered(sealed.writes);
      for (Step step : sealed.steps) {
        if (step.isWrite()) {
          step.result.completeExceptionally(step.failure != null ? step.failure : cause);
        }
      }
    }
    journal.pipeline.head = published;
  }

  private Behavior<Command> onPreRestart() {
    // An exception escaped a handler: whatever is still in the group was never published.
    open = null;
    failGroup(
        new IllegalStateException(
            "store [" + setup.storeName() + "]: the write was not applied: the writer restarted"));
    return this;
  }

  private Behavior<Command> onPostStop() {
    open = null;
    // Normally empty: the writer stops when drained. Not so when the actor system stops it.
    failGroup(
        new IllegalStateException(
            "store [" + setup.storeName() + "]: the write was not applied: the writer stopped"));
    failLogging(
        new IllegalStateException(
            "store [" + setup.storeName() + "]: the write was not acknowledged: the writer stopped while"
                + " it was being logged; after a reopen it may or may not be there"));
    setup.gate().close();
    setup.root().listeners().stop(published, getContext().getLog(), setup.storeName());
    if (!lifecycle.epochStopAsked) {
      // Stopped by the actor system, not drained after a close: nobody to answer to.
      lifecycle.epochStopAsked = true;
      setup.epoch().tell(new EpochActor.Stop(null));
    }
    setup.stopped().complete(Done.getInstance());
    return this;
  }
}
