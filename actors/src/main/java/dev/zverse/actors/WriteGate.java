package dev.zverse.actors;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission of writes to one store: the closed flag and the count of writes sent and not yet
 * answered, which bounds the WriterActor's mailbox.
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
 * <p>Thread-safe.
 */
final class WriteGate {
  enum Admission {
    ADMITTED,
    CLOSED,
    OVERLOADED
  }

  /** The flag bit of {@link #state}; the bits below it count the pending writes (at most 2^24). */
  private static final int CLOSED = 1 << 30;

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
    for (; ; ) {
      int s = state.get();
      if ((s & CLOSED) != 0) {
        return Admission.CLOSED;
      }
      if (s >= maxPending) {
        metrics.overloads.increment();
        return Admission.OVERLOADED;
      }
      if (state.compareAndSet(s, s + 1)) {
        return Admission.ADMITTED;
      }
    }
  }

  /** The writer answered {@code n} writes. Writer only: it checks for the drain itself. */
  void answered(int n) {
    assert n >= 0 : n + " < 0";
    int after = state.addAndGet(-n);
    metrics.answered.add(n);
    assert (after & ~CLOSED) <= maxPending : "answered " + n + " writes more than were pending";
  }

  /** What the write path records: refusals here, published groups by the writer. */
  StoreMetrics.WriteRecorder metrics() {
    return metrics;
  }

  /** Writes sent and not yet answered (racy, for monitoring). */
  int pending() {
    return state.get() & ~CLOSED;
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
