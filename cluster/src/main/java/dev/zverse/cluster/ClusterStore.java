package dev.zverse.cluster;

import dev.zverse.actors.StoreOverloadedException;
import dev.zverse.actors.StoreSettings;
import dev.zverse.cluster.WriterProtocol.Command;
import dev.zverse.cluster.WriterProtocol.ConditionsFailed;
import dev.zverse.cluster.WriterProtocol.Failed;
import dev.zverse.cluster.WriterProtocol.Invalid;
import dev.zverse.cluster.WriterProtocol.Overloaded;
import dev.zverse.cluster.WriterProtocol.Reply;
import dev.zverse.cluster.WriterProtocol.Write;
import dev.zverse.cluster.WriterProtocol.Written;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.WriteBatch;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * A store across a Pekko Cluster, first step: opened with the same name on every node, it runs the
 * store's writer as a cluster singleton (on the oldest node of the configured role) wrapping a
 * local {@link dev.zverse.actors.ZVerseStore} there, and sends every {@link #write} from any node
 * to it through the singleton proxy.
 *
 * <pre>{@code
 * ClusterStore store = ClusterStore.open(system, "accounts");
 * store.write(WriteBatch.ofPut("account/42", "balance=90"))
 *     .thenAccept(version -> System.out.println("committed as " + version));
 * }</pre>
 *
 * <p>A write completes with its committed version, or fails with the exception a local store's
 * write fails with ({@link ConditionFailedException}, {@link StoreOverloadedException}, {@link
 * IllegalArgumentException} for a limit), or with {@link ClusterWriteTimeoutException} when no
 * answer came within {@code zverse.cluster.write-timeout}: a write is answered or fails, never
 * waits forever. Reads are not served by this class yet: replicas on every node are the next step.
 *
 * <p>Safe for concurrent use.
 */
public final class ClusterStore {
  private final ActorSystem<?> system;
  private final String name;
  private final ClusterSettings settings;
  private final ActorRef<Command> writer;
  private final AtomicBoolean closed = new AtomicBoolean();

  private ClusterStore(
      ActorSystem<?> system, String name, ClusterSettings settings, ActorRef<Command> writer) {
    this.system = system;
    this.name = name;
    this.settings = settings;
    this.writer = writer;
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
    return open(system, name, StoreSettings.create(system, name), ClusterSettings.create(system));
  }

  /**
   * Opens the cluster store {@code name} on this node. Every node opens it with the same name; the
   * writer's local store takes {@code store} from the node the singleton runs on.
   *
   * @param system an actor system with {@code pekko.actor.provider = cluster}
   * @param name the store's name, the same on every node
   * @param store the settings of the writer's local store
   * @param settings the cluster settings
   * @return the store on this node
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty
   */
  public static ClusterStore open(
      ActorSystem<?> system, String name, StoreSettings store, ClusterSettings settings) {
    Objects.requireNonNull(system, "system");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(settings, "settings");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    ClusterSingletonSettings singletonSettings =
        ClusterSingletonSettings.create(system).withBufferSize(settings.proxyBufferSize());
    if (settings.role().isPresent()) {
      singletonSettings = singletonSettings.withRole(settings.role().get());
    }
    ActorRef<Command> writer =
        ClusterSingleton.get(system)
            .init(
                SingletonActor.of(WriterSingleton.create(name, store), "zverse-writer-" + name)
                    .withSettings(singletonSettings)
                    .withStopMessage(WriterProtocol.Stop.INSTANCE));
    return new ClusterStore(system, name, settings, writer);
  }

  /** The store's name. */
  public String name() {
    return name;
  }

  /** The cluster settings this node opened the store with. */
  public ClusterSettings settings() {
    return settings;
  }

  /**
   * Commits {@code batch} on the writer, wherever it runs, as the next version.
   *
   * @param batch the batch; the writer checks it against its store's limits
   * @return completes with the committed version, or exceptionally: {@link
   *     ConditionFailedException} listing the failed conditions, {@link IllegalArgumentException}
   *     naming a key or value over the writer's limit, {@link StoreOverloadedException} (nothing
   *     written), {@link ClusterWriteTimeoutException} (no answer in time, outcome unknown), or
   *     {@link IllegalStateException} naming the writer's own failure
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalStateException if this store is closed on this node
   */
  public CompletionStage<Long> write(WriteBatch batch) {
    Objects.requireNonNull(batch, "batch");
    if (closed.get()) {
      throw new IllegalStateException("cluster store [" + name + "] is closed on this node");
    }
    CompletionStage<Reply> reply =
        AskPattern.ask(
            writer,
            (ActorRef<Reply> replyTo) -> new Write(batch, replyTo),
            settings.writeTimeout(),
            system.scheduler());
    CompletableFuture<Long> result = new CompletableFuture<>();
    reply.whenComplete(
        (r, failure) -> {
          if (failure != null) {
            Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause()
                    : failure;
            result.completeExceptionally(
                cause instanceof TimeoutException
                    ? new ClusterWriteTimeoutException(name, settings.writeTimeout())
                    : cause);
          } else if (r instanceof Written w) {
            result.complete(w.version());
          } else {
            result.completeExceptionally(failure(r));
          }
        });
    return result;
  }

  /**
   * Closes the store on this node: from now on {@link #write} throws {@link IllegalStateException};
   * writes already sent are still answered. The writer singleton and its local store stop with the
   * actor system (coordinated shutdown hands it over or stops it).
   */
  public void close() {
    closed.set(true);
  }

  /** Whether {@link #close()} was called on this node. */
  public boolean isClosed() {
    return closed.get();
  }

  private RuntimeException failure(Reply r) {
    if (r instanceof ConditionsFailed c) {
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
