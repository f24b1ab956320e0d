package dev.zverse.actors;

import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.DurableLog;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.ZIndexOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * The durable side of one store: its {@link DurableLog} and the two threads that write it.
 *
 * <h2>Design</h2>
 *
 * Appends and forces block, so they never run on the writer's dispatcher. The <em>log thread</em>
 * runs every {@link #append} in the order the writer submits them (the log wants each group right
 * after the previous one), plus the periodic force of {@link SyncPolicy#INTERVAL}; it is the only
 * thread that calls {@code append} and {@code sync}, which is the log's "writer-confined". While it
 * forces group N to the disk the WriterActor goes on applying the writes that arrive into group N+1
 * on top of N's unpublished snapshot, and seals N+1 when N is logged: group commit grows the next
 * group by exactly the writes that came in during the force, and one force serves them all.
 *
 * <p>The <em>checkpoint thread</em> writes checkpoints of published snapshots (all of whose
 * versions are logged), on a timer and when the writer reports enough new versions; snapshots are
 * immutable, so writes go on meanwhile. Requests coalesce: at most one checkpoint runs and at most
 * one waits, always the newest snapshot asked for.
 *
 * <p>{@link #close} lets the log thread finish what was submitted, writes the final checkpoint of
 * the last published snapshot, closes the log (its last force) and releases the directory's lock.
 *
 * <p>An {@link Error} on either thread (a class from a stale jar, an exhausted heap) fails the
 * store as a failed append does, and {@link #close} then completes exceptionally with it. The
 * executors keep whatever a task throws to themselves: caught nowhere, it would leave the close
 * incomplete for ever, with nothing logged.
 *
 * <p>It knows nothing of the writer's groups: the {@link GroupLog} seals them and calls {@link
 * #append} in order.
 *
 * <p>Thread-safe where stated: {@link #append} and {@link #published} belong to the WriterActor;
 * {@link #failure()} may be read anywhere.
 */
final class Journal {
  private final String storeName;
  private final DurableLog log;
  private final Logger logger;
  private final long checkpointEveryVersions;
  private final ScheduledExecutorService logThread;
  private final ScheduledExecutorService checkpointThread;

  /** The first failure of the log; once set the store takes no more writes. */
  private final AtomicReference<StoreFailedException> failure = new AtomicReference<>();

  /**
   * The first {@link Error} that failed the store, thrown on the log or the checkpoint thread:
   * {@link #close} completes exceptionally with it, since nobody else may have heard of it (an
   * executor keeps what its tasks throw to itself).
   */
  private final AtomicReference<Error> error = new AtomicReference<>();

  /** Completed by the first periodic force of {@link SyncPolicy#INTERVAL} that succeeds. */
  private final CompletableFuture<Void> intervalSynced = new CompletableFuture<>();

  /** The newest snapshot a checkpoint was asked for and not yet started. */
  private final AtomicReference<Snapshot> checkpointWanted = new AtomicReference<>();

  private final AtomicBoolean checkpointScheduled = new AtomicBoolean();

  /** Writer-confined: the version of the last checkpoint the writer asked for. */
  private long checkpointAskedAt;

  /** Checkpoint-thread-confined: set before the log is closed, so no checkpoint runs after it. */
  private boolean closed;

  /** What the log and checkpoint threads record for {@link StoreMetrics}. */
  private final StoreMetrics.LogRecorder metrics;

  /** The log's writes as the log and checkpoint threads make them: the log's unless replaced. */
  private volatile LogWrites writes;

  private Journal(
      String storeName,
      DurableLog log,
      StoreSettings settings,
      Logger logger,
      StoreMetrics.LogRecorder metrics) {
    this.storeName = storeName;
    this.metrics = metrics;
    this.log = log;
    this.logger = logger;
    this.checkpointEveryVersions = settings.durability().checkpointEveryVersions();
    this.logThread =
        Executors.newSingleThreadScheduledExecutor(daemon("zverse-" + storeName + "-log"));
    this.checkpointThread =
        Executors.newSingleThreadScheduledExecutor(daemon("zverse-" + storeName + "-checkpoint"));
    this.checkpointAskedAt = log.recovered().version();
    this.writes = new LogWrites.Direct(log);
    if (settings.durability().sync() == SyncPolicy.INTERVAL) {
      long nanos = settings.durability().syncInterval().toNanos();
      // syncNow catches and records its own failures: the future would only ever be cancelled.
      ScheduledFuture<?> unused =
          logThread.scheduleWithFixedDelay(this::syncNow, nanos, nanos, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Opens and recovers the data directory of {@code settings}.
   *
   * @throws UncheckedIOException naming the store and the directory, with the engine's exception as
   *     cause: {@link dev.zverse.engine.CorruptLogException} (file and offset), {@link
   *     dev.zverse.engine.UnsupportedFormatException}, or another {@link IOException}
   * @throws IllegalStateException if another store, in this process or another, holds the directory
   */
  static Journal open(
      String storeName, StoreSettings settings, ZIndexOptions index, Logger logger) {
    DurabilityOptions options = settings.durability().options();
    if (options == null) {
      throw new IllegalArgumentException(
          "store [" + storeName + "] has no data directory: only a durable store has a journal");
    }
    DurableLog log;
    long start = System.nanoTime();
    try {
      log = DurableLog.open(options, settings.limits(), index);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "store ["
              + storeName
              + "] cannot be opened from data directory "
              + options.directory()
              + ": "
              + e.getMessage(),
          e);
    }
    logger.info(
        "[{}] opened data directory {}: {}", storeName, options.directory(), log.recoveryReport());
    StoreMetrics.LogRecorder metrics = new StoreMetrics.LogRecorder(System.nanoTime() - start);
    return new Journal(storeName, log, settings, logger, metrics);
  }

  /** The state recovered from the data directory: the store starts from it. */
  Snapshot recovered() {
    return log.recovered();
  }

  /** What recovery did, in one line. */
  String recoveryReport() {
    return log.recoveryReport();
  }

  /** What the log and checkpoint threads record. */
  StoreMetrics.LogRecorder metrics() {
    return metrics;
  }

  /** The log itself, for tests that inject faults. */
  DurableLog log() {
    return log;
  }

  /** The store's failure, or null while it takes writes. Any thread. */
  @Nullable StoreFailedException failure() {
    return failure.get();
  }

  /**
   * Records {@code cause} as the store's failure unless one is recorded; returns the recorded one.
   */
  StoreFailedException fail(Throwable cause) {
    if (cause instanceof Error e) {
      error.compareAndSet(null, e);
    }
    StoreFailedException f =
        cause instanceof StoreFailedException failed
            ? failed
            : new StoreFailedException(storeName, cause);
    // Once set, the failure is never cleared: a lost race returns the one that won.
    StoreFailedException first = failure.compareAndExchange(null, f);
    return first == null ? f : first;
  }

  /**
   * Appends the commits of {@code next} after {@code previous} on the log thread, forcing them per
   * the sync policy. Writer only, in version order.
   *
   * @return completes once the group is logged, or exceptionally with why it could not be
   */
  CompletableFuture<Void> append(Snapshot previous, Snapshot next) {
    return CompletableFuture.runAsync(
        () -> {
          long start = System.nanoTime();
          try {
            writes.append(previous, next);
          } catch (IOException e) {
            metrics.logFailures.increment();
            throw new UncheckedIOException(e);
          }
          metrics.logNanos.record(System.nanoTime() - start);
        },
        logThread);
  }

  /**
   * Resets the log to a replica's {@code base} on the log thread ({@link DurableLog#resetTo}),
   * after the appends submitted before. Writer only.
   *
   * <p>A failure before the base's checkpoint is durable (an {@link IOException} that leaves the
   * log usable, or a base refused before anything was written) leaves the store as it was: the
   * replica may ask for a transfer again. Any other failure fails the store ({@link #fail}): the
   * log may then recover the base or the old state, and this instance appends nothing more, so a
   * replica that retried would transfer and fail again for ever.
   *
   * @return completes once the base's checkpoint is durable and the log restarted after it, or
   *     exceptionally with why not: a {@link StoreFailedException} if the store failed
   */
  CompletableFuture<Void> reset(Snapshot base) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            log.resetTo(base);
          } catch (IOException e) {
            metrics.logFailures.increment();
            if (log.failed()) {
              throw failReset(e);
            }
            throw new UncheckedIOException(e);
          } catch (IllegalArgumentException e) {
            if (log.failed()) {
              throw failReset(e);
            }
            throw e; // refused before anything was written
          } catch (RuntimeException | Error e) {
            // After the base's checkpoint is durable the old state is gone: whatever failed
            // (an Error included) must fail the store now, not at the next attempt.
            metrics.logFailures.increment();
            throw failReset(e);
          }
        },
        logThread);
  }

  private StoreFailedException failReset(Throwable cause) {
    StoreFailedException f = fail(cause);
    logger.error(
        "[{}] resetting the durable log to a replica's base failed where the state before it"
            + " cannot be kept; the store takes no more writes until it is opened again",
        storeName,
        f);
    return f;
  }

  /** The log was reset to {@code base}: checkpoints count from its version. Writer only. */
  void resetDone(Snapshot base) {
    checkpointAskedAt = base.version();
  }

  /** Runs a task after a delay: the seam through which tests drive the group-commit wait. */
  @FunctionalInterface
  interface Timer {
    /**
     * Runs {@code task} once, after {@code nanos} (at least 1).
     *
     * @return whether it will run; false if it never will (the journal is closing)
     */
    boolean schedule(Runnable task, long nanos);
  }

  /** Times the group-commit wait: the log thread's timer unless a test replaced it. */
  private volatile Timer timer = this::scheduleOnLogThread;

  /** Replaces the timer of the group-commit wait: tests only, before the first write. */
  void timer(Timer replacement) {
    this.timer = replacement;
  }

  /**
   * Runs {@code task} after {@code nanos} on the journal's timer. Any thread.
   *
   * @return whether it was scheduled; false once the journal closes
   */
  boolean schedule(Runnable task, long nanos) {
    return timer.schedule(task, nanos);
  }

  /**
   * Runs {@code task} on the log thread after {@code nanos}, a timer finer than the actor system's
   * scheduler (whose tick is 10 ms by default); the group-commit wait is a fraction of a
   * millisecond. The log thread is idle while a group waits, since no group is being logged then.
   * Dropped once the journal closes.
   */
  private boolean scheduleOnLogThread(Runnable task, long nanos) {
    try {
      // A timer task only sends a message; dropped unrun when the journal closes, as said above.
      ScheduledFuture<?> unused = logThread.schedule(task, nanos, TimeUnit.NANOSECONDS);
      return true;
    } catch (RejectedExecutionException closing) {
      return false; // closing: the writer seals whatever is open without waiting
    }
  }

  /**
   * The calls the log and checkpoint threads make on the {@link DurableLog}: the seam through which
   * tests inject what the log itself never throws, such as an {@link Error}.
   */
  interface LogWrites {
    /** {@link DurableLog#append}, on the log thread. */
    void append(Snapshot previous, Snapshot next) throws IOException;

    /** {@link DurableLog#sync}, on the log thread. */
    void sync() throws IOException;

    /** {@link DurableLog#checkpoint}, on the checkpoint thread. */
    void checkpoint(Snapshot s) throws IOException;

    /** The log's own calls. */
    record Direct(DurableLog log) implements LogWrites {
      @Override
      public void append(Snapshot previous, Snapshot next) throws IOException {
        log.append(previous, next);
      }

      @Override
      public void sync() throws IOException {
        log.sync();
      }

      @Override
      public void checkpoint(Snapshot s) throws IOException {
        log.checkpoint(s);
      }
    }
  }

  /** The calls the journal's threads make on the log, for tests that wrap them. */
  LogWrites writes() {
    return writes;
  }

  /** Replaces the calls the journal's threads make on the log: tests only, before the fault. */
  void writes(LogWrites replacement) {
    this.writes = replacement;
  }

  /**
   * The writer published {@code s}: asks for a checkpoint if enough versions passed. Writer only.
   */
  void published(Snapshot s) {
    if (checkpointEveryVersions > 0 && s.version() - checkpointAskedAt >= checkpointEveryVersions) {
      checkpointAskedAt = s.version();
      checkpoint(s);
    }
  }

  /** Writes checkpoints of {@code root}'s latest snapshot every {@code interval}, if positive. */
  void checkpointEvery(Duration interval, Root root) {
    if (!interval.isZero()) {
      long nanos = interval.toNanos();
      // A checkpoint catches and logs its own failures: the future would only ever be cancelled.
      ScheduledFuture<?> unused =
          checkpointThread.scheduleWithFixedDelay(
              () -> checkpoint(root.snapshotAcquire()), nanos, nanos, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Asks for a checkpoint of {@code s} on the checkpoint thread; coalesces with waiting ones. Any
   * thread.
   */
  void checkpoint(Snapshot s) {
    checkpointWanted.accumulateAndGet(s, (a, b) -> a == null || b.version() > a.version() ? b : a);
    if (checkpointScheduled.compareAndSet(false, true)) {
      try {
        checkpointThread.execute(this::runCheckpoint);
      } catch (RejectedExecutionException closing) {
        checkpointScheduled.set(false); // closing: the final checkpoint covers it
      }
    }
  }

  private void runCheckpoint() {
    // Clear the flag before taking the request: a request after this line schedules another run.
    checkpointScheduled.set(false);
    Snapshot s = checkpointWanted.getAndSet(null);
    if (s != null) {
      writeCheckpoint(s);
    }
  }

  private void writeCheckpoint(Snapshot s) {
    if (closed) {
      return; // the lock is released: the directory may be someone else's now
    }
    if (error.get() != null) {
      return; // the code or the JVM is broken: the log holds every version, recovery replays it
    }
    long start = System.nanoTime();
    try {
      writes.checkpoint(s);
      metrics.checkpointNanos.record(System.nanoTime() - start);
      metrics.lastCheckpointBytes.set(log.lastCheckpointBytes());
      logger.debug(
          "[{}] checkpoint at version [{}] written in [{}] ms",
          storeName,
          s.version(),
          (System.nanoTime() - start) / 1_000_000);
    } catch (IOException | RuntimeException e) {
      // The log is unharmed: recovery replays it from the previous checkpoint.
      metrics.checkpointFailures.increment();
      logger.warn(
          "[{}] checkpoint at version [{}] failed; the log still holds every version",
          storeName,
          s.version(),
          e);
    } catch (Error e) {
      // Not a failing disk but broken code (a class from a stale jar) or a broken JVM: the store
      // stops taking writes and the close reports it. Thrown on, the executor would swallow it.
      metrics.checkpointFailures.increment();
      StoreFailedException f = fail(e);
      logger.error(
          "[{}] the checkpoint thread threw {} writing the checkpoint at version [{}]; the store"
              + " takes no more writes",
          storeName,
          e,
          s.version(),
          f);
    }
  }

  private void syncNow() {
    if (failure.get() != null) {
      return;
    }
    try {
      writes.sync();
      intervalSynced.complete(null);
    } catch (IOException | RuntimeException | Error e) {
      // An Error too: thrown on, the executor would swallow it and cancel the periodic force.
      metrics.logFailures.increment();
      StoreFailedException f = fail(e);
      logger.error(
          "[{}] forcing the durable log failed; the store takes no more writes", storeName, f);
    }
  }

  /**
   * Completes once the periodic force of {@link SyncPolicy#INTERVAL} has run on the log thread and
   * succeeded: the seam through which tests see the timer's force without waiting for time to pass.
   * Never completes under another policy.
   */
  CompletableFuture<Void> intervalSynced() {
    return intervalSynced;
  }

  /**
   * Finishes the submitted appends, writes a final checkpoint of {@code last} (unless the log
   * failed), closes the log and releases the directory, on the checkpoint thread.
   *
   * @return completes when the directory is released; exceptionally if the log's last force failed,
   *     or with the {@link Error} that failed the store on the log or the checkpoint thread
   */
  CompletableFuture<Void> close(Snapshot last) {
    logThread.shutdown();
    CompletableFuture<Void> done = new CompletableFuture<>();
    Runnable finish =
        () -> {
          try {
            finishClose(last);
            Error thrown = error.get();
            if (thrown == null) {
              done.complete(null);
            } else {
              done.completeExceptionally(closeFailed(thrown));
            }
          } catch (IOException | RuntimeException e) {
            done.completeExceptionally(
                new UncheckedIOException(
                    "store [" + storeName + "]: closing the durable log failed: " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e)));
          } catch (Error e) {
            // Thrown on, the executor would swallow it and the close would never complete.
            fail(e);
            done.completeExceptionally(closeFailed(e));
          } finally {
            checkpointThread.shutdown();
          }
        };
    try {
      checkpointThread.execute(finish);
    } catch (RejectedExecutionException e) {
      finish.run();
    }
    return done;
  }

  /** Waits for the log thread, writes the final checkpoint, closes the log. Checkpoint thread. */
  private void finishClose(Snapshot last) throws IOException {
    awaitQuietly(logThread);
    if (failure.get() == null) {
      writeCheckpoint(last); // reports its own failures, an Error as the store's failure
    }
    closed = true;
    log.close();
  }

  private IllegalStateException closeFailed(Error e) {
    return new IllegalStateException(
        "store ["
            + storeName
            + "]: closing the durable log failed: its log or checkpoint thread threw "
            + e
            + "; the store took no more writes after it, and the next open replays the log",
        e);
  }

  private static void awaitQuietly(ExecutorService executor) {
    boolean interrupted = false;
    for (; ; ) {
      try {
        if (executor.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
