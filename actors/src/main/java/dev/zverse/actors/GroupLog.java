package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * The durable side of group commit: seals the {@link WriterActor}'s groups for its {@link Journal},
 * keeps them in order until they are logged, and decides how long an open group is held over for
 * writers coming back.
 *
 * <h2>Design</h2>
 *
 * A durable group is not published when it ends but <em>sealed</em>: made persistent and handed to
 * the journal's log thread, which appends it as one record and forces it per the sync policy. Only
 * when the append is done ({@link Logged}) is the group published and answered, so under {@code
 * every-commit} no reader ever sees, and no writer is told, a version that a crash could lose.
 * Meanwhile the writer opens the next group on top of the sealed snapshot ({@link #head()}) and
 * applies the writes that keep arriving; at most one group is in the log at a time unless a group
 * fills up, so the next group grows by exactly the writes that came in during the force (group
 * commit sized by the disk).
 *
 * <p>That alone would split steady writers into two cohorts: while group N is forced, the writers
 * it holds are waiting for it, so N + 1 gathers only the others, and sealing N + 1 the moment N is
 * on disk leaves the writers N just answered for N + 2; each force would serve half of them. So
 * when N is logged, N + 1 is sealed only once it holds as many writes as N answered plus what it
 * held then (the writers coming back), or when {@code durability.group-commit-wait} ends ({@link
 * HoldOver}, timed on the journal's log thread), whichever is first. A lone writer is never held:
 * its next write alone reaches the target.
 *
 * <p>Writer-confined. It outlives restarts of the writer (the store hands it in through {@link
 * WriterActor.Setup}), as the groups in the log thread and the messages on their way do.
 */
final class GroupLog {

  /**
   * A group made persistent and handed to the journal, published once logged.
   *
   * @param snapshot the group's persistent snapshot
   * @param group its steps, answered once it is published (or failed)
   */
  record Sealed(Snapshot snapshot, Group group) {}

  /**
   * The journal appended {@code sealed}, or could not.
   *
   * @param sealed the group
   * @param failure why the append failed, or null
   */
  record Logged(Sealed sealed, @Nullable Throwable failure) implements WriterActor.Command {
    /**
     * The failure as the log threw it: the {@link IOException} of the append, or a refusal.
     *
     * @throws IllegalStateException if the append succeeded
     */
    Throwable cause() {
      Throwable cause = failure;
      if (cause == null) {
        throw new IllegalStateException("the append of a group succeeded: it has no cause");
      }
      if (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof UncheckedIOException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      return cause;
    }
  }

  /**
   * The end of wait {@code number} for the open group's returning writers.
   *
   * @param number which wait, so that a late one is ignored
   */
  record HoldOver(long number) implements WriterActor.Command {}

  /**
   * The journal reset the log to a replica's base ({@link Journal#reset}), or could not.
   *
   * @param reset the reset asked for
   * @param failure why the log was not reset, or null
   */
  record ResetLogged(WriterActor.Reset reset, @Nullable Throwable failure)
      implements WriterActor.Command {}

  private final Journal journal;

  /** A replica's reset waiting for the groups in the log; null if none waits. */
  private WriterActor.@Nullable Reset resetWaiting;

  /** The reset the log thread runs; null if none runs. */
  private WriterActor.@Nullable Reset resetRunning;

  /**
   * The writes, groups and resets that arrived while a reset waited or ran, in order: they follow
   * the base, so they are handled once it is published.
   */
  private final ArrayDeque<WriterActor.Command> afterReset = new ArrayDeque<>();

  /** The longest a group waits for its returning writers; 0 = never. */
  private final long waitNanos;

  /** The sealed groups whose append is not done yet, oldest first. */
  private final ArrayDeque<Sealed> logging = new ArrayDeque<>();

  /** The newest sealed snapshot (or the recovered one): the next group builds on it. */
  private Snapshot head;

  /** The writes the open group should reach before it is sealed. */
  private int holdTarget;

  /** Number of the open group's wait, to ignore a late {@link HoldOver}; 0 when none is armed. */
  private long holdNumber;

  private long holds;

  /** Messages from the log thread not yet received: each {@link Logged} and {@link HoldOver}. */
  private int inFlight;

  /**
   * @param journal the store's journal; the first group builds on what it recovered
   * @param groupCommitWait the longest a group waits for returning writers; zero never waits
   */
  GroupLog(Journal journal, Duration groupCommitWait) {
    this.journal = journal;
    this.waitNanos = groupCommitWait.toNanos();
    this.head = journal.recovered();
  }

  /** The store's failure, or null while it takes writes. */
  @Nullable StoreFailedException failure() {
    return journal.failure();
  }

  /** The snapshot the next group builds on: the newest sealed one. */
  Snapshot head() {
    return head;
  }

  /** Whether no group is being logged and no reset waits or runs. */
  boolean idle() {
    return logging.isEmpty() && resetWaiting == null && resetRunning == null;
  }

  /**
   * Takes a replica's reset to {@code reset.base()}: run on the log thread once the groups sealed
   * before it are logged (they hold versions below the base: the caller refuses a base behind the
   * head), so that the log never holds a version of the old history after the base's checkpoint.
   * The writer opens no group meanwhile ({@link #idle()} is false), and publishes the base on
   * {@link ResetLogged}.
   *
   * @return whether the reset was started now; false if it waits for {@link #resetIfDue}
   */
  boolean reset(WriterActor.Reset reset, ActorContext<WriterActor.Command> context) {
    assert resetWaiting == null && resetRunning == null : "one reset at a time";
    forgetHold();
    resetWaiting = reset;
    return resetIfDue(context);
  }

  /**
   * Starts the waiting reset if nothing is being logged any more.
   *
   * @return whether one was started
   */
  boolean resetIfDue(ActorContext<WriterActor.Command> context) {
    WriterActor.Reset reset = resetWaiting;
    if (reset == null || !logging.isEmpty()) {
      return false;
    }
    resetWaiting = null;
    resetRunning = reset;
    context.pipeToSelf(
        journal.reset(reset.base()), (ok, failure) -> new ResetLogged(reset, failure));
    inFlight++;
    return true;
  }

  /**
   * A {@link ResetLogged} arrived: on success the next group builds on the base, and checkpoints
   * count from its version.
   *
   * @return the failure, unwrapped as {@link Logged#cause()} does, or null if the log was reset
   */
  @Nullable Throwable resetLogged(ResetLogged done) {
    inFlight--;
    resetRunning = null;
    Throwable failure = done.failure();
    if (failure == null) {
      head = done.reset().base();
      journal.resetDone(head);
      return null;
    }
    if (failure instanceof CompletionException && failure.getCause() != null) {
      failure = failure.getCause();
    }
    if (failure instanceof UncheckedIOException && failure.getCause() != null) {
      failure = failure.getCause();
    }
    return failure;
  }

  /** Whether a reset waits or runs: what changes the store must wait for it ({@link #keep}). */
  boolean resetting() {
    return resetWaiting != null || resetRunning != null;
  }

  /** Keeps {@code command}, which arrived while a reset waits or runs, until it is done. */
  void keep(WriterActor.Command command) {
    afterReset.addLast(command);
  }

  /** Takes the next command kept while the reset ran, or null if none is kept. */
  WriterActor.@Nullable Command nextKept() {
    return afterReset.pollFirst();
  }

  /** The resets waiting or running, to be failed when the writer stops; forgets them. */
  List<WriterActor.Reset> dropResets() {
    List<WriterActor.Reset> dropped = new ArrayList<>(2);
    if (resetWaiting != null) {
      dropped.add(resetWaiting);
    }
    if (resetRunning != null) {
      dropped.add(resetRunning);
    }
    resetWaiting = null;
    resetRunning = null;
    return dropped;
  }

  /**
   * How many messages from the log thread are still on their way to the writer, which stops only
   * once none is (one left in its mailbox would be a dead letter).
   */
  int inFlight() {
    return inFlight;
  }

  /**
   * Whether the open group, holding {@code writes} writes, is to be sealed now: when it is {@code
   * full}, when the store is {@code closing}, or when no group is being logged and it need not wait
   * for returning writers. Arms the wait for them if it must, which ends in a {@link HoldOver} to
   * {@code self}.
   */
  boolean sealNow(int writes, boolean full, boolean closing, ActorRef<WriterActor.Command> self) {
    if (full || closing) {
      return true;
    }
    if (!logging.isEmpty()) {
      return false;
    }
    // A group without writes (an idle store's prune) has no writer to wait for.
    if (writes == 0 || writes >= holdTarget || waitNanos == 0) {
      return true;
    }
    if (holdNumber == 0) {
      holdNumber = ++holds;
      HoldOver over = new HoldOver(holdNumber);
      if (journal.schedule(() -> self.tell(over), waitNanos)) {
        inFlight++;
      }
    }
    return false;
  }

  /**
   * A {@link HoldOver} arrived.
   *
   * @return whether it ends the current wait: then the open group is sealed if nothing is logging
   */
  boolean holdOver(HoldOver over) {
    inFlight--;
    if (over.number() != holdNumber) {
      return false;
    }
    forgetHold();
    return true;
  }

  /** Forgets the wait of the open group, which is gone or sealed. */
  void forgetHold() {
    holdNumber = 0;
    holdTarget = 0;
  }

  /**
   * Hands {@code group}, made persistent as {@code snapshot}, to the journal after the head; {@code
   * context}'s actor gets its {@link Logged}.
   */
  void seal(Snapshot snapshot, Group group, ActorContext<WriterActor.Command> context) {
    forgetHold();
    Sealed sealed = new Sealed(snapshot, group);
    Snapshot previous = head;
    head = snapshot;
    logging.addLast(sealed);
    context.pipeToSelf(
        journal.append(previous, snapshot), (ok, failure) -> new Logged(sealed, failure));
    inFlight++;
  }

  /**
   * A {@link Logged} arrived.
   *
   * @return whether it is about the oldest group in the log; false if that group was failed
   *     already, along with an earlier one
   */
  @SuppressWarnings("ReferenceEquality") // the very group sealed, not an equal one
  boolean isOldest(Logged logged) {
    inFlight--;
    return logging.peekFirst() == logged.sealed();
  }

  /**
   * The oldest group was logged and published: asks for a checkpoint if due, and once nothing is
   * logging, sets what the open group waits for: as many writes as this group answered plus the
   * {@code openWrites} it holds already, at most {@code maxGroupWrites}.
   */
  @SuppressWarnings("ReferenceEquality") // the very group sealed, not an equal one
  void published(Sealed sealed, int openWrites, int maxGroupWrites) {
    Sealed oldest = logging.removeFirst();
    assert oldest == sealed : "published a group out of log order";
    journal.published(sealed.snapshot());
    if (logging.isEmpty()) {
      holdTarget = Math.min(maxGroupWrites, sealed.group().writes() + openWrites);
    }
  }

  /**
   * The append of {@code logged}, the oldest group, failed: says why its writes are not committed,
   * and logs it. A refusal before anything was written (an {@link IllegalArgumentException}: a
   * version too big for one record) leaves the log and the store sound, so the store goes on. Any
   * other failure is recorded as the store's failure: every later write is refused with it.
   *
   * @param published the last published snapshot: reads go on from it
   * @return what the group's writes fail with
   */
  Throwable failed(Logged logged, Snapshot published, Logger log, String storeName) {
    Throwable cause = logged.cause();
    long from = published.version() + 1;
    long to = logged.sealed().snapshot().version();
    if (cause instanceof IllegalArgumentException refusal) {
      log.warn(
          "[{}] the durable log refused versions [{}] to [{}], which are not committed: {}",
          storeName,
          from,
          to,
          refusal.getMessage());
      return refusal;
    }
    log.error(
        "[{}] appending versions [{}] to [{}] to the durable log failed; their writes and every"
            + " later write are refused, reads go on at version [{}]",
        storeName,
        from,
        to,
        published.version(),
        cause);
    return journal.fail(cause);
  }

  /**
   * Takes every sealed group out of the log's queue, to be failed: nothing of them is published,
   * and the next group builds on {@code published} again.
   *
   * @return the groups, oldest first
   */
  List<Group> dropAll(Snapshot published) {
    List<Group> dropped = new ArrayList<>(logging.size());
    for (Sealed sealed; (sealed = logging.pollFirst()) != null; ) {
      dropped.add(sealed.group());
    }
    head = published;
    return dropped;
  }
}
