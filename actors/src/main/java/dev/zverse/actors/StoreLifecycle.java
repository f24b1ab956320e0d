package dev.zverse.actors;

import dev.zverse.engine.DurableLog;
import dev.zverse.engine.WriteBatch;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.jspecify.annotations.Nullable;

/**
 * The plumbing behind {@link ZVerseStore}'s writes and close: the write gate, the writer, the
 * journal of a durable store and the coordinated-shutdown task, so that the facade keeps only its
 * API. One per store.
 *
 * <p>Thread-safe: the gate decides every race between writes and the close; the shutdown task is
 * volatile.
 */
final class StoreLifecycle {
  private final String storeName;
  private final int maxPendingWrites;
  private final WriteGate gate;
  private final ActorRef<WriterActor.Command> writer;
  private final CompletableFuture<Done> stopped;

  /** The durable log and its threads; null for a memory-only store. */
  private final @Nullable Journal journal;

  /** Whether a write that finds the writer idle may run on the caller's thread. */
  private final boolean callerRuns;

  /** Whether the store is a replica, whose own writes are refused. */
  private final boolean replica;

  /** Set right after opening; null only if coordinated shutdown was already running then. */
  private volatile @Nullable Cancellable shutdownTask;

  StoreLifecycle(
      String storeName,
      int maxPendingWrites,
      WriteGate gate,
      ActorRef<WriterActor.Command> writer,
      CompletableFuture<Done> stopped,
      @Nullable Journal journal,
      boolean replica,
      boolean callerRuns) {
    this.storeName = storeName;
    // A durable store's force is its log thread's: its writes always go through the actor.
    this.callerRuns = callerRuns && journal == null && !replica;
    this.maxPendingWrites = maxPendingWrites;
    this.gate = gate;
    this.writer = writer;
    this.stopped = stopped;
    this.journal = journal;
    this.replica = replica;
  }

  /** Cancels {@code task}, the close that coordinated shutdown would run, when closed first. */
  void closeOnShutdown(Cancellable task) {
    shutdownTask = task;
  }

  /** {@link ZVerseStore#close()}: the first call closes the gate and tells the writer. */
  CompletionStage<Done> close() {
    if (gate.close()) {
      Cancellable task = shutdownTask;
      if (task != null) {
        task.cancel();
      }
      writer.tell(WriterActor.Close.INSTANCE);
    }
    return stopped.minimalCompletionStage();
  }

  boolean isClosed() {
    return gate.isClosed();
  }

  /**
   * Throws unless the store is open.
   *
   * @throws IllegalStateException if the store is closed
   */
  void checkOpen() {
    if (gate.isClosed()) {
      throw closed();
    }
  }

  /** The write gate. */
  WriteGate gate() {
    return gate;
  }

  /** Writes sent and not yet answered. */
  int pendingWrites() {
    return gate.pending();
  }

  /**
   * Sends {@code batch} to the writer, who completes {@code reply}; or completes it at once if the
   * log failed or the store is overloaded.
   *
   * @throws IllegalStateException if the store is closed
   */
  void send(WriteBatch batch, CompletableFuture<Long> reply) {
    if (replica) {
      throw new UnsupportedOperationException(
          "store ["
              + storeName
              + "] is a replica: it follows a writer, and writes go through the cluster store"
              + " (ClusterStore.write)");
    }
    StoreFailedException failed = journal == null ? null : journal.failure();
    if (failed != null && !gate.isClosed()) {
      reply.completeExceptionally(failed);
      return;
    }
    // One tell per write from the caller's thread: Pekko keeps the order of one sender's messages
    // to one actor, which is the per-caller commit order.
    switch (gate.enter(callerRuns)) {
      case ADMITTED -> writer.tell(new WriterActor.Write(batch, reply));
      case OWNER -> runAsOwner(batch, reply);
      case OVERLOADED ->
          reply.completeExceptionally(new StoreOverloadedException(storeName, maxPendingWrites));
      case CLOSED -> throw closed();
    }
  }

  /**
   * Runs {@code batch} on this thread as the owner of the writer's state (see {@link
   * WriterActor#runForCaller}), or sends it if the writer is busy; then leaves the state, handing
   * it to the writer if a message of its waits.
   */
  private void runAsOwner(WriteBatch batch, CompletableFuture<Long> reply) {
    boolean ran;
    try {
      ran = gate.writer().runForCaller(batch, reply);
    } finally {
      if (gate.leaveAsCaller()) {
        writer.tell(WriterActor.Resume.INSTANCE);
      }
    }
    if (!ran) {
      // Still admitted: the writer answers it, and frees its slot in the gate.
      writer.tell(new WriterActor.Write(batch, reply));
    }
  }

  /** {@link #send(WriteBatch, CompletableFuture)} answering {@code replyTo} with a message. */
  void send(WriteBatch batch, ActorRef<WriteReply> replyTo) {
    CompletableFuture<Long> reply = new CompletableFuture<>();
    // tell never throws: the stage whenComplete returns has nothing to report.
    CompletableFuture<Long> unused =
        reply.whenComplete(
            (version, failure) ->
                replyTo.tell(
                    failure == null ? WriteReply.committed(version) : WriteReply.failed(failure)));
    send(batch, reply);
  }

  /** {@link ZVerseStore#recoveryReport()}. */
  Optional<String> recoveryReport() {
    return journal == null ? Optional.empty() : Optional.of(journal.recoveryReport());
  }

  /** {@link ZVerseStore#failure()}. */
  Optional<StoreFailedException> failure() {
    return journal == null ? Optional.empty() : Optional.ofNullable(journal.failure());
  }

  /** The journal, or null if memory-only. */
  @Nullable Journal journal() {
    return journal;
  }

  /** The durable log, or null if memory-only. */
  @Nullable DurableLog durableLog() {
    return journal == null ? null : journal.log();
  }

  IllegalStateException closed() {
    return new IllegalStateException("store [" + storeName + "] is closed");
  }
}
