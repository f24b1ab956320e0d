package dev.zverse.actors;

import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.List;
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
 * <h2>Closing</h2>
 *
 * On {@link Close} (sent after the {@link WriteGate} was closed) the writer publishes its open
 * group, then goes on committing the writes still arriving, which were admitted before the close,
 * and stops once the gate has no write left unanswered. Prunes are ignored from then on.
 *
 * <p>Actor-confined: every field is touched only by the actor's messages.
 */
final class WriterActor extends AbstractBehavior<WriterActor.Command> {

  /** The writer's protocol. Local only: writes carry a future, not a serializable reference. */
  interface Command {}

  /**
   * Apply {@code batch} as one version; complete {@code replyTo} with it once published.
   *
   * @param batch the batch
   * @param replyTo completed with the committed version, or exceptionally if not committed
   */
  record Write(WriteBatch batch, CompletableFuture<Long> replyTo) implements Command {}

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

  /** A caller backed out of the gate during close: the writer may now be drained. */
  enum CheckDrained implements Command {
    INSTANCE
  }

  /**
   * How a batch is applied to the open transient: {@code Transient.apply} in production, the seam
   * where tests inject slow or failing writes.
   */
  @FunctionalInterface
  interface Applier {
    Applier DEFAULT = (tx, batch, commitTimeMillis) -> tx.apply(batch, commitTimeMillis);

    /**
     * @return the version the batch took
     */
    long apply(Transient tx, WriteBatch batch, long commitTimeMillis);
  }

  /** Everything the writer is started with. */
  record Setup(
      String storeName,
      Root root,
      WriteGate gate,
      ActorRef<EpochActor.Command> epoch,
      Applier applier,
      int maxGroupWrites,
      CompletableFuture<Done> stopped) {}

  /** One step of a group: a write (with its outcome once applied) or a prune. */
  private static final class Step {
    final WriteBatch batch;
    final CompletableFuture<Long> replyTo;
    final long timeMillis;
    final long pruneTo;
    long version;
    Throwable failure;

    Step(WriteBatch batch, CompletableFuture<Long> replyTo, long timeMillis, long pruneTo) {
      this.batch = batch;
      this.replyTo = replyTo;
      this.timeMillis = timeMillis;
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
    return Behaviors.supervise(Behaviors.<Command>setup(ctx -> new WriterActor(ctx, setup)))
        .onFailure(Throwable.class, SupervisorStrategy.restart());
  }

  private final Setup setup;
  private final ArrayList<Step> group = new ArrayList<>();
  private Snapshot published;
  private Transient open;
  private int groupWrites;
  private boolean flushInFlight;
  private boolean closing;

  private WriterActor(ActorContext<Command> context, Setup setup) {
    super(context);
    this.setup = setup;
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
        .onMessageEquals(CheckDrained.INSTANCE, this::stopIfDrained)
        .onSignal(PreRestart.class, signal -> onPreRestart())
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onWrite(Write w) {
    add(new Step(w.batch(), w.replyTo(), System.currentTimeMillis(), -1));
    if (groupWrites >= setup.maxGroupWrites()) {
      publish();
    }
    return stopIfDrained();
  }

  private Behavior<Command> onPrune(Prune p) {
    if (!closing && p.watermark() > (open != null ? watermarkOfOpen() : published.watermark())) {
      add(new Step(null, null, 0, p.watermark()));
    }
    return this;
  }

  private Behavior<Command> onFlush() {
    flushInFlight = false;
    if (open != null) {
      publish();
    }
    return stopIfDrained();
  }

  private Behavior<Command> onClose() {
    closing = true;
    if (open != null) {
      publish();
    }
    return stopIfDrained();
  }

  private Behavior<Command> stopIfDrained() {
    return closing && open == null && setup.gate().drained() ? Behaviors.stopped() : this;
  }

  /** Applies one step to the open group, opening it (and asking for its marker) if needed. */
  private void add(Step step) {
    if (open == null) {
      open = published.asTransient();
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
      step.version = setup.applier().apply(tx, step.batch, step.timeMillis);
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
            published.version(),
            fault);
    open = published.asTransient();
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
    long w = published.watermark();
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
    setup.root().setSnapshotRelease(s);
    published = s;
    // Change feeds wake here; listeners only flag and hand off, never block (PublishListener).
    setup.root().listeners().published(s, getContext().getLog(), setup.storeName());
    setup.epoch().tell(new EpochActor.Published(s, getContext().getSelf()));
    // Release the gate before replying, so that a writer answered here sees its slot free.
    setup.gate().answered(groupWrites);
    for (Step step : group) {
      if (step.isWrite()) {
        if (step.failure == null) {
          step.replyTo.complete(step.version);
        } else {
          step.replyTo.completeExceptionally(step.failure);
        }
      }
    }
    group.clear();
    groupWrites = 0;
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
        step.replyTo.completeExceptionally(step.failure != null ? step.failure : cause);
      }
    }
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
    setup.gate().close();
    setup.root().listeners().stop(published, getContext().getLog(), setup.storeName());
    setup.epoch().tell(EpochActor.Stop.INSTANCE);
    setup.stopped().complete(Done.getInstance());
    return this;
  }
}
