package dev.zverse.actors;

import dev.zverse.engine.Change;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import dev.zverse.engine.WriteBatch;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.zverse.engine.DurableLog;

/**
 * A multi-version key-value store inside a Pekko application: what the application holds.
 *
 * <h2>Design</h2>
 *
 * <pre>
 *   writers ──Write──▶ WriterActor ──release store──▶ Root (latest Snapshot) ◀──acquire load── readers
 *                         │   ▲
 *                Published│   │Prune(watermark)
 *                         ▼   │
 *                       EpochActor ◀──scan on each tick── Pins ◀──add/remove── read transactions
 * </pre>
 *
 * <p><b>Reads never wait.</b> {@link #snapshot()} is one acquire load of the published root: no
 * message, no lock. Every read convenience here ({@link #get(String)}, {@link #scan(KeyRange)},
 * {@link #history(String, long, long)}, {@link #versionAt(Instant)}) reads the latest snapshot; to
 * read several things at one version, take a {@link #readTransaction()} (or a {@link Snapshot}).
 *
 * <p><b>Writes are serialized</b> through the store's one WriterActor, which applies them with
 * group commit (see {@code WriterActor}): each write batch takes the next version, and the returned
 * stage completes with it once the snapshot containing it is published, so a read begun after that
 * sees it. Writes sent from one thread, or one actor, commit in the order sent. A stage that
 * completes exceptionally means the batch was <em>not</em> committed: {@link
 * dev.zverse.engine.ConditionFailedException} (listing every failed condition), {@link
 * IllegalArgumentException} (a key or value over its limit), {@link StoreOverloadedException} (too
 * many writes waiting; not sent at all), or the exception that broke the writer while applying it.
 *
 * <p>The stages complete on the writer's thread, like the replies of Pekko's ask: dependent actions
 * attached with the non-async methods run there, so keep them short, and use the {@code ...Async}
 * variants for anything that blocks (blocking the writer stalls every writer of the store).
 *
 * <p><b>Overload.</b> The store counts writes sent and not yet answered; past {@code
 * writer.max-pending-writes} a write fails at once with {@link StoreOverloadedException} and sends
 * nothing, so the writer's mailbox never grows without bound.
 *
 * <p><b>Closing.</b> {@link #close()} (also run by {@link CoordinatedShutdown} in its {@code
 * before-actor-system-terminate} phase) stops accepting calls: every method then throws {@link
 * IllegalStateException}. Writes admitted before the close are still committed and answered; the
 * returned stage completes when they all are and the store's actors have stopped. (If the actor
 * system is stopped some other way than through coordinated shutdown, writes still unanswered may
 * never complete.)
 *
 * <p><b>Durability.</b> Memory-only by default: a store opens empty and forgets everything when
 * closed. With {@code durability.data-directory} set (see {@link StoreSettings}) it is durable:
 * opening recovers the directory (the newest valid checkpoint, then the log after it; {@link
 * #recoveryReport()} says what was found) and the store continues at the next version, with the
 * recovered history readable and replayable. Every group commit is appended to the write-ahead log
 * and forced per {@code durability.sync} <em>before</em> its writers are answered and before any
 * reader can see it; checkpoints are written on a separate thread while writes go on, and a final
 * one on close. The directory is locked while the store is open: a second store, in this process or
 * another, fails to open it. If the log cannot be written (disk full, I/O error), the writes of that
 * group and every later write fail with {@link StoreFailedException}, and reads go on.
 *
 * <p>Thread-safe: share one instance; every method may be called from any thread or actor.
 */
public final class ZVerseStore {
  private final String name;
  private final StoreSettings settings;
  private final ActorSystem<?> system;
  private final Root root;
  private final WriteGate gate;
  private final Pins pins;
  private final ActorRef<WriterActor.Command> writer;
  private final ActorRef<EpochActor.Command> epoch;
  private final CompletableFuture<Done> stopped;
  /** The durable log and its threads; null for a memory-only store. */
  private final Journal journal;
  /** Set right after opening; null only if coordinated shutdown was already running then. */
  private volatile Cancellable shutdownTask;

