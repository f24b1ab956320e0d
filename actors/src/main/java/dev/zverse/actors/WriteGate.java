package dev.zverse.actors;

import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Admission of writes to one store: the closed flag and the count of writes sent and not yet
 * answered, which bounds the WriterActor's mailbox; and who may change the writer's state now, the
 * WriterActor or a caller that runs its own write (caller-runs).
 *
 * <h2>Design</h2>
 *
 * The flag and the count share one word ({@link #CLOSED} plus the count), changed only by compare
 * and set. A caller {@linkplain #enter() enters} before it sends a write: one CAS adds it to the
 * count if the store is open and the count is under the bound, and nothing changes otherwise, so
 * that nothing is sent. The writer {@linkplain #answered(int) subtracts} the writes it answers. The
 * count therefore covers every write message that is in, or about to be in, the writer's mailbox.
 *
 * <p>Because the flag and the count change together, once the writer has seen the flag with a count
 * of zero no write can ever be admitted again: the writer may stop. A caller never has to back out
 * of a closed gate, and so never has to tell the writer that it did (a message that could reach a
 * writer that already stopped, a dead letter).
 *
 * <h2>Caller-runs</h2>
 *
 * A caller that finds the store open, no write pending and nobody owning the writer's state may
 * {@linkplain #enter(boolean) enter as its owner} ({@link Admission#OWNER}): the same CAS that
 * admits it sets {@link #CALLER}. It then applies and publishes its own write on its own thread, as
 * the WriterActor would have (see {@link WriterActor#runForCaller}), and {@linkplain
 * #leaveAsCaller() leaves}. The WriterActor {@linkplain #actorEnter() enters} the same way before
 * it handles any message ({@link #ACTOR}) and {@linkplain #actorLeave() leaves} when its mailbox
 * turn is done. The two bits exclude each other, so the writer's state (the published snapshot, the
 * open group) is only ever changed by one thread at a time, and each CAS orders the owner's writes
 * before the next owner's reads.
 *
 * <p>Nobody waits for the other. An actor that finds a caller owning sets {@link #WAITING} and
 * keeps the message for later; the caller, leaving, sees the flag and hands ownership straight to
 * the actor (clearing {@link #CALLER} and setting {@link #ACTOR} in one CAS), then tells it to
 * resume: no caller can slip in between, so a waiting actor is never starved. A caller enters only
 * with no write pending, so no write of its own can be queued before it in the mailbox: per-caller
 * order holds, and a write admitted while a caller owns (pending count above zero) goes to the
 * actor's mailbox as before.
 *
 * <p>Thread-safe.
 */
final class WriteGate {
  enum Admission {
    /** Admitted: send the write to the writer. */
    ADMITTED,
    /** Admitted and owning the writer's state: run the write, then {@link #leaveAsCaller()}. */
    OWNER,
    CLOSED,
    OVERLOADED
  }

  /** The closed flag of {@link #state}. */
  private static final int CLOSED = 1 << 30;

  /** A caller owns the writer's state. */
  private static final int CALLER = 1 << 29;

  /** The WriterActor owns the writer's state. */
  private static final int ACTOR = 1 << 28;

  /** The WriterActor kept a message for later because a caller owned the state. */
  private static final int WAITING = 1 << 27;

  /** The bits of {@link #state} that count the pending writes (at most 2^24). */
  private static final int COUNT = (1 << 25) - 1;

  /** The writer whose state a caller may own, set once it exists; null before. */
  private volatile @Nullable WriterActor writer;

  private final int maxPending;

  /** {@link #CLOSED} if closed, plus the writes sent and not yet answered. */
  private final AtomicInteger state = new AtomicInteger();

  /** What the write path records for {@link StoreMetrics}. */
  private final StoreMetrics.WriteRecorder metrics = new StoreMetrics.WriteRecorder();

  WriteGate(int maxPending) {
    assert maxPending > 0 && maxPending < CLOSED : "maxPending " + maxPending;
    this.maxPending = maxPending;
  }

  /** Admits one write, or says why not; an admitted write must be sent to the writer. */
  Admission enter() {
    return enter(false);
  }

  /**
   * Admits one write, or says why not. With {@code mayOwn}, a write that finds no write pending and
   * nobody owning the writer's state is admitted as its owner ({@link Admission#OWNER}).
   *
   * @param mayOwn whether the caller may run its write itself (a memory-only store that allows it)
   * @return the admission; an {@link Admission#ADMITTED} write must be sent to the writer
   */
  Admission enter(boolean mayOwn) {
    for (; ; ) {
      int s = state.get();
      if ((s & CLOSED) != 0) {
        return Admission.CLOSED;
      }
      if ((s & COUNT) >= maxPending) {
        metrics.overloads.increment();
        return Admission.OVERLOADED;
      }
      if (mayOwn && s == 0 && writer != null) {
        if (state.compareAndSet(0, CALLER | 1)) {
          return Admission.OWNER;
        }
      } else if (state.compareAndSet(s, s + 1)) {
        return Admission.ADMITTED;
      }
    }
  }

  /**
   * Leaves the writer's state after {@link Admission#OWNER}: frees it, or hands it to the
   * WriterActor if it waits.
   *
   * @return true if the actor waited: it owns the state now and must be told to resume
   */
  boolean leaveAsCaller() {
    for (; ; ) {
      int s = state.get();
      assert (s & CALLER) != 0 : "a caller left the writer's state without owning it";
      boolean waiting = (s & WAITING) != 0;
      int next = waiting ? (s & ~(CALLER | WAITING)) | ACTOR : s & ~CALLER;
      if (state.compareAndSet(s, next)) {
        if (waiting) {
          metrics.handOvers.increment();
        }
        return waiting;
      }
    }
  }

  /**
   * The WriterActor takes the writer's state before it handles a message. Writer only.
   *
   * @return true if it owns the state (also if it did already: handed over, or held across a
   *     restart); false if a caller owns it, and then the caller will hand it over when it leaves
   */
  boolean actorEnter() {
    for (; ; ) {
      int s = state.get();
      if ((s & ACTOR) != 0) {
        return true;
      }
      boolean caller = (s & CALLER) != 0;
      if (state.compareAndSet(s, caller ? s | WAITING : s | ACTOR)) {
        return !caller;
      }
    }
  }

  /**
   * The WriterActor takes the writer's state as it stops, waiting for a caller to leave (one
   * write's apply) without asking it to hand over: the stopped actor would never resume.
   */
  void actorEnterToStop() {
    for (; ; ) {
      int s = state.get();
      if ((s & ACTOR) != 0) {
        return;
      }
      if ((s & CALLER) != 0) {
        Thread.onSpinWait();
      } else if (state.compareAndSet(s, s | ACTOR)) {
        return;
      }
    }
  }

  /** The WriterActor frees the writer's state, if it owns it. Writer only. */
  void actorLeave() {
    for (; ; ) {
      int s = state.get();
      if ((s & ACTOR) == 0 || state.compareAndSet(s, s & ~ACTOR)) {
        return;
      }
    }
  }

  /** Whether a writer is attached, no write is pending and nobody owns its state (tests). */
  boolean ownerless() {
    return writer != null && state.get() == 0;
  }

  /** Whether the WriterActor keeps a message until a caller that owns the state leaves (tests). */
  boolean actorWaiting() {
    return (state.get() & WAITING) != 0;
  }

  /** Makes {@code w} the writer a caller may run its write on. Writer only, as it starts. */
  void attach(WriterActor w) {
    writer = w;
  }

  /** The writer to run a caller's write on, after {@link Admission#OWNER}. */
  WriterActor writer() {
    WriterActor w = writer;
    if (w == null) {
      throw new IllegalStateException("no writer attached: OWNER is admitted only once one is");
    }
    return w;
  }

  /** The writer answered {@code n} writes. Writer only: it checks for the drain itself. */
  void answered(int n) {
    assert n >= 0 : n + " < 0";
    int after = state.addAndGet(-n);
    metrics.answered.add(n);
    assert (after & COUNT) <= maxPending : "answered " + n + " writes more than were pending";
  }

  /** What the write path records: refusals here, published groups by the writer. */
  StoreMetrics.WriteRecorder metrics() {
    return metrics;
  }

  /** Writes sent and not yet answered (racy, for monitoring). */
  int pending() {
    return state.get() & COUNT;
  }

  /** Whether every admitted write has been answered; meaningful once {@link #isClosed()}. */
  boolean drained() {
    return pending() == 0;
  }

  boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }

  /** Sets the closed flag; true for the call that set it. */
  boolean close() {
    for (; ; ) {
      int s = state.get();
      if ((s & CLOSED) != 0) {
        return false;
      }
      if (state.compareAndSet(s, s | CLOSED)) {
        return true;
      }
    }
  }
}
