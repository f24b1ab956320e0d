package dev.zverse.actors;

import dev.zverse.engine.DurableLog;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.jspecify.annotations.Nullable;

/**
 * A multi-version key-value store inside a Pekko application: what the application holds.
 *
 * <p>Reads never wait: {@link #get(String)}, {@link #snapshot()} (one acquire load, then any read
 * of {@link Snapshot}) and {@link #readTransaction()} (a snapshot whose version stays pinned until
 * closed). Writes are serialized through the store's one WriterActor with group commit; each batch
 * takes the next version and its stage completes once a read begun after it sees it. The package
 * documentation ({@link dev.zverse.actors}) gives the design and the rules for reads, writes,
 * closing and durability in full.
 *
 * <p>Thread-safe: share one instance; every method may be called from any thread or actor.
 */
public final class ZVerseStore {
  private final String name;
  private final StoreSettings settings;
  private final ActorSystem<?> system;
  private final Root root;
  private final Pins pins;
  private final ActorRef<EpochActor.Command> epoch;
  private final StoreLifecycle lifecycle;
  private final AdvancedOperations advanced;
  private final StoreMetrics metrics;

  /** A store whose actors {@link StoreOpener} has started. */
  ZVerseStore(
      String name,
      StoreSettings settings,
      ActorSystem<?> system,
      Root root,
      WriteGate gate,
      Pins pins,
      ActorRef<WriterActor.Command> writer,
      ActorRef<EpochActor.Command> epoch,
      CompletableFuture<Done> stopped,
      @Nullable Journal journal,
      boolean replica) {
    this.name = name;
    this.settings = settings;
    this.system = system;
    this.root = root;
    this.pins = pins;
    this.epoch = epoch;
    this.lifecycle =
        new StoreLifecycle(
            name,
            settings.maxPendingWrites(),
            gate,
            writer,
            stopped,
            journal,
            replica,
            settings.callerRuns());
    this.advanced =
        new AdvancedOperations(
            name,
            root,
            pins,
            stopped,
            replica
                ? new AdvancedOperations.Input(gate, writer, settings.maxPendingWrites())
                : null);
    this.metrics = new StoreMetrics(name, settings, root, pins, gate, journal);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Opens the store named {@code name} in {@code system}, configured by {@code
   * zverse.stores.<name>} over the defaults {@code zverse.store} (see {@link StoreSettings}): empty
   * if memory-only, recovered from its data directory if durable. The same as {@code
   * ZVerse.get(system).open(name)} (see {@link ZVerse}, the registry of a system's stores; a {@link
   * ZVerseSetup} may supply the settings instead).
   *
   * @param system the actor system that runs the store's actors; its coordinated shutdown closes
   *     the store
   * @param name the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64
   *     characters; unique among the stores open in {@code system}
   * @return the open store
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed, a setting out of bounds, or a key
   *     under {@code zverse.store} or {@code zverse.stores.<name>} not a setting (the message names
   *     its full path and the nearest setting)
   * @throws IllegalStateException if a store of that name is already open in {@code system}, or
   *     another store (in this process or another) holds the data directory
   * @throws java.io.UncheckedIOException if the data directory cannot be recovered: its cause is a
   *     {@link dev.zverse.engine.CorruptLogException} naming the damaged file and offset (see
   *     {@code durability.recover-past-corruption}), an {@link
   *     dev.zverse.engine.UnsupportedFormatException} for a file of an unknown or newer format, or
   *     the I/O error
   */
  public static ZVerseStore open(ActorSystem<?> system, String name) {
    return ZVerse.get(system).open(name);
  }

  /**
   * Opens the store named {@code name} in {@code system} with explicit settings (for tests and
   * benchmarks, or settings built in code), as {@link #open(ActorSystem, String)} does otherwise.
   * The same as {@code ZVerse.get(system).open(name, settings)}.
   *
   * @param system the actor system that runs the store's actors
   * @param name the store's name, as for {@link #open(ActorSystem, String)}
   * @param settings the store's settings
   * @return the open store
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed
   * @throws IllegalStateException as {@link #open(ActorSystem, String)}
   * @throws java.io.UncheckedIOException as {@link #open(ActorSystem, String)}
   */
  public static ZVerseStore open(ActorSystem<?> system, String name, StoreSettings settings) {
    return open(system, name, settings, WriterActor.Applier.DEFAULT);
  }