  private ZVerseStore(
      String name,
      StoreSettings settings,
      ActorSystem<?> system,
      Root root,
      WriteGate gate,
      Pins pins,
      ActorRef<WriterActor.Command> writer,
      ActorRef<EpochActor.Command> epoch,
      CompletableFuture<Done> stopped,
      Journal journal) {
    this.name = name;
    this.settings = settings;
    this.system = system;
    this.root = root;
    this.gate = gate;
    this.pins = pins;
    this.writer = writer;
    this.epoch = epoch;
    this.stopped = stopped;
    this.journal = journal;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Opens the store named {@code name} in {@code system}, configured by {@code
   * zverse.stores.<name>} over the defaults {@code zverse.store} (see {@link StoreSettings}): empty
   * if memory-only, recovered from its data directory if durable. The same as {@code
   * ZVerse.get(system).open(name)} (see {@link ZVerse}, the registry of a system's stores; a {@link
   * ZVerseSetup} may supply the settings instead).
   *
   * @param system the actor system that runs the store's actors; its coordinated shutdown closes the
   *     store
   * @param name the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64 characters;
   *     unique among the stores open in {@code system}
   * @return the open store
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed, a setting out of bounds, or a key
   *     under {@code zverse.store} or {@code zverse.stores.<name>} not a setting (the message names
   *     its full path and the nearest setting)
   * @throws IllegalStateException if a store of that name is already open in {@code system}, or
   *     another store (in this process or another) holds the data directory
   * @throws java.io.UncheckedIOException if the data directory cannot be recovered: its cause is a
   *     {@link dev.zverse.engine.CorruptLogException} naming the damaged file and offset (see {@code
   *     durability.recover-past-corruption}), an {@link dev.zverse.engine.UnsupportedFormatException}
   *     for a file of an unknown or newer format, or the I/O error
   */
  public static ZVerseStore open(ActorSystem<?> system, String name) {
    return ZVerse.get(system).open(name);
  }

  /**
   * Opens the store named {@code name} in {@code system} with explicit settings (for tests and
   * benchmarks, or settings built in code): empty if memory-only, recovered from its data directory
   * if durable. The same as {@code ZVerse.get(system).open(name, settings)}.
   *
   * @param system the actor system that runs the store's actors; its coordinated shutdown closes the
   *     store
   * @param name the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64 characters;
   *     unique among the stores open in {@code system}
   * @param settings the store's settings
   * @return the open store
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed
   * @throws IllegalStateException if a store of that name is already open in {@code system}, or
   *     another store (in this process or another) holds the data directory
   * @throws java.io.UncheckedIOException if the data directory cannot be recovered; see {@link
   *     #open(ActorSystem, String)}
   */
  public static ZVerseStore open(ActorSystem<?> system, String name, StoreSettings settings) {
    return open(system, name, settings, WriterActor.Applier.DEFAULT);
  }

