package dev.zverse.cluster;

import dev.zverse.actors.PublishListener;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * What a node's replica actor tells the {@link ClusterStore} facade, and the facade's waiters for
 * versions ({@link ClusterStore#awaitVersion}).
 *
 * <h2>Waiting for a version</h2>
 *
 * A waiter is queued by version, and the replica store's publish listener completes every waiter at
 * or below the version it publishes. A waiter queued while a publish passes the queue would be
 * missed, so {@link #await} reads the latest snapshot after queueing (a publish listener and the
 * snapshot's release store form the handshake that {@code PublishListener} documents): whichever of
 * the two sees the version completes the waiter; completing twice is harmless.
 *
 * <p>Thread-safe: the actor writes the volatile fields, any thread reads them.
 */
final class ReplicaState implements PublishListener {
  private record Waiter(long version, long seq, CompletableFuture<Snapshot> result)
      implements Comparable<Waiter> {
    @Override
    public int compareTo(Waiter o) {
      int c = Long.compare(version, o.version);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private final ZVerseStore replica;
  private final PriorityBlockingQueue<Waiter> waiters = new PriorityBlockingQueue<>();
  private final AtomicLong seq = new AtomicLong();

  /** Completes when the writer first answered this replica; exceptionally if it refused it. */
  final CompletableFuture<Long> following = new CompletableFuture<>();

  /** Written by the replica actor only; read by anyone. */
  volatile long writerVersion;

  /** The commit time of the newest commit received from the writer. */
  volatile Instant writerTime = Instant.EPOCH;

  /** The commit time of the first commit ever received, or null before one was. */
  volatile @Nullable Instant firstTime;

  /** The highest term this node's replica promised: where a writer starting here begins. */
  volatile long promisedTerm;

  /** The creation terms of the replica's history: where a writer starting here begins. */
  volatile TermBoundaries history = TermBoundaries.NONE;

  /** The last version the replica received (held, maybe not yet visible). */
  volatile long received;

  /**
   * Completes with the term of the first message of a writer of a lower term than promised that the
   * replica refused: an observable event for tests (they await it instead of polling).
   */
  final CompletableFuture<Long> staleRefused = new CompletableFuture<>();

  volatile boolean catchingUp;
  volatile int failedTransfers;
  volatile boolean writerReachable;
  volatile @Nullable RuntimeException failure;

  ReplicaState(ZVerseStore replica) {
    this.replica = replica;
  }

  /** The replica's version now: what its reads see. */
  long applied() {
    return replica.advanced().lastPublished().version();
  }

  /** Received commits from {@code first} to {@code last}: their commit times. Actor only. */
  void knowCommitTimes(CommitRecord first, CommitRecord last) {
    if (firstTime == null) {
      firstTime = first.commitTime();
    }
    if (last.commitTime().isAfter(writerTime)) {
      writerTime = last.commitTime();
    }
  }

  /**
   * The status now. The lag in time is measured on the writer's clock, by the commit times: from
   * the replica's latest applied commit (or the first it received) to the newest it received.
   */
  ReplicaStatus status() {
    Snapshot s = replica.advanced().lastPublished();
    long applied = s.version();
    long writer = Math.max(writerVersion, applied);
    Instant from = applied > 0 ? s.commitTime(applied) : firstTime;
    Duration lagTime =
        writer > applied && from != null && writerTime.isAfter(from)
            ? Duration.between(from, writerTime)
            : Duration.ZERO;
    RuntimeException f = failure;
    return new ReplicaStatus(
        applied,
        writer,
        writer - applied,
        lagTime,
        catchingUp,
        failedTransfers,
        writerReachable,
        f == null ? Optional.empty() : Optional.of(String.valueOf(f.getMessage())));
  }

  /**
   * A stage completing with a snapshot at {@code version} or later, once the replica publishes one.
   */
  CompletableFuture<Snapshot> await(long version) {
    CompletableFuture<Snapshot> result = new CompletableFuture<>();
    Snapshot now = replica.advanced().lastPublished();
    if (now.version() >= version) {
      result.complete(now);
      return result;
    }
    RuntimeException f = failure;
    if (f != null) {
      result.completeExceptionally(f);
      return result;
    }
    Waiter w = new Waiter(version, seq.incrementAndGet(), result);
    waiters.add(w);
    // A publish that passed the queue before the waiter was in it: see the class comment.
    Snapshot after = replica.advanced().lastPublished();
    if (after.version() >= version && waiters.remove(w)) {
      result.complete(after);
    }
    return result;
  }

  /** Forgets a waiter that timed out, so that the queue holds only those still waiting. */
  void forget(CompletableFuture<Snapshot> result) {
    waiters.removeIf(w -> w.result() == result);
  }

  /** The replica cannot follow: fails every waiter with {@code why}, and every later wait. */
  void fail(RuntimeException why) {
    failure = why;
    following.completeExceptionally(why);
    for (Waiter w; (w = waiters.poll()) != null; ) {
      w.result().completeExceptionally(why);
    }
  }

  @Override
  public void published(Snapshot snapshot) {
    for (Waiter w; (w = waiters.peek()) != null && w.version() <= snapshot.version(); ) {
      if (waiters.remove(w)) {
        w.result().complete(snapshot);
      }
    }
  }

  @Override
  public void stopped(Snapshot last) {
    IllegalStateException closed =
        new IllegalStateException("store [" + replica.name() + "]: the replica is closed");
    for (Waiter w; (w = waiters.poll()) != null; ) {
      w.result().completeExceptionally(closed);
    }
  }
}