  /** {@link #open(ActorSystem, String, StoreSettings)} with a hook around each batch's apply. */
  static ZVerseStore open(
      ActorSystem<?> system, String name, StoreSettings settings, WriterActor.Applier applier) {
    return StoreOpener.open(system, name, settings, applier);
  }

  /** Cancels {@code task}, the close that coordinated shutdown would run, when closed first. */
  void closeOnShutdown(Cancellable task) {
    lifecycle.closeOnShutdown(task);
  }

  /**
   * Closes the store: from now on every method but this one throws {@link IllegalStateException}.
   * Writes admitted before are still committed and answered. Calling it again returns the same
   * stage and does nothing else.
   *
   * <p>A durable store then writes a final checkpoint of its last published snapshot (so the next
   * open replays no log), forces and closes its log and releases its data directory, on its own
   * thread. When coordinated shutdown closes the store, its {@code before-actor-system-terminate}
   * phase timeout must cover that checkpoint; if the process ends before it is done, nothing is
   * lost: the next open replays the log instead.
   *
   * @return completes when every admitted write is answered, the store's actors have stopped and,
   *     if durable, the data directory is released; exceptionally if the log's last force failed,
   *     or with an {@link IllegalStateException} naming the store if an {@link Error} on its log or
   *     checkpoint thread failed it (see {@link #failure()})
   */
  public CompletionStage<Done> close() {
    return lifecycle.close();
  }

  /** Whether {@link #close()} was called (or the store's actors were stopped). */
  public boolean isClosed() {
    return lifecycle.isClosed();
  }

  /** The store's name. */
  public String name() {
    return name;
  }

