package dev.zverse.streams;

import dev.zverse.actors.PublishListener;
import dev.zverse.engine.Snapshot;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.jspecify.annotations.Nullable;

/**
 * The publish listener of one stream stage: what the store's writer thread does for a feed on each
 * publish, and all of it. It stores the new snapshot in a volatile field and, unless a wake-up is
 * already on its way, sends the stage one (an async callback: one message to the stream's actor).
 * So the writer never blocks on a stage and never queues more than one message per stage, however
 * slow the consumer: a stage holds at most one pending wake-up.
 *
 * <p>No lost wake-up: the stage clears {@link #signalled} before it reads {@link #latest}; a
 * publish that lands after the clear sends a new wake-up, and one that landed before it is already
 * visible in {@link #latest} (written before the flag is tested).
 *
 * <p>Thread-safe: the writer thread calls the listener methods, the stage the rest.
 */
final class Wakeup implements PublishListener {
  private final AsyncCallback<Wakeup> callback;

  /** The newest snapshot published; written by the writer, read by the stage. */
  private volatile @Nullable Snapshot latest;

  /** Set by the writer once it has stopped, after {@link #latest} holds its final snapshot. */
  private volatile boolean stopped;

  /** Whether a wake-up was sent and the stage has not yet taken it. */
  private final AtomicBoolean signalled = new AtomicBoolean();

  Wakeup(AsyncCallback<Wakeup> callback) {
    this.callback = callback;
  }

  @Override
  public void published(Snapshot snapshot) {
    latest = snapshot;
    signal();
  }

  @Override
  public void stopped(Snapshot last) {
    Snapshot l = latest;
    if (l == null || l.version() < last.version()) {
      latest = last;
    }
    stopped = true;
    signal();
  }

  private void signal() {
    // A plain read first: under load the flag is usually set already, and a read is cheaper than a
    // CAS.
    if (!signalled.get() && signalled.compareAndSet(false, true)) {
      callback.invoke(this);
    }
  }

  /** Stage only: sends the stage a wake-up, to go on after the other messages waiting for it. */
  void poke() {
    signal();
  }

  /** Stage only: takes the wake-up, so that the next publish sends another one. */
  void taken() {
    signalled.set(false);
  }

  /** The newer of {@code known} and the last snapshot published; stage only. */
  Snapshot newest(Snapshot known) {
    Snapshot l = latest;
    return l != null && l.version() > known.version() ? l : known;
  }

  /** Whether the writer has stopped; then {@link #newest} includes its final snapshot. */
  boolean isStopped() {
    return stopped;
  }
}