  /** {@link #open(ActorSystem, String, StoreSettings)} with a hook around each batch's apply. */
  static ZVerseStore open(
      ActorSystem<?> system, String name, StoreSettings settings, WriterActor.Applier applier) {
    Objects.requireNonNull(system, "system");
    StoreSettings.requireStoreName(name);
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(applier, "applier");

    ZVerse open = ZVerse.get(system);
    long opening = open.reserve(name);
    ZVerseStore store;
    Journal journal = null;
    try {
      Executor indexing =
          settings.zIndexDispatcher().isEmpty()
              ? system.executionContext()
              : system.dispatchers().lookup(DispatcherSelector.fromConfig(settings.zIndexDispatcher()));
      if (settings.isDurable()) {
        Logger log = LoggerFactory.getLogger(Journal.class);
        journal = Journal.open(name, settings, settings.zIndexOptions(indexing), log);
      }
      Root root =
          new Root(
              journal != null
                  ? journal.recovered()
                  : Snapshot.empty(settings.limits(), settings.zIndexOptions(indexing)));
      WriteGate gate = new WriteGate(settings.maxPendingWrites());
      Pins pins = new Pins();
      CompletableFuture<Done> epochStopped = new CompletableFuture<>();
      CompletableFuture<Done> writerStopped = new CompletableFuture<>();
      String prefix = "zverse-" + name + "-" + opening;
      ActorRef<EpochActor.Command> epoch =
          system.systemActorOf(
              EpochActor.create(new EpochActor.Setup(name, settings, root, pins, epochStopped)),
              prefix + "-epoch",
              Props.empty());
      Props writerProps =
          settings.writerDispatcher().isEmpty()
              ? DispatcherSelector.defaultDispatcher()
              : DispatcherSelector.fromConfig(settings.writerDispatcher());
      ActorRef<WriterActor.Command> writer =
          system.systemActorOf(
              WriterActor.create(
                  new WriterActor.Setup(
                      name, root, gate, epoch, applier, settings.maxGroupWrites(), writerStopped,
                      journal, settings.clock())),
              prefix + "-writer",
              writerProps);
      CompletableFuture<Done> stopped =
          CompletableFuture.allOf(writerStopped, epochStopped).thenApply(unused -> Done.getInstance());
      if (journal != null) {
        // The final checkpoint and the lock's release come after the last write was answered.
        Journal j = journal;
        stopped = stopped.thenCompose(done -> j.close(root.snapshotAcquire()).thenApply(unused -> done));
        journal.checkpointEvery(settings.checkpointInterval(), root);
      }
      // Part of the stage close() returns: whoever waits for it may open the name again at once.
      stopped = stopped.whenComplete((done, e) -> open.release(name, opening));
      store = new ZVerseStore(name, settings, system, root, gate, pins, writer, epoch, stopped, journal);
      open.opened(name, opening, store);
    } catch (RuntimeException | Error e) {
      if (journal != null) {
        journal.close(journal.recovered());
      }
      open.release(name, opening);
      throw e;
    }
    try {
      store.shutdownTask =
          CoordinatedShutdown.get(system)
              .addCancellableTask(
                  CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
                  "zverse-close-" + name,
                  store::close);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
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
   * @return completes when every admitted write is answered, the store's actors have stopped and, if
   *     durable, the data directory is released; exceptionally if the log's last force failed
   */
  public CompletionStage<Done> close() {
    if (gate.close()) {
      Cancellable task = shutdownTask;
      if (task != null) {
        task.cancel();
      }
      writer.tell(WriterActor.Close.INSTANCE);
    }
    return stopped.minimalCompletionStage();
  }

  /** Whether {@link #close()} was called (or the store's actors were stopped). */
  public boolean isClosed() {
    return gate.isClosed();
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
   * @param batch the batch; see {@link WriteBatch#builder()}
   * @return completes with the committed version, or exceptionally if the batch was not committed:
   *     {@link dev.zverse.engine.ConditionFailedException} listing the failed conditions, {@link
   *     IllegalArgumentException} naming a key or value over its limit, {@link
   *     StoreOverloadedException} (nothing sent), {@link StoreFailedException} (a durable store whose
   *     log could not be written), or the writer's failure while applying it
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalStateException if the store is closed
   */
  public CompletionStage<Long> write(WriteBatch batch) {
    Objects.requireNonNull(batch, "batch");
    CompletableFuture<Long> reply = new CompletableFuture<>();
    send(batch, reply);
    return reply;
  }

  /**
   * The actor protocol of {@link #write(WriteBatch)}: commits {@code batch} and tells {@code
   * replyTo} the outcome, a {@link WriteReply} with the committed version or the reason it was not
   * committed (the same exceptions as {@link #write(WriteBatch)}). No ask and no temporary actor;
   * one message to the writer, one reply. Writes from one actor commit in the order it sent them.
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
    CompletableFuture<Long> reply = new CompletableFuture<>();
    reply.whenComplete(
        (version, failure) ->
            replyTo.tell(
                failure == null ? WriteReply.committed(version) : WriteReply.failed(failure)));
    send(batch, reply);
  }

  /**
   * Puts {@code value} under {@code key} as one batch; both arrays are copied.
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
    return gate.pending();
  }

  private void send(WriteBatch batch, CompletableFuture<Long> reply) {
    if (journal != null && journal.failure() != null && !gate.isClosed()) {
      reply.completeExceptionally(journal.failure());
      return;
    }
    switch (gate.enter()) {
      case ADMITTED:
        // One tell per write from the caller's thread: Pekko keeps the order of one sender's
        // messages to one actor, which is the per-caller commit order.
        writer.tell(new WriterActor.Write(batch, reply));
        return;
      case OVERLOADED:
        reply.completeExceptionally(new StoreOverloadedException(name, settings.maxPendingWrites()));
        return;
      case CLOSED:
        throw closed();
      default:
        throw new AssertionError();
    }
  }

  // ---------------------------------------------------------------- reads

  /**
   * The latest published snapshot: one acquire load, no message, no lock. It never changes; read it
   * at any version from its {@code watermark()} to its {@code version()}.
   *
   * @throws IllegalStateException if the store is closed
   */
  public Snapshot snapshot() {
    if (gate.isClosed()) {
      throw closed();
    }
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
    for (; ; ) {
      Snapshot s = snapshot();
      Pins.Pin pin = new Pins.Pin(s.version(), System.nanoTime(), owner);
      if (pins.tryPin(pin)) {
        return new ReadTransaction(name, s, pins, pin);
      }
      // The EpochActor is about to prune past s.version(): retry with a newer snapshot (Pins).
    }
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
    Snapshot latest = snapshot();
    if (version < 0 || version > latest.version()) {
      throw new IllegalArgumentException(
          "version must be in [" + latest.watermark() + ", " + latest.version() + "], was "
              + version);
    }
    Pins.Pin pin = pinAwaitingDecision(version, owner);
    // Read after the pin holds: this snapshot and every later one can read version.
    return new ReadTransaction(name, root.snapshotAcquire(), pins, pin);
  }

  /**
   * The value of {@code key} in the latest snapshot.
   *
   * @return a copy of the value, or {@code null} if the key has none
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit
   * @throws IllegalStateException if the store is closed
   */
  public byte[] get(byte[] key) {
    return snapshot().get(key);
  }

  /** {@link #get(byte[])} of a UTF-8 key, decoding the value as UTF-8. */
  public String get(String key) {
    return snapshot().get(key);
  }

  /**
   * The value of {@code key} at {@code atVersion}, read through the latest snapshot.
   *
   * @param atVersion a version in [watermark, version] of the latest snapshot
   * @return a copy of the value, or {@code null} if the key had none then
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit or {@code atVersion} is
   *     negative or above the latest version
   * @throws dev.zverse.engine.VersionCompactedException if {@code atVersion} was pruned
   * @throws IllegalStateException if the store is closed
   */
  public byte[] get(byte[] key, long atVersion) {
    return snapshot().get(key, atVersion);
  }

  /** {@link #get(byte[], long)} of a UTF-8 key, decoding the value as UTF-8. */
  public String get(String key, long atVersion) {
    return snapshot().get(key, atVersion);
  }

  /**
   * The entry of {@code key} in the latest snapshot, with its create and modify versions.
   *
   * @return the entry, or {@code null} if the key has no value
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit
   * @throws IllegalStateException if the store is closed
   */
  public Entry entry(byte[] key) {
    return snapshot().entry(key);
  }

  /** {@link #entry(byte[])} of a UTF-8 key. */
  public Entry entry(String key) {
    return snapshot().entry(key);
  }

  /**
   * Every live entry in {@code range} in the latest snapshot, in key order.
   *
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalStateException if the store is closed
   */
  public List<Entry> scan(KeyRange range) {
    return snapshot().scan(range);
  }

  /**
   * The first {@code limit} live entries in {@code range} at {@code atVersion}, in {@code
   * direction}, read through the latest snapshot.
   *
   * @param atVersion a version in [watermark, version] of the latest snapshot
   * @param limit the most entries returned, at least 0
   * @throws NullPointerException if {@code range} or {@code direction} is null
   * @throws IllegalArgumentException if {@code limit} is negative or {@code atVersion} out of range
   * @throws dev.zverse.engine.VersionCompactedException if {@code atVersion} was pruned
   * @throws IllegalStateException if the store is closed
   */
  public List<Entry> scan(KeyRange range, long atVersion, Direction direction, int limit) {
    return snapshot().scan(range, atVersion, direction, limit);
  }

  /**
   * Every change to {@code key} with a version in [{@code fromVersion}, {@code toVersion}], oldest
   * first, deletes included, read through the latest snapshot.
   *
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit, {@code fromVersion >
   *     toVersion}, or a version is negative or above the latest version
   * @throws dev.zverse.engine.VersionCompactedException if {@code fromVersion} was pruned
   * @throws IllegalStateException if the store is closed
   */
  public List<Change> history(byte[] key, long fromVersion, long toVersion) {
    return snapshot().history(key, fromVersion, toVersion);
  }

  /** {@link #history(byte[], long, long)} of a UTF-8 key. */
  public List<Change> history(String key, long fromVersion, long toVersion) {
    return snapshot().history(key, fromVersion, toVersion);
  }

  /**
   * Every change to a key in {@code range} with a version in [{@code fromVersion}, {@code
   * toVersion}], deletes included, ordered by version then key, read through the latest snapshot:
   * "what changed under {@code orders/} between versions 1,000 and 2,000". Answered from the
   * engine's Z-index when that is the cheapest way ({@code z-index.enabled}).
   *
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalArgumentException if {@code fromVersion > toVersion}, or a version is negative or
   *     above the latest version
   * @throws dev.zverse.engine.VersionCompactedException if {@code fromVersion} was pruned
   * @throws IllegalStateException if the store is closed
   */
  public List<Change> changes(KeyRange range, long fromVersion, long toVersion) {
    return snapshot().changes(range, fromVersion, toVersion);
  }

  /**
   * Every retained change to {@code key}, oldest first.
   *
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit
   * @throws IllegalStateException if the store is closed
   */
  public List<Change> history(byte[] key) {
    return snapshot().history(key);
  }

  /**
   * {@link #history(byte[])} of a UTF-8 key: every retained change to it, oldest first.
   *
   * @param key the key, encoded as UTF-8
   * @return the changes, deletes included
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if the key's UTF-8 bytes are over the key limit
   * @throws IllegalStateException if the store is closed
   */
  public List<Change> history(String key) {
    return snapshot().history(key);
  }

  /**
   * The newest version committed at or before {@code time}, in the latest snapshot: the version to
   * read the store "as of" that instant. A commit's time is the first microsecond after the
   * store's clock ({@link StoreSettings#clock()}) read as the writer applied it, at most one group
   * commit before it became visible, and above every earlier commit's: an instant read from that
   * clock before a write was sent never reaches the write's version. See {@link
   * Snapshot#commitTime(long)} for a clock that steps back.
   *
   * @param time any instant, {@link Instant#MIN} and {@link Instant#MAX} included
   * @return a version in [watermark, version] of the latest snapshot; 0 if {@code time} is before
   *     the first commit and nothing was pruned
   * @throws NullPointerException if {@code time} is null
   * @throws dev.zverse.engine.VersionCompactedException if that version was pruned
   * @throws IllegalStateException if the store is closed
   */
  public long versionAt(Instant time) {
    return snapshot().versionAt(time);
  }

  /**
   * Asks the EpochActor for the store's version, watermark, pins and retained versions.
   *
   * @return completes with the stats, or exceptionally with a timeout after {@code ask-timeout}
   * @throws IllegalStateException if the store is closed
   */
  public CompletionStage<EpochStats> epochStats() {
    if (gate.isClosed()) {
      throw closed();
    }
    return AskPattern.ask(
        epoch, EpochActor.GetStats::new, settings.askTimeout(), system.scheduler());
  }

  /**
   * What opening the data directory found and did, in one line (the checkpoint loaded, the log
   * records replayed, any torn tail cut off); empty for a memory-only store. Also logged at INFO
   * when the store opens.
   */
  public Optional<String> recoveryReport() {
    return journal == null ? Optional.empty() : Optional.of(journal.recoveryReport());
  }

  /**
   * Why this durable store takes no more writes, if its log failed; empty while it takes writes
   * (always, for a memory-only store). Reads go on either way.
   */
  public Optional<StoreFailedException> failure() {
    return journal == null ? Optional.empty() : Optional.ofNullable(journal.failure());
  }

  /** The store's pins: for tests that play the EpochActor's side of the pin race. */
  Pins pins() {
    return pins;
  }

  /** The durable log, or null if memory-only: for tests that inject faults. */
  DurableLog durableLog() {
    return journal == null ? null : journal.log();
  }

  // ---------------------------------------------------------------- followers (change feeds)

  /**
   * How long {@link #readTransaction(long, String)} and {@link #pin(long, String)} wait out an
   * EpochActor that is deciding a watermark above the version.
   */
  private static final long PIN_RACE_NANOS = 20_000_000;

  /**
   * Registers {@code listener} to be told of every snapshot published from now on, and once of the
   * writer's stop (see {@link PublishListener} for the rules it must follow: it runs on the writer's
   * thread). Works on a closed store too: the listener is told of the remaining publishes and the
   * stop, or of the stop at once if the writer has already stopped.
   *
   * @param listener the listener; registering one object twice tells it twice
   * @throws NullPointerException if {@code listener} is null
   */
  public void addPublishListener(PublishListener listener) {
    root.listeners().add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Unregisters {@code listener} (one registration of it); a publish under way may still call it.
   *
   * @return true if it was registered
   * @throws NullPointerException if {@code listener} is null
   */
  public boolean removePublishListener(PublishListener listener) {
    return root.listeners().remove(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Tries to pin {@code version} so that every snapshot published from now on can still read it,
   * until the pin is moved or closed: the cursor of a change feed. The EpochActor counts it like a
   * read transaction's pin. No message, no lock, no wait: in the rare case that the EpochActor is
   * deciding a watermark above {@code version} at this very moment, whose outcome may still keep
   * {@code version} (other pins), it returns empty, and the caller tries again later (the decision
   * takes one message of the EpochActor).
   *
   * @param version a version in [watermark, version + 1] of the latest snapshot; {@code version +
   *     1} is the next commit, which a follower that has read everything needs next, and holds
   *     nothing back
   * @param owner who holds the pin, named in long-pin warnings
   * @return the pin (close it to release the version), or empty if the decision is pending
   * @throws NullPointerException if {@code owner} is null
   * @throws IllegalArgumentException if {@code version} is negative or above the latest version + 1
   * @throws VersionCompactedException if {@code version} is below the watermark, or a prune past it
   *     was decided; its {@code watermark()} is the oldest version still readable
   * @throws IllegalStateException if the store is closed and has stopped; while a close is still
   *     answering the last writes, a pin is allowed, so that a change feed started before the close
   *     follows them to the end
   */
  public Optional<VersionPin> tryPin(long version, String owner) {
    Objects.requireNonNull(owner, "owner");
    if (stopped.isDone()) {
      throw closed();
    }
    Snapshot s = root.snapshotAcquire();
    if (version < 0 || version > s.version() + 1) {
      throw new IllegalArgumentException(
          "version must be in [" + s.watermark() + ", " + (s.version() + 1) + "], was " + version);
    }
    Pins.Pin pin = tryPinAt(version, owner);
    return pin == null ? Optional.empty() : Optional.of(new VersionPin(name, pins, pin, owner));
  }

  /**
   * Pins {@code version} like {@link #tryPin}, for callers that may wait a moment: in the rare case
   * that the EpochActor is deciding a watermark above {@code version} at this very moment, spins
   * until its decision (microseconds; at most 20 ms). Never call it from a stream stage or an
   * actor: use {@link #tryPin} there.
   *
   * @param version a version in [watermark, version] of the latest snapshot
   * @param owner who holds the pin, named in long-pin warnings
   * @return the pin; close it to release the version
   * @throws NullPointerException if {@code owner} is null
   * @throws IllegalArgumentException if {@code version} is negative or above the latest version
   * @throws VersionCompactedException if {@code version} is below the watermark, or a prune past it
   *     was decided
   * @throws IllegalStateException if the store is closed and has stopped
   */
  public VersionPin pin(long version, String owner) {
    Objects.requireNonNull(owner, "owner");
    if (stopped.isDone()) {
      throw closed();
    }
    Snapshot s = root.snapshotAcquire();
    if (version < 0 || version > s.version()) {
      throw new IllegalArgumentException(
          "version must be in [" + s.watermark() + ", " + s.version() + "], was " + version);
    }
    return new VersionPin(name, pins, pinAwaitingDecision(version, owner), owner);
  }

  /**
   * A validated pin at {@code version}: spins while the EpochActor's decision on it is pending
   * (microseconds; at most 20 ms), for the callers that may wait a moment.
   *
   * @throws VersionCompactedException if a prune past it was decided, or no decision came in time
   */
  private Pins.Pin pinAwaitingDecision(long version, String owner) {
    long deadline = System.nanoTime() + PIN_RACE_NANOS;
    for (; ; ) {
      Pins.Pin pin = tryPinAt(version, owner);
      if (pin != null) {
        return pin;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new VersionCompactedException(version, pins.proposedWatermark());
      }
      Thread.onSpinWait();
    }
  }

  /**
   * A pin at {@code transaction}'s version that shares the transaction's own pin, taken over at
   * once: the version stays pinned without a gap from the moment the transaction read its state
   * until this pin moves or closes, whether the transaction is closed before or after. This is
   * how a change feed started from a read transaction follows the state it listed (list, then
   * watch); nothing waits and nothing can race with the EpochActor here.
   *
   * @param transaction an open read transaction of this store
   * @param owner who holds the pin once it moves, named in long-pin warnings
   * @return the pin; close it to release its share of the version
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code transaction} belongs to another store
   * @throws IllegalStateException if {@code transaction} is closed, or the store is closed and has
   *     stopped
   */
  public VersionPin pin(ReadTransaction transaction, String owner) {
    Objects.requireNonNull(transaction, "transaction");
    Objects.requireNonNull(owner, "owner");
    if (stopped.isDone()) {
      throw closed();
    }
    if (!transaction.retainPin(pins)) {
      throw new IllegalStateException(
          transaction + " is closed: take the pin before closing the transaction");
    }
    return new VersionPin(name, pins, transaction.pin(), owner);
  }

  /**
   * Pins {@code version} if it holds now: the pin, or null if the EpochActor's decision is pending.
   *
   * @throws VersionCompactedException if {@code version} is, or is decided to be, below the
   *     watermark
   */
  private Pins.Pin tryPinAt(long version, String owner) {
    Pins.Pin pin = new Pins.Pin(version, System.nanoTime(), owner);
    if (pins.tryPin(pin)) {
      // A validated pin is never pruned past, but a snapshot published before it may already be.
      long w = root.snapshotAcquire().watermark();
      if (w > version) {
        pins.unpin(pin);
        throw new VersionCompactedException(version, w);
      }
      return pin;
    }
    // Lost the race to a proposal: a decided watermark is final, a pending one may yet come out at
    // or below version (Pins).
    long w = Math.max(root.snapshotAcquire().watermark(), pins.decidedWatermark());
    if (w > version) {
      throw new VersionCompactedException(version, w);
    }
    return null;
  }

  /**
   * The watermark that retention alone gives now: the oldest version the retention policy keeps
   * readable at the latest version, ignoring every pin (read transactions and change feeds may
   * keep older versions for a while). Where history starts once a follower lets go, so it is what
   * a change feed's errors report. Works on a closed store too.
   *
   * @return a version in [watermark, version] of the latest snapshot
   */
  public long retentionWatermark() {
    Snapshot s = root.snapshotAcquire();
    return Math.max(
        s.watermark(), EpochActor.retentionTarget(s, settings, settings.clock().instant()));
  }

  /**
   * The latest published snapshot, whether the store is closed or not. Unlike {@link #snapshot()}
   * it never throws: while a close answers the last writes it still moves, and after the store
   * has stopped it is the final state. For followers started before a close, such as change feeds.
   */
  public Snapshot lastPublished() {
    return root.snapshotAcquire();
  }

  @Override
  public String toString() {
    return "ZVerseStore[" + name + (gate.isClosed() ? ", closed]" : "]");
  }

  private IllegalStateException closed() {
    return new IllegalStateException("store [" + name + "] is closed");
  }
}
