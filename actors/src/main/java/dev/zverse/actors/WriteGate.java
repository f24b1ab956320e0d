package dev.zverse.actors;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Admission of writes to one store: the closed flag and the count of writes sent and not yet
 * answered, which bounds the WriterActor's mailbox.
 *
 * <h2>Design</h2>
 *
 * A caller {@linkplain #enter() enters} before it sends a write: it increments the count, and backs
 * out again if the store is closed or the count is over the bound, so that nothing is sent. The
 * writer {@linkplain #answered(int) subtracts} the writes it answers. The count therefore covers
 * every write message that is in, or about to be in, the writer's mailbox.
 *
 * <p>Closing is a Dekker-style handshake on two sequentially consistent variables. {@link #close()}
 * sets the flag and then the writer reads the count; a caller increments the count and then reads
 * the flag. Either the caller sees the flag and backs out, or the writer's read sees the increment
 * and waits for the write. So once the writer has seen the flag and a count of zero, no write can
 * arrive any more. A caller that backs out after the flag was set {@linkplain #nudge nudges} the
 * writer, because the writer may be waiting for exactly that decrement.
 *
 * <p>Thread-safe.
 */
final class WriteGate {
  enum Admission {
    ADMITTED,
    CLOSED,
    OVERLOADED
  }

  private final int maxPending;
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Set once, before the store is handed to anyone; read only to nudge during close. */
  private volatile ActorRef<WriterActor.Command> writer;

  WriteGate(int maxPending) {
    this.maxPending = maxPending;
  }

  void setWriter(ActorRef<WriterActor.Command> writer) {
    this.writer = writer;
  }

  /** Admits one write, or says why not; an admitted write must be sent to the writer. */
  Admission enter() {
    if (closed.get()) {
      return Admission.CLOSED;
    }
    int n = pending.incrementAndGet();
    if (closed.get()) {
      // Closed between the two reads: the writer may already have counted us. Back out.
      backOut();
      return Admission.CLOSED;
    }
    if (n > maxPending) {
      backOut();
      return Admission.OVERLOADED;
    }
    return Admission.ADMITTED;
  }

  private void backOut() {
    pending.decrementAndGet();
    if (closed.get()) {
      nudge();
    }
  }

  /** The writer answered {@code n} writes. Writer only: it checks for the drain itself. */
  void answered(int n) {
    assert n >= 0 : n + " < 0";
    pending.addAndGet(-n);
  }

  /** Writes sent and not yet answered (racy, for monitoring). */
  int pending() {
    return pending.get();
  }

  /** Whether every admitted write has been answered; meaningful once {@link #isClosed()}. */
  boolean drained() {
    return pending.get() == 0;
  }

  boolean isClosed() {
    return closed.get();
  }

  /** Sets the closed flag; true for the call that set it. */
  boolean close() {
    return closed.compareAndSet(false, true);
  }

  private void nudge() {
    ActorRef<WriterActor.Command> w = writer;
    if (w != null) {
      w.tell(WriterActor.CheckDrained.INSTANCE);
    }
  }
}
