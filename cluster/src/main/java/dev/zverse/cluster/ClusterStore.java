package dev.zverse.cluster;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.StoreOverloadedException;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.cluster.WriterProtocol.Chunk;
import dev.zverse.cluster.WriterProtocol.Command;
import dev.zverse.cluster.WriterProtocol.ConditionsFailed;
import dev.zverse.cluster.WriterProtocol.Failed;
import dev.zverse.cluster.WriterProtocol.Invalid;
import dev.zverse.cluster.WriterProtocol.Overloaded;
import dev.zverse.cluster.WriterProtocol.Reply;
import dev.zverse.cluster.WriterProtocol.Write;
import dev.zverse.cluster.WriterProtocol.Written;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.WriteBatchCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.jspecify.annotations.Nullable;

/**
 * A store across a Pekko Cluster: opened with the same name on every node, it runs the store's
 * writer as a cluster singleton (on the oldest node of the configured role) wrapping a local {@link
 * ZVerseStore} there, sends every {@link #write} from any node to it through the singleton proxy,
 * and keeps a replica of the store on every node, the writer's included, which follows the writer's
 * commits live and answers every read locally.
 *
 * <pre>{@code
 * ClusterStore store = ClusterStore.open(system, "accounts");
 * long v = store.write(WriteBatch.ofPut("account/42", "balance=90")).toCompletableFuture().join();
 * Snapshot local = store.snapshot();                       // now, possibly behind by the lag
 * Snapshot mine = store.awaitVersion(v, timeout).toCompletableFuture().join(); // read your write
 * Snapshot fresh = store.linearizableSnapshot(timeout).toCompletableFuture().join();
 * }</pre>
 *
 * <h2>Writes</h2>
 *
 * A write completes with its committed version once {@code replication.min-acks} replicas besides
 * the writer's node hold it, or fails with the exception a local store's write fails with ({@link
 * ConditionFailedException}, {@link StoreOverloadedException}, {@link IllegalArgumentException} for
 * a limit), with {@link NotEnoughReplicasException} (too few replicas, nothing written), or with
 * {@link WriteOutcomeUnknownException} when it may or may not have been committed (the writer was
 * lost, too few replicas acknowledged, or no answer came within {@code
 * zverse.cluster.write-timeout}: {@link ClusterWriteTimeoutException}): a write is answered or
 * fails, never waits forever, and a failure that is not an unknown outcome means nothing was
 * written. A conditional batch is the safe retry of an unknown outcome. A write larger than {@code
 * chunk-bytes} travels in chunks.
 *
 * <h2>Reads: three levels</h2>
 *
 * <ul>
 *   <li><b>Local</b> ({@link #snapshot()}, {@link #get(String)}, {@link #readTransaction()}, and
 *       {@link #replica()} for change feeds): no message, no wait; as fresh as this node's replica,
 *       which may be behind the writer by its lag ({@link #status()}).
 *   <li><b>At least a version</b> ({@link #awaitVersion}): waits until the replica has a version,
 *       say one a write returned on another node: read-your-writes across nodes.
 *   <li><b>Linearizable</b> ({@link #linearizableSnapshot}): asks the writer for its acknowledged
 *       version, then waits for the replica to reach it (etcd's ReadIndex): sees every write
 *       acknowledged before the call began, on any node.
 * </ul>
 *
 * <p>The replica has the settings of the node's store (its own retention among them: a replica may
 * keep more history than the writer). A node whose key or value limits differ from the writer's is
 * refused: {@link #following()} fails naming both values. A replica whose next version the writer
 * no longer retains catches up by state transfer: it is reset to the writer's latest state and
 * follows on from there; meanwhile reads answer at the version it has and {@link #status()} says it
 * is catching up.
 *
 * <p>Safe for concurrent use.
 *
 * <p>Over 500 lines because it is the module's public API, each method with its full javadoc; the
 * protocols live in the package-private actors.
 */
public final class ClusterStore {
  /** The longest store name: the writer's local store is named after it, plus {@code -writer}. */
  public static final int MAX_NAME_LENGTH = 57;

  private static final AtomicLong OPENINGS = new AtomicLong();

  /** Bytes of a write request besides its batch: the reply address, lengths; generous. */
  private static final int WRITE_OVERHEAD_BYTES = 1024;

  private final ActorSystem<?> system;
  private final String name;
  private final ClusterSettings settings;
  private final ActorRef<Command> writer;
  private final ZVerseStore replica;
  private final ReplicaState state;
  private final ActorRef<ReplicaProtocol.Command> follower;

