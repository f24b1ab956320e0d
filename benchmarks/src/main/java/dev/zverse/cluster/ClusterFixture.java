package dev.zverse.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * What the cluster benchmarks share: nodes as ActorSystems joined in one cluster on 127.0.0.1 in
 * this JVM (Artery TCP over loopback, no Java serialization, the Split Brain Resolver as the
 * downing provider), a cluster store opened on every node, the writer's local store, random keys,
 * and the orderly stop. The first node started is the oldest, so the writer's singleton runs on
 * node 0.
 *
 * <p>Not thread-safe: a benchmark's setup and teardown use it from one thread.
 */
final class ClusterFixture implements AutoCloseable {
  /** The configuration of every node, before a benchmark's own additions. */
  static final String CONFIG =
      """
      pekko.actor.provider = cluster
      pekko.remote.artery.canonical.hostname = 127.0.0.1
      pekko.remote.artery.canonical.port = 0
      pekko.actor.allow-java-serialization = off
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
      pekko.loglevel = WARNING
      pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
      """;

  /** How long the setup waits for a cluster to form, a store to follow, or a load to be written. */
  static final Duration WAIT = Duration.ofSeconds(120);

  private final List<ActorSystem<Void>> nodes;
  private final List<ClusterStore> stores = new ArrayList<>();

  private ClusterFixture(List<ActorSystem<Void>> nodes) {
    this.nodes = nodes;
  }

  /**
   * Starts {@code n} nodes and waits until all are up.
   *
   * @param n nodes, at least 1
   * @param extraConfig configuration added over {@link #CONFIG}, "" for none
   * @return the fixture; close it to stop the stores and the nodes
   * @throws InterruptedException if interrupted while waiting
   * @throws IllegalStateException if the nodes are not all up within {@link #WAIT}
   */
  static ClusterFixture start(int n, String extraConfig) throws InterruptedException {
    Config config =
        ConfigFactory.parseString(extraConfig)
            .withFallback(ConfigFactory.parseString(CONFIG))
            .withFallback(ConfigFactory.load());
    List<ActorSystem<Void>> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      nodes.add(ActorSystem.create(Behaviors.empty(), "zverse-bench", config));
    }
    Address first = Cluster.get(nodes.get(0)).selfMember().address();
    for (ActorSystem<Void> node : nodes) {
      Cluster.get(node).manager().tell(Join.create(first));
    }
    for (ActorSystem<Void> node : nodes) {
      awaitUp(node, n);
    }
    return new ClusterFixture(nodes);
  }

  /**
   * Waits until {@code node} sees {@code n} members up.
   *
   * @throws IllegalStateException if they are not within {@link #WAIT}
   */
  static void awaitUp(ActorSystem<?> node, int n) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() - deadline < 0) {
      int up = 0;
      for (Member m : Cluster.get(node).state().getMembers()) {
        if (m.status().equals(MemberStatus.up())) {
          up++;
        }
      }
      if (up == n) {
        return;
      }
      // Membership has no completion to wait on here; a setup step, never measured.
      Thread.sleep(100);
    }
    throw new IllegalStateException(n + " nodes did not come up within " + WAIT);
  }

  /** Node {@code i}, in the order started; node 0 is the oldest. */
  ActorSystem<Void> node(int i) {
    return nodes.get(i);
  }

  /** The nodes, in the order started. */
  List<ActorSystem<Void>> nodes() {
    return nodes;
  }

  /**
   * Opens the cluster store {@code name} on every node with the node's default store settings and
   * waits until every replica follows the writer.
   *
   * @param name the store's name
   * @param settings the cluster settings of each node, from the node
   * @return the store on each node, in node order
   * @throws Exception if a replica does not follow within {@link #WAIT}
   */
  List<ClusterStore> open(String name, Function<ActorSystem<?>, ClusterSettings> settings)
      throws Exception {
    return open(name, settings, node -> StoreSettings.create(node, name));
  }

  /**
   * {@link #open(String, Function)} with each node's replica settings from {@code replica} (the
   * writer's store takes the node's default settings).
   */
  List<ClusterStore> open(
      String name,
      Function<ActorSystem<?>, ClusterSettings> settings,
      Function<ActorSystem<?>, StoreSettings> replica)
      throws Exception {
    return open(name, settings, replica, true);
  }

  /**
   * {@link #open(String, Function, Function)}, durable replicas without their replica log if {@code
   * replicaLog} is false (they then acknowledge on receipt: the "before" of what the log's force
   * costs).
   */
  List<ClusterStore> open(
      String name,
      Function<ActorSystem<?>, ClusterSettings> settings,
      Function<ActorSystem<?>, StoreSettings> replica,
      boolean replicaLog)
      throws Exception {
    List<ClusterStore> opened = new ArrayList<>();
    for (ActorSystem<Void> node : nodes) {
      opened.add(
          ClusterStore.open(
              node,
              name,
              StoreSettings.create(node, name),
              replica.apply(node),
              settings.apply(node),
              replicaLog));
    }
    stores.addAll(opened);
    for (ClusterStore s : opened) {
      s.following().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    return opened;
  }

  /**
   * The cluster settings of {@code node} with a write timeout of {@link #WAIT}: a loaded machine
   * never turns an answer into a timeout.
   */
  static ClusterSettings patient(ActorSystem<?> node) {
    return ClusterSettings.create(node).withWriteTimeout(WAIT);
  }

  /** The writer's local store of the cluster store {@code name}: on node 0. */
  ZVerseStore writerStore(String name) {
    return ZVerse.get(nodes.get(0)).store(WriterSingleton.writerStoreName(name)).orElseThrow();
  }

  /** {@code ref}, an actor on {@code owner}, as {@code node} sees it: a remote reference. */
  static <T> ActorRef<T> remoteIn(ActorSystem<?> node, ActorSystem<?> owner, ActorRef<T> ref) {
    return ActorRefResolver.get(node)
        .resolveActorRef(ActorRefResolver.get(owner).toSerializationFormat(ref));
  }

  /**
   * {@code n} random keys of {@code bytes} bytes each.
   *
   * @param random the source of the keys
   * @param n how many, at least 0
   * @param bytes each key's length, at least 1
   * @return the keys
   */
  static byte[][] randomKeys(SplittableRandom random, int n, int bytes) {
    byte[][] keys = new byte[n][];
    for (int i = 0; i < n; i++) {
      keys[i] = new byte[bytes];
      random.nextBytes(keys[i]);
    }
    return keys;
  }

  /**
   * Sends {@code n} writes through {@code write} without waiting, then awaits them all: the
   * benchmarks' writes with {@code n} in flight.
   *
   * @param n how many, at least 1
   * @param write sends one write and gives its answer's future
   * @return the highest version answered
   * @throws Exception if a write failed or took longer than 60 s
   */
  static long sendAndAwait(int n, Supplier<CompletableFuture<Long>> write) throws Exception {
    List<CompletableFuture<Long>> sent = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      sent.add(write.get());
    }
    long last = 0;
    for (CompletableFuture<Long> s : sent) {
      last = Math.max(last, s.get(60, TimeUnit.SECONDS));
    }
    return last;
  }

  /** Closes every store opened here, then terminates the nodes. */
  @Override
  public void close() throws Exception {
    for (ClusterStore s : stores) {
      s.close().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    for (ActorSystem<Void> node : nodes) {
      node.terminate();
    }
    for (ActorSystem<Void> node : nodes) {
      node.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }
}
