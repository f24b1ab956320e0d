package dev.zverse.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * N actor systems in one JVM on 127.0.0.1, joined into one cluster through the first node, as
 * Pekko's own {@code ClusterApiTest} does: Artery on port 0, {@code serialize-messages = on} so
 * every message, local ones included, crosses its serializer, and Java serialization off. {@link
 * #start} returns once every node sees every member Up; {@link #close} terminates all.
 */
final class ClusterHarness implements AutoCloseable {
  /** The configuration every node gets, before a test's own. */
  static final String BASE =
      """
      pekko.actor.provider = cluster
      pekko.remote.artery.canonical.hostname = 127.0.0.1
      pekko.remote.artery.canonical.port = 0
      pekko.actor.serialize-messages = on
      pekko.actor.allow-java-serialization = off
      # The local store's own messages never leave its node (they are not WireMessages); every
      # message of the cluster module, in dev.zverse.cluster, is still verified.
      pekko.actor.no-serialization-verification-needed-class-prefix = [
        "org.apache.pekko.", "dev.zverse.actors."]
      pekko.actor.warn-about-java-serializer-usage = off
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
      pekko.coordinated-shutdown.terminate-actor-system = on
      pekko.loglevel = WARNING
      # Failover needs a downing provider (ClusterStore refuses to open without one). Tuned for
      # tests: an unreachable node is downed after about 5 s of missed heartbeats (generous: the
      # test machine is loaded) plus 2 s of stable membership, instead of Pekko's defaults (3 s
      # and 20 s, with more failure detection margin: about 45 s in all, see the README).
      pekko.cluster.downing-provider-class = \
        "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
      pekko.cluster.split-brain-resolver.active-strategy = keep-majority
      pekko.cluster.split-brain-resolver.stable-after = 2s
      pekko.cluster.failure-detector.heartbeat-interval = 500ms
      pekko.cluster.failure-detector.acceptable-heartbeat-pause = 5s
      pekko.cluster.unreachable-nodes-reaper-interval = 200ms
      pekko.remote.artery.advanced.give-up-system-message-after = 10s
      # The cluster's periodic work every quarter second instead of every second (Pekko's
      # defaults): the leader's actions (a joining node Up, a downed node removed), gossip, the
      # singleton's hand-over retries and its proxies' search for it. Membership changes and
      # hand-overs then take a fraction of a second; what counts as a failure is unchanged.
      pekko.cluster.leader-actions-interval = 250ms
      pekko.cluster.gossip-interval = 250ms
      pekko.cluster.singleton.hand-over-retry-interval = 250ms
      pekko.cluster.singleton-proxy.singleton-identification-interval = 250ms
      zverse.cluster.follow-retry = 200ms
      """;

  private static final Duration UP_TIMEOUT = Duration.ofSeconds(60);

  private final List<ActorSystem<Void>> nodes;
  private final Config config;

  /** Nodes {@link #prepareNode} started and no test joined yet: {@link #close} ends them too. */
  private final List<ActorSystem<Void>> prepared = new CopyOnWriteArrayList<>();

  private ClusterHarness(List<ActorSystem<Void>> nodes, Config config) {
    this.nodes = nodes;
    this.config = config;
  }

  /**
   * Starts {@code n} nodes and joins them.
   *
   * @param n nodes, at least 1
   * @param config each node's configuration on top of {@link #BASE}
   * @return the harness, every member Up on every node
   */
  static ClusterHarness start(int n, String config) throws Exception {
    return start(n, config, i -> "");
  }

  /**
   * Starts {@code n} nodes, each with a configuration of its own on top of the common one, and
   * joins them.
   *
   * @param n nodes, at least 1
   * @param config each node's configuration on top of {@link #BASE}
   * @param nodeConfig node {@code i}'s own configuration on top of {@code config}
   * @return the harness, every member Up on every node; a node it adds gets {@code config}
   */
  static ClusterHarness start(int n, String config, IntFunction<String> nodeConfig)
      throws Exception {
    Config c = ConfigFactory.parseString(config).withFallback(ConfigFactory.parseString(BASE));
    List<ActorSystem<Void>> nodes = new ArrayList<>();
    List<CompletableFuture<Void>> allUp = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        CompletableFuture<Void> up = new CompletableFuture<>();
        Config own = ConfigFactory.parseString(nodeConfig.apply(i)).withFallback(c);
        nodes.add(
            ActorSystem.create(
                upWatcher(n, up), "zverse-cluster-test", own.withFallback(ConfigFactory.load())));
        allUp.add(up);
      }
      Address first = Cluster.get(nodes.get(0)).selfMember().address();
      for (ActorSystem<Void> node : nodes) {
        Cluster.get(node).manager().tell(Join.create(first));
      }
      for (CompletableFuture<Void> up : allUp) {
        up.get(UP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (Exception | Error e) {
      new ClusterHarness(nodes, c).close();
      throw e;
    }
    return new ClusterHarness(nodes, c);
  }

  /**
   * Starts one more node (a new actor system) and joins it to the cluster through node 0.
   *
   * @return its index; returns once it sees itself and every running member Up
   */
  int addNode() throws Exception {
    return addNode(0);
  }

  /**
   * Starts one more node and joins it to the cluster through node {@code via} (a running one).
   *
   * @return its index; returns once it sees itself and every running member Up
   */
  int addNode(int via) throws Exception {
    return join(prepareNode(), via);
  }

  /**
   * Starts one more node's actor system without joining it: an actor system's start takes a second
   * or more on a loaded machine, and a test may overlap it with a wait of its own, then {@link
   * #join} it.
   *
   * @return the node, not yet a member
   */
  ActorSystem<Void> prepareNode() {
    ActorSystem<Void> node =
        ActorSystem.create(
            Behaviors.empty(), "zverse-cluster-test", config.withFallback(ConfigFactory.load()));
    prepared.add(node);
    return node;
  }

  /**
   * Joins {@code node} (from {@link #prepareNode}) to the cluster through node {@code via} (a
   * running one).
   *
   * @return its index; returns once it sees itself and every running member Up
   */
  int join(ActorSystem<Void> node, int via) throws Exception {
    int members = 1;
    for (ActorSystem<Void> n : nodes) {
      if (!n.getWhenTerminated().toCompletableFuture().isDone()) {
        members++;
      }
    }
    CompletableFuture<Void> up = new CompletableFuture<>();
    node.systemActorOf(watchUp(members, up), "up-watcher", Props.empty());
    prepared.remove(node);
    nodes.add(node);
    Cluster.get(node)
        .manager()
        .tell(Join.create(Cluster.get(nodes.get(via)).selfMember().address()));
    up.get(UP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    return nodes.size() - 1;
  }

  /**
   * Completes once node {@code i} no longer counts {@code gone} among the cluster's members. It
   * subscribes with the initial state as a snapshot, which the cluster's event publisher sends
   * first: consistent with the events that follow (the {@link Cluster#state()} view is updated by a
   * subscriber of its own and may lag behind them).
   */
  CompletableFuture<Void> removed(int i, Address gone) {
    CompletableFuture<Void> removed = new CompletableFuture<>();
    ActorSystem<Void> node = nodes.get(i);
    node.systemActorOf(
        Behaviors.<Object>setup(
            context -> {
              org.apache.pekko.cluster.Cluster.get(node.classicSystem())
                  .subscribe(
                      Adapter.toClassic(context.getSelf()),
                      ClusterEvent.initialStateAsSnapshot(),
                      ClusterEvent.MemberRemoved.class);
              return Behaviors.receiveMessage(
                  event -> {
                    boolean gonePast =
                        event instanceof ClusterEvent.CurrentClusterState state
                            && StreamSupport.stream(state.getMembers().spliterator(), false)
                                .noneMatch(m -> m.address().equals(gone));
                    boolean goneNow =
                        event instanceof ClusterEvent.MemberRemoved r
                            && r.member().address().equals(gone);
                    if (gonePast || goneNow) {
                      removed.complete(null);
                      return Behaviors.stopped();
                    }
                    return Behaviors.same();
                  });
            }),
        "removed-watcher-" + REMOVED_WATCHERS.incrementAndGet(),
        Props.empty());
    return removed;
  }

  private static final AtomicInteger REMOVED_WATCHERS = new AtomicInteger();

  /**
   * Stops node {@code i} as an application would: it leaves the cluster and its actor system
   * terminates (coordinated shutdown); returns once it has.
   */
  void stopNode(int i) throws Exception {
    ActorSystem<Void> node = nodes.get(i);
    node.terminate();
    node.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /**
   * A guardian that completes {@code up} once its node has seen {@code n} members Up. It subscribes
   * first and then reads the state, so a member that came Up before the subscription is in the
   * state and one after it arrives as an event. Events are counted themselves: the state view is
   * updated by its own subscriber and may lag behind the event this one just received.
   */
  private static Behavior<Void> upWatcher(int n, CompletableFuture<Void> up) {
    return Behaviors.setup(
        guardian -> {
          guardian.spawn(watchUp(n, up), "up-watcher");
          return Behaviors.empty();
        });
  }

  private static Behavior<ClusterEvent.MemberUp> watchUp(int n, CompletableFuture<Void> up) {
    return Behaviors.setup(
        context -> {
          Cluster cluster = Cluster.get(context.getSystem());
          cluster
              .subscriptions()
              .tell(Subscribe.create(context.getSelf(), ClusterEvent.MemberUp.class));
          Set<Address> upMembers = new HashSet<>();
          for (Member m : cluster.state().getMembers()) {
            if (m.status().equals(MemberStatus.up())) {
              upMembers.add(m.address());
            }
          }
          check(upMembers, n, up);
          return Behaviors.receiveMessage(
              event -> {
                upMembers.add(event.member().address());
                check(upMembers, n, up);
                return Behaviors.same();
              });
        });
  }

  private static void check(Set<Address> upMembers, int n, CompletableFuture<Void> up) {
    if (upMembers.size() == n) {
      up.complete(null);
    }
  }

  /** Node {@code i}, 0 the first to join and the oldest. */
  ActorSystem<Void> node(int i) {
    return nodes.get(i);
  }

  /** The number of nodes. */
  int size() {
    return nodes.size();
  }

  @Override
  public void close() throws ExecutionException, TimeoutException {
    nodes.addAll(prepared);
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).terminate(); // a no-op on a node already stopped
    }
    try {
      for (ActorSystem<Void> node : nodes) {
        node.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the nodes terminate", e);
    }
  }

  /** How long a test waits for any one stage before it fails. */
  static final Duration STAGE_WAIT = Duration.ofMinutes(2);

  /** The result of {@code stage}, waiting at most {@link #STAGE_WAIT}. */
  static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(STAGE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Why {@code stage} failed; an {@link AssertionError} if it completed normally. */
  static Throwable failure(CompletionStage<?> stage) throws Exception {
    try {
      await(stage);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("completed normally, expected a failure");
  }

  /** HOCON for a dispatcher {@code name} of one thread, which a test can hold. */
  static String singleThreadDispatcher(String name) {
    return name
        + " {\n"
        + "  type = Dispatcher\n"
        + "  executor = thread-pool-executor\n"
        + "  thread-pool-executor.fixed-pool-size = 1\n"
        + "}\n";
  }

  /**
   * Holds the only thread of node {@code node}'s dispatcher {@code dispatcher} (configured with one
   * thread) until the returned latch is counted down; returns once the thread is held.
   *
   * @throws IllegalStateException if the thread is not held within {@link #STAGE_WAIT}
   */
  CountDownLatch hold(int node, String dispatcher) throws InterruptedException {
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Executor thread = node(node).dispatchers().lookup(DispatcherSelector.fromConfig(dispatcher));
    thread.execute(
        () -> {
          held.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    if (!held.await(STAGE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "node " + node + "'s " + dispatcher + " was not free within " + STAGE_WAIT);
    }
    return release;
  }
}