  /** The replica actor's log, for tests; null for a memory-only replica. */
  private final @Nullable ReplicaLog log;

  /** Completed once the replica actor stopped and closed its log. */
  private final CompletableFuture<Done> terminated;

  private final WireSerializer serializer;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile @Nullable Cancellable shutdownTask;

  private ClusterStore(
      ActorSystem<?> system,
      String name,
      ClusterSettings settings,
      ActorRef<Command> writer,
      ZVerseStore replica,
      ReplicaState state,
      ActorRef<ReplicaProtocol.Command> follower,
      @Nullable ReplicaLog log,
      CompletableFuture<Done> terminated) {
    this.system = system;
    this.terminated = terminated;
    this.name = name;
    this.settings = settings;
    this.writer = writer;
    this.replica = replica;
    this.state = state;
    this.follower = follower;
    this.log = log;
    this.serializer = WireSerializer.of(system);
  }

  /**
   * Opens the cluster store {@code name} on this node with the settings in the system's
   * configuration ({@code zverse.store}, {@code zverse.stores.<name>} and {@code zverse.cluster}).
   *
   * @param system an actor system with {@code pekko.actor.provider = cluster}
   * @param name the store's name, the same on every node
   * @return the store on this node
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if a setting is out of its bounds
   */
  public static ClusterStore open(ActorSystem<?> system, String name) {
    Objects.requireNonNull(system, "system");
    Objects.requireNonNull(name, "name");
    StoreSettings store = StoreSettings.create(system, name);
    return open(system, name, store, store, ClusterSettings.create(system));
  }

  /**
   * Opens the cluster store {@code name} on this node, its replica with the same settings as the
   * writer's local store.
   *
   * @param system an actor system with {@code pekko.actor.provider = cluster}
   * @param name the store's name, the same on every node
   * @param store the settings of the writer's local store and of this node's replica
   * @param settings the cluster settings
   * @return the store on this node
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty or malformed
   * @throws IllegalStateException if a store named {@code name} is already open in {@code system}
   */
  public static ClusterStore open(
      ActorSystem<?> system, String name, StoreSettings store, ClusterSettings settings) {
    return open(system, name, store, store, settings);
  }

  /**
   * Opens the cluster store {@code name} on this node. Every node opens it with the same name; the
   * writer's local store takes {@code store} from the node the singleton runs on, and this node's
   * replica takes {@code replica} (its retention, say; its limits must be the writer's). The
   * replica runs on {@link ClusterSettings#replicaDispatcher()} (a thread of its own by default),
   * its store's writer too unless {@code replica} names a writer dispatcher other than the
   * configured one for {@code name}. Durable settings name the node's data directory: the replica
   * keeps its store's log in {@code replica/} inside it, so that it recovers what it applied and
   * follows on from there after a restart, and its replica log in {@code replica-log/}: what it
   * received and acknowledged but has not applied, the term it promised and its history's creation
   * terms, forced before it acknowledges or promises (see the README's failover section). The
   * writer's local store is memory-only whatever {@code store} says (a new writer starts from its
   * node's replica, see the README's failover section), and its writes always go through its
   * WriterActor ({@code writer.caller-runs} off), which groups them.
   *
   * @param system an actor system with {@code pekko.actor.provider = cluster}
   * @param name the store's name, the same on every node, at most {@value #MAX_NAME_LENGTH}
   *     characters of {@code [A-Za-z0-9_-]}
   * @param store the settings of the writer's local store
   * @param replica the settings of this node's replica, named {@code name} in the node's {@link
   *     dev.zverse.actors.ZVerse} registry
   * @param settings the cluster settings
   * @return the store on this node
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty, malformed or too long
   * @throws IllegalStateException if a store named {@code name} is already open in {@code system},
   *     or {@code pekko.cluster.downing-provider-class} is empty while {@code
   *     zverse.cluster.require-downing-provider} is on (the message names the Split Brain Resolver)
   * @throws java.io.UncheckedIOException if a durable replica's store or replica log cannot be
   *     recovered; damage is named by file and byte offset ({@link
   *     dev.zverse.engine.CorruptLogException} as the cause)
   */
  public static ClusterStore open(
      ActorSystem<?> system,
      String name,
      StoreSettings store,
      StoreSettings replica,
      ClusterSettings settings) {
    return open(system, name, store, replica, settings, true);
  }