  /** The store's settings. */
  public StoreSettings settings() {
    return settings;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Commits {@code batch} atomically as the next version: its puts, deletes and range deletes, if
   * all its conditions hold.
   *
   * <p><b>Where it runs.</b> A write that finds the writer idle (no write pending, no group open)
   * on a memory-only store runs on the calling thread ({@code writer.caller-runs}, on by default;
   * see {@link StoreSettings#withCallerRuns}): the returned stage is already complete, and no
   * thread was woken. Any other write is sent to the WriterActor, which commits it with the writes
   * that arrive with it (group commit) and completes the stage from its own thread. On the caller's
   * thread, then, and before this method returns:
   *
   * <ul>
   *   <li>the group's prune to the watermark the EpochActor decided, if it rose since the last
   *       write (its cost grows with the versions it drops), then the apply, then the publish;
   *   <li>every {@link PublishListener} of the store (a change feed only flags and hands off to its
   *       stream; a listener of your own that blocks holds this thread);
   *   <li>the answer: the stage completes here (the {@link ActorRef} form tells its reply from
   *       here), and a continuation added later without {@code Async} runs at once on the thread
   *       that adds it. In an actor, use {@code context.pipeToSelf} as always: with the actor path,
   *       such a continuation would run on the WriterActor's thread instead.
   * </ul>
   *
   * <p>A put from inside an actor's message handler therefore takes the actor's dispatcher thread
   * for the write (microseconds: a put costs a few of them), and {@code put(...).join()} there
   * returns at once when the writer was idle, or else waits for the WriterActor as before. While a
   * caller runs a write, other writes queue in the WriterActor's mailbox and commit when it leaves:
   * a caller that stalls inside (a listener that blocks, a thread the operating system descheduled)
   * delays them, never a read. A refused write completes the stage exceptionally on either path,
   * with the same exceptions as below; only a {@link VirtualMachineError} (an {@link
   * OutOfMemoryError} while applying) is thrown from this method, after the write's stage was
   * failed. A durable store, a replica and a cluster store's writer never run a write on the
   * caller.
   *
   * @param batch the batch; see {@link WriteBatch#builder()}
   * @return completes with the committed version, or exceptionally if the batch was not committed:
   *     {@link dev.zverse.engine.ConditionFailedException} listing the failed conditions, {@link
   *     IllegalArgumentException} naming a key or value over its limit, {@link
   *     StoreOverloadedException} (nothing sent), {@link StoreFailedException} (a durable store
   *     whose log could not be written), or the writer's failure while applying it
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalStateException if the store is closed
   * @throws UnsupportedOperationException if the store is a replica ({@link ZVerse#openReplica}):
   *     its writes go through the cluster store
   */
  public CompletionStage<Long> write(WriteBatch batch) {
    Objects.requireNonNull(batch, "batch");
    CompletableFuture<Long> reply = new CompletableFuture<>();
    lifecycle.send(batch, reply);
    return reply;
  }

  /**
   * The actor protocol of {@link #write(WriteBatch)}: commits {@code batch} and tells {@code
   * replyTo} the outcome, a {@link WriteReply} with the committed version or the reason it was not
   * committed (the same exceptions as {@link #write(WriteBatch)}). No ask and no temporary actor;
   * one message to the writer, one reply (or, when the write runs on the calling thread, only the
   * reply, told from it before this method returns; see {@link #write(WriteBatch)}). Writes from
   * one actor commit in the order it sent them.
   *
   * <p>{@link WriteReply} is not generic, so an actor adapts it without a cast: {@code
   * context.messageAdapter(WriteReply.class, Written::new)}.
   *
   * @param batch the batch
   * @param replyTo receives exactly one reply
   * @throws NullPointerException if an argument is null
   * @throws IllegalStateException if the store is closed
   */
  public void write(WriteBatch batch, ActorRef<WriteReply> replyTo) {
    Objects.requireNonNull(batch, "batch");
    Objects.requireNonNull(replyTo, "replyTo");
    lifecycle.send(batch, replyTo);
  }

  /**
   * Puts {@code value} under {@code key} as one batch; both arrays are copied. On an idle
   * memory-only store the put runs on this thread and the stage is complete when it returns; see
   * {@link #write(WriteBatch)} for what runs where.
   *
   * @return completes with the committed version; see {@link #write(WriteBatch)}
   * @throws NullPointerException if an argument is null
   * @throws IllegalStateException if the store is closed
   */
  public CompletionStage<Long> put(byte[] key, byte[] value) {
    return write(WriteBatch.ofPut(key, value));
  }

  /** {@link #put(byte[], byte[])} of a UTF-8 key and value. */
  public CompletionStage<Long> put(String key, String value) {
    return write(WriteBatch.ofPut(key, value));
  }

  /**
   * Deletes {@code key} as one batch (a batch that deletes an absent key still takes a version).
   *
   * @return completes with the committed version; see {@link #write(WriteBatch)}
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalStateException if the store is closed
   */
  public CompletionStage<Long> delete(byte[] key) {
    return write(WriteBatch.ofDelete(key));
  }

  /** {@link #delete(byte[])} of a UTF-8 key. */
  public CompletionStage<Long> delete(String key) {
    return write(WriteBatch.ofDelete(key));
  }

  /** Writes sent and not yet answered, at this moment (for monitoring). */
  public int pendingWrites() {
    return lifecycle.pendingWrites();
  }

  // ---------------------------------------------------------------- reads

  /**
   * The latest published snapshot: one acquire load, no message, no lock. It never changes; read it
   * at any version from its {@code watermark()} to its {@code version()}.
   *
   * @throws IllegalStateException if the store is closed
   */
  public Snapshot snapshot() {
    lifecycle.checkOpen();
    return root.snapshotAcquire();
  }

  /**
   * The version of the latest published snapshot.
   *
   * @throws IllegalStateException if the store is closed
   */
  public long version() {
    return snapshot().version();
  }

  /**
   * Opens a read transaction at the latest version, pinning it until closed; its owner, named in
   * long-pin warnings, is the calling thread's name. No message, no lock.
   *
   * @return the open transaction
   * @throws IllegalStateException if the store is closed
   */
  public ReadTransaction readTransaction() {
    return readTransaction(Thread.currentThread().getName());
  }

  /**
   * Opens a read transaction at the latest version, pinning it until closed. No message, no lock.
   *
   * @param owner who holds the transaction, named in long-pin warnings ("order export job")
   * @return the open transaction
   * @throws NullPointerException if {@code owner} is null
   * @throws IllegalStateException if the store is closed
   */
  public ReadTransaction readTransaction(String owner) {
    Objects.requireNonNull(owner, "owner");
    snapshot(); // throws if closed
    return advanced.transactionAtLatest(owner);
  }

  /**
   * Opens a read transaction at {@code version}, an older retained version or the latest, pinning
   * it until closed: every read of the transaction sees the state at {@code version}. No message
   * and no lock; in the rare case that the EpochActor is deciding a watermark above {@code version}
   * at this very moment, spins until its decision (microseconds; at most 20 ms).
   *
   * @param version a version in [watermark, version] of the latest snapshot
   * @param owner who holds the transaction, named in long-pin warnings
   * @return the open transaction
   * @throws NullPointerException if {@code owner} is null
   * @throws IllegalArgumentException if {@code version} is negative or above the latest version
   * @throws dev.zverse.engine.VersionCompactedException if {@code version} is below the watermark,
   *     or a prune past it was decided; its {@code watermark()} is the oldest version still
   *     readable
   * @throws IllegalStateException if the store is closed
   */
  public ReadTransaction readTransaction(long version, String owner) {
    Objects.requireNonNull(owner, "owner");
    snapshot(); // throws if closed
    return advanced.transactionAt(version, owner);
  }

  /**
   * The value of {@code key} in the latest snapshot.
   *
   * @return a copy of the value, or {@code null} if the key has none
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit
   * @throws IllegalStateException if the store is closed
   */
  public byte @Nullable [] get(byte[] key) {
    return snapshot().get(key);
  }

  /** {@link #get(byte[])} of a UTF-8 key, decoding the value as UTF-8. */
  public @Nullable String get(String key) {
    return snapshot().get(key);
  }

  /**
   * Asks the EpochActor for the store's version, watermark, pins and retained versions.
   *
   * @return completes with the stats, or exceptionally with a timeout after {@code ask-timeout};
   *     its callbacks run on the actor system's default dispatcher (or on the caller's thread once
   *     complete)
   * @throws IllegalStateException if the store is closed
   */
  public CompletionStage<EpochStats> epochStats() {
    lifecycle.checkOpen();
    CompletableFuture<EpochStats> result = new CompletableFuture<>();
    // Pekko's ask stage runs even a plain callback on the JDK's default executor, which starts a
    // thread per task on 2 cores or fewer: the answer is passed on from the dispatcher instead.
    AskPattern.ask(epoch, EpochActor.GetStats::new, settings.askTimeout(), system.scheduler())
        .whenCompleteAsync(
            (stats, failure) -> {
              if (failure != null) {
                result.completeExceptionally(failure);
              } else {
                result.complete(stats);
              }
            },
            system.executionContext());
    return result;
  }

  /**
   * What opening the data directory found and did, in one line (the checkpoint loaded, the log
   * records replayed, any torn tail cut off); empty for a memory-only store. Also logged at INFO
   * when the store opens.
   */
  public Optional<String> recoveryReport() {
    return lifecycle.recoveryReport();
  }

  /**
   * Why this durable store takes no more writes, if its log failed; empty while it takes writes
   * (always, for a memory-only store). Reads go on either way.
   */
  public Optional<StoreFailedException> failure() {
    return lifecycle.failure();
  }

  /**
   * The store's figures for monitoring: versions, pins, write rate and latency, the log. Also
   * exposed through JMX ({@link StoreMBean}) and, with the {@code zverse-metrics} module, through
   * Micrometer. Works on a closed store too.
   *
   * @return the store's metrics; the same object on every call
   */
  public StoreMetrics metrics() {
    return metrics;
  }

  /** The store's write gate: for tests that watch the writer's ownership. */
  WriteGate gate() {
    return lifecycle.gate();
  }

  /** The store's pins: for tests that play the EpochActor's side of the pin race. */
  Pins pins() {
    return pins;
  }

  /** The journal, or null if memory-only: for tests that drive its group-commit timer. */
  @Nullable Journal journal() {
    return lifecycle.journal();
  }

  /** The durable log, or null if memory-only: for tests that inject faults. */
  @Nullable DurableLog durableLog() {
    return lifecycle.durableLog();
  }

  /**
   * The watermark that retention alone gives now: the oldest version the retention policy keeps
   * readable at the latest version, ignoring every pin (read transactions and change feeds may keep
   * older versions for a while). Where history starts once a follower lets go, so it is what a
   * change feed's errors report. Works on a closed store too.
   *
   * @return a version in [watermark, version] of the latest snapshot
   */
  public long retentionWatermark() {
    Snapshot s = root.snapshotAcquire();
    return Math.max(
        s.watermark(), EpochActor.retentionTarget(s, settings, settings.clock().instant()));
  }

  /**
   * The hooks that integrations such as the streams module build on: publish listeners, version
   * pins for change feeds, and the last published snapshot (which, unlike {@link #snapshot()},
   * still answers while a close finishes). An application needs none of them.
   *
   * @return the store's advanced operations; the same object on every call, usable on a closed
   *     store as each of its methods says
   */
  public AdvancedOperations advanced() {
    return advanced;
  }

  @Override
  public String toString() {
    return "ZVerseStore[" + name + (lifecycle.isClosed() ? ", closed]" : "]");
  }
}