  /**
   * {@link #open(ActorSystem, String, StoreSettings, StoreSettings, ClusterSettings)}, with a
   * durable replica's log off when {@code replicaLog} is false: it then acknowledges on receipt, as
   * a memory-only replica does. Only for {@code MinAcksBenchmark}'s before/after comparison of what
   * the log's force costs; unsafe otherwise (a restart forgets what was acknowledged).
   */
  static ClusterStore open(
      ActorSystem<?> system,
      String name,
      StoreSettings store,
      StoreSettings replica,
      ClusterSettings settings,
      boolean replicaLog) {
    Objects.requireNonNull(system, "system");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(replica, "replica");
    Objects.requireNonNull(settings, "settings");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "name must be at most "
              + MAX_NAME_LENGTH
              + " characters (the writer's store is named after it plus -writer), was "
              + name.length());
    }
    replica = inOwnDirectory(replica, "replica");
    Props replicaProps = Props.empty();
    if (!settings.replicaDispatcher().isEmpty()) {
      replicaProps = DispatcherSelector.fromConfig(settings.replicaDispatcher());
      // A writer dispatcher the replica's settings name on purpose wins over the cluster's.
      if (replica
          .writerDispatcher()
          .equals(StoreSettings.create(system, name).writerDispatcher())) {
        replica = replica.withWriterDispatcher(settings.replicaDispatcher());
      }
    }
    requireDowningProvider(system, settings);
    ZVerseStore local = ZVerse.get(system).openReplica(name, replica);
    try {
      ReplicaLog log = replicaLog ? openLog(replica, local) : null;
      ReplicaState state = new ReplicaState(local);
      CompletableFuture<Done> terminated = new CompletableFuture<>();
      // Its PostStop completes it; a system already terminated runs no more actors.
      system.getWhenTerminated().thenRun(() -> terminated.complete(Done.getInstance()));
      local.advanced().addPublishListener(state);
      ClusterSingletonSettings singletonSettings =
          ClusterSingletonSettings.create(system).withBufferSize(settings.proxyBufferSize());
      if (settings.role().isPresent()) {
        singletonSettings = singletonSettings.withRole(settings.role().get());
      }
      ActorRef<Command> writer =
          ClusterSingleton.get(system)
              .init(
                  SingletonActor.of(
                          WriterSingleton.create(name, store, settings, local, state),
                          "zverse-writer-" + name)
                      .withSettings(singletonSettings)
                      .withStopMessage(WriterProtocol.Stop.INSTANCE));
      ActorRef<ReplicaProtocol.Command> follower =
          system.systemActorOf(
              ReplicaActor.create(name, local, writer, settings, state, log, terminated),
              "zverse-replica-" + name + "-" + OPENINGS.incrementAndGet(),
              replicaProps);
      ClusterStore opened =
          new ClusterStore(system, name, settings, writer, local, state, follower, log, terminated);
      opened.shutdownTask =
          CoordinatedShutdown.get(system)
              .addCancellableTask(
                  CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
                  "zverse-cluster-close-" + name,
                  opened::close);
      return opened;
    } catch (RuntimeException | Error e) {
      local.close();
      throw e;
    }
  }

  /**
   * The replica log of a durable replica ({@code replica-log/} beside the replica store's {@code
   * replica/}), recovered against the store's recovered version; null for a memory-only replica.
   */
  private static @Nullable ReplicaLog openLog(StoreSettings replica, ZVerseStore local) {
    if (replica.dataDirectory().isEmpty()) {
      return null;
    }
    try {
      return ReplicaLog.open(
          replica.dataDirectory().get().resolveSibling("replica-log"),
          replica.durability().sync() == SyncPolicy.EVERY_COMMIT,
          replica.durability().recoverPastCorruption(),
          local.advanced().lastPublished().version());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "store [" + local.name() + "]: the replica log cannot be recovered: " + e.getMessage(),
          e);
    }
  }

  /**
   * Durable settings whose data directory is {@code sub} inside the one they name, so that the
   * replica's log has a directory of its own. Memory-only settings as they are.
   */
  private static StoreSettings inOwnDirectory(StoreSettings settings, String sub) {
    return settings
        .dataDirectory()
        .map(d -> settings.withDataDirectory(d.resolve(sub)))
        .orElse(settings);
  }

  /** The Split Brain Resolver, which {@code pekko.cluster.downing-provider-class} should name. */
  static final String SPLIT_BRAIN_RESOLVER =
      "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider";

  /**
   * Refuses a cluster without a downing provider, unless the settings opt out: a crashed writer's
   * node would never be removed, so the writer would never move.
   */
  private static void requireDowningProvider(ActorSystem<?> system, ClusterSettings settings) {
    if (!settings.requireDowningProvider()) {
      return;
    }
    String provider = system.settings().config().getString("pekko.cluster.downing-provider-class");
    if (provider.isBlank()) {
      throw new IllegalStateException(
          "pekko.cluster.downing-provider-class is empty: without a downing provider a crashed"
              + " writer's node is never removed and the writer never moves; set it to "
              + SPLIT_BRAIN_RESOLVER
              + " (Pekko's Split Brain Resolver, see the README's cluster section), or, for a"
              + " cluster of one node, set zverse.cluster.require-downing-provider = off");
    }
  }

  /** The store's name. */
  public String name() {
    return name;
  }

  /** The cluster settings this node opened the store with. */
  public ClusterSettings settings() {
    return settings;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Commits {@code batch} on the writer, wherever it runs, as the next version. The stage completes
   * on this node's default dispatcher, never on the writer's or the transport's thread.
   *
   * @param batch the batch; the writer checks it against its store's limits
   * @return completes with the committed version, or exceptionally: {@link
   *     ConditionFailedException} listing the failed conditions, {@link IllegalArgumentException}
   *     naming a key or value over the writer's limit, {@link StoreOverloadedException} (nothing
   *     written), {@link NotEnoughReplicasException} (fewer than {@code min-acks} replicas within
   *     {@code ack-timeout}, nothing written), {@link WriteOutcomeUnknownException} (committed
   *     perhaps: the writer was lost, or too few replicas acknowledged; {@link
   *     ClusterWriteTimeoutException} when no answer came in time), or {@link
   *     IllegalStateException} naming the writer's own failure
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalStateException if this store is closed on this node
   */
  public CompletionStage<Long> write(WriteBatch batch) {
    Objects.requireNonNull(batch, "batch");
    requireOpen();
    // The batch's encoded size says whether the request fits in one frame; encoding it costs
    // about a copy of its bytes.
    boolean large =
        WriteBatchCodec.encode(batch).length > settings.chunkBytes() - WRITE_OVERHEAD_BYTES;
    CompletionStage<Reply> reply =
        AskPattern.ask(
            writer,
            (ActorRef<Reply> replyTo) -> request(new Write(batch, replyTo), large),
            settings.writeTimeout(),
            system.scheduler());
    CompletableFuture<Long> result = new CompletableFuture<>();
    // The ask's stage runs even a plain whenComplete "async", by default on the JDK's executor,
    // which starts a thread per task when the common pool has fewer than 2 threads (2 cores or
    // fewer): a thread start per write on the thread that answers, the writer's on its own node,
    // where min-acks' commit index waited behind them. The node's dispatcher instead.
    reply.whenCompleteAsync(
        (r, failure) -> {
          if (failure != null) {
            Throwable cause = unwrap(failure);
            result.completeExceptionally(
                cause instanceof TimeoutException
                    ? new ClusterWriteTimeoutException(name, settings.writeTimeout())
                    : cause);
          } else if (r instanceof Written w) {
            result.complete(w.version());
          } else {
            result.completeExceptionally(failure(r));
          }
        },
        system.executionContext());
    return result;
  }

  /**
   * The message the ask sends: the write itself, or, if it is larger than a frame, its last chunk,
   * the others sent ahead of it here, in order, through the same proxy.
   */
  private Command request(Write write, boolean large) {
    if (!large) {
      return write;
    }
    List<Chunk> parts =
        Chunking.split(
            serializer, write, ThreadLocalRandom.current().nextLong(), settings.chunkBytes());
    for (int i = 0; i < parts.size() - 1; i++) {
      writer.tell(parts.get(i));
    }
    return parts.get(parts.size() - 1);
  }

  // ---------------------------------------------------------------- reads

  /**
   * This node's replica: a read-only {@link ZVerseStore} (its writes fail) for everything a local
   * store offers to readers, change feeds among them ({@code ChangeFeed} of the streams module).
   *
   * @return the replica; the same object on every call
   */
  public ZVerseStore replica() {
    return replica;
  }

  /**
   * The replica's latest snapshot: a local read, no message, possibly behind the writer by the
   * replica's lag.
   *
   * @return the snapshot
   * @throws IllegalStateException if this store is closed on this node
   */
  public Snapshot snapshot() {
    requireOpen();
    return replica.snapshot();
  }

  /**
   * The value of {@code key} in the replica's latest snapshot (a local read).
   *
   * @param key the key, UTF-8
   * @return the value, UTF-8, or {@code null} if the key has none
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalStateException if this store is closed on this node
   */
  public @Nullable String get(String key) {
    return snapshot().get(key);
  }

  /**
   * Opens a read transaction at the replica's latest version, pinning it until closed (a local
   * read); see {@link ZVerseStore#readTransaction()}.
   *
   * @return the transaction
   * @throws IllegalStateException if this store is closed on this node
   */
  public ReadTransaction readTransaction() {
    requireOpen();
    return replica.readTransaction();
  }

  /**
   * A snapshot of the replica at {@code version} or later, once the replica has it: with a version
   * a write returned, on any node, a read that sees that write.
   *
   * @param version a version, at least 0
   * @param timeout how long to wait, positive
   * @return completes with the replica's snapshot at {@code version} or later, or exceptionally
   *     with {@link ClusterReadTimeoutException} after {@code timeout}, or with {@link
   *     IllegalStateException} if the replica cannot follow the writer (its reason) or is closed
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code version} is negative or {@code timeout} not positive
   * @throws IllegalStateException if this store is closed on this node
   */
  public CompletionStage<Snapshot> awaitVersion(long version, Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (version < 0) {
      throw new IllegalArgumentException("version must be at least 0, was " + version);
    }
    requirePositive(timeout);
    requireOpen();
    return awaitVersion(version, timeout, "version " + version + " not reached");
  }

  private CompletionStage<Snapshot> awaitVersion(long version, Duration timeout, String what) {
    CompletableFuture<Snapshot> waiting = state.await(version);
    if (!waiting.isDone()) {
      Cancellable timer =
          system
              .scheduler()
              .scheduleOnce(
                  timeout,
                  () -> {
                    if (waiting.completeExceptionally(
                        new ClusterReadTimeoutException(
                            name, version, state.applied(), timeout, what))) {
                      state.forget(waiting);
                    }
                  },
                  system.executionContext());
      waiting.whenComplete((s, e) -> timer.cancel());
    }
    // Completed on the replica's writer thread: the caller's stages run elsewhere.
    CompletableFuture<Snapshot> result = new CompletableFuture<>();
    waiting.whenCompleteAsync(
        (s, e) -> {
          if (e != null) {
            result.completeExceptionally(unwrap(e));
          } else {
            result.complete(s);
          }
        },
        system.executionContext());
    return result;
  }

  /**
   * A linearizable read: asks the writer for its acknowledged version (every write answered so far
   * is at or below it), then waits until the replica has it (etcd's ReadIndex). The snapshot holds
   * every write acknowledged, on any node, before this call began.
   *
   * @param timeout how long both steps may take together, positive
   * @return completes with the replica's snapshot at the writer's latest version or later, or
   *     exceptionally with {@link ClusterReadTimeoutException} after {@code timeout}, with {@link
   *     StoreOverloadedException} when a starting writer holds too many requests (retry), or as
   *     {@link #awaitVersion}
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is not positive
   * @throws IllegalStateException if this store is closed on this node
   */
  public CompletionStage<Snapshot> linearizableSnapshot(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    requirePositive(timeout);
    requireOpen();
    long start = System.nanoTime();
    CompletionStage<ReplicaProtocol.Latest> latest =
        AskPattern.ask(writer, WriterProtocol.GetLatest::new, timeout, system.scheduler());
    CompletableFuture<Snapshot> result = new CompletableFuture<>();
    // On the node's dispatcher, as a write's answer (see write).
    latest.whenCompleteAsync(
        (l, failure) -> {
          if (failure != null) {
            Throwable cause = unwrap(failure);
            result.completeExceptionally(
                cause instanceof TimeoutException
                    ? new ClusterReadTimeoutException(
                        name, -1, state.applied(), timeout, "no answer from the writer")
                    : cause);
            return;
          }
          if (l.version() < 0) {
            // A starting writer holding too many requests: nothing to wait for, retry later.
            result.completeExceptionally(
                new StoreOverloadedException(name, WriterSingleton.MAX_HELD_READS));
            return;
          }
          Duration left = timeout.minusNanos(System.nanoTime() - start);
          awaitVersion(
                  l.version(),
                  left.isNegative() || left.isZero() ? Duration.ofNanos(1) : left,
                  "the writer's version " + l.version() + " not reached")
              .whenComplete(
                  (s, e) -> {
                    if (e != null) {
                      result.completeExceptionally(unwrap(e));
                    } else {
                      result.complete(s);
                    }
                  });
        },
        system.executionContext());
    return result;
  }

  // ---------------------------------------------------------------- status

  /**
   * How this node's replica stands: its version, the writer's latest known version, its lag in
   * versions and in time, whether it must catch up, whether it reaches the writer. No message.
   *
   * @return the status now
   */
  public ReplicaStatus status() {
    return state.status();
  }

  /**
   * Completes with the writer's latest version when the writer first answered this node's replica
   * (for a replica that must catch up first: once the state transfer is done and it follows);
   * exceptionally if it refused it (limits that differ from the writer's, naming both values).
   *
   * @return the stage; the same on every call
   */
  public CompletionStage<Long> following() {
    return state.following.minimalCompletionStage();
  }

  /**
   * A readiness check of this node's replica, in the shape Pekko Management's health checks take
   * (see {@link dev.zverse.actors.StoreHealth}): true once the writer answered, while the replica
   * is not catching up, has not failed, and lags by no more than {@code lag-warning-versions} and
   * {@code lag-warning-time}; false once closed.
   *
   * @return the check; each call completes at once, without a message
   */
  public Supplier<CompletionStage<Boolean>> readiness() {
    return () -> {
      ReplicaStatus s = state.status();
      boolean ready =
          !closed.get()
              && state.following.isDone()
              && s.failure().isEmpty()
              && !s.catchingUp()
              && s.lagVersions() <= settings.lagWarningVersions()
              && s.lagTime().compareTo(settings.lagWarningTime()) <= 0;
      return CompletableFuture.completedFuture(ready);
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Closes the store on this node: stops following the writer and closes the replica; from now on
   * {@link #write} and the reads throw {@link IllegalStateException}. Writes already sent are still
   * answered. The writer singleton and its local store stop with the actor system (coordinated
   * shutdown hands it over or stops it). Coordinated shutdown calls this too. Calling it again
   * returns the replica's close stage and does nothing else.
   *
   * @return completes when the replica actor stopped (a durable replica's log closed) and then the
   *     replica store closed
   */
  public CompletionStage<Done> close() {
    if (closed.compareAndSet(false, true)) {
      Cancellable task = shutdownTask;
      if (task != null) {
        task.cancel();
      }
      follower.tell(ReplicaActor.Stop.INSTANCE);
    }
    // Only once the actor stopped: a reopen in this JVM rewrites the log it would still force,
    // acknowledge and promise from.
    return terminated.thenCompose(done -> replica.close());
  }

  /** This node's replica actor, for tests that speak its protocol. */
  ActorRef<ReplicaProtocol.Command> replicaActor() {
    return follower;
  }

  /** This node's replica log, owned by its replica actor; null for a memory-only replica. */
  @Nullable ReplicaLog replicaLog() {
    return log;
  }

  /**
   * Completes with the term of the first message of a writer of a lower term than this node's
   * replica promised that it refused; a hook for tests, which await the refusal.
   */
  CompletionStage<Long> staleRefused() {
    return state.staleRefused;
  }

  /** Whether {@link #close()} was called on this node. */
  public boolean isClosed() {
    return closed.get();
  }

  private void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("cluster store [" + name + "] is closed on this node");
    }
  }

  private static void requirePositive(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
  }

  private RuntimeException failure(Reply r) {
    if (r instanceof WriterProtocol.NotEnoughReplicas n) {
      return new NotEnoughReplicasException(name, n.minAcks(), n.replicas(), n.storeNodes());
    } else if (r instanceof WriterProtocol.OutcomeUnknown u) {
      return new WriteOutcomeUnknownException(name, u.message());
    } else if (r instanceof ConditionsFailed c) {
      return new ConditionFailedException(c.failures());
    } else if (r instanceof Overloaded o) {
      return new StoreOverloadedException(o.storeName(), o.maxPendingWrites());
    } else if (r instanceof Invalid i) {
      return new IllegalArgumentException(i.message());
    }
    return new IllegalStateException(
        "cluster store [" + name + "]: the writer failed: " + ((Failed) r).message());
  }

  @Override
  public String toString() {
    return "ClusterStore[" + name + ", " + settings + "]";
  }
}
