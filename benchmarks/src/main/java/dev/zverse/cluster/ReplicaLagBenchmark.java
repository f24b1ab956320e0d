package dev.zverse.cluster;

import dev.zverse.actors.ZVerseStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Replica lag (issue 16): the time from the writer's local store publishing version V to a replica
 * publishing V, on three nodes (three ActorSystems joined in one cluster on 127.0.0.1 in this JVM,
 * Artery TCP over loopback, no {@code serialize-messages}). Both ends are in this JVM, so one clock
 * ({@link System#nanoTime}) stamps both: publish listeners on the writer's local store ({@code
 * <name>-writer}, on node 0) and on each replica record when each version became visible (a group
 * commit publishes several versions at once: each gets the group's time).
 *
 * <p>Load: a paced open loop on node 0 (the writer's node) through {@link ClusterStore#write}: the
 * k-th commit's intended send time is {@code start + k / rate}; the sender never waits for answers,
 * and when it falls behind it sends at once, so a stall shows in the second figure, the end-to-end
 * time from the <em>intended</em> send time to each replica's publish (coordinated omission does
 * not hide it). Each commit is one put, or a batch of {@code --batch} puts, of 16-byte keys over
 * 100,000 keys and 100-byte values. Warmup seconds are not recorded. Percentiles from HdrHistogram
 * (microseconds, 3 significant digits), per replica node (node 0's replica shares the writer's JVM
 * and node; nodes 1 and 2 are across loopback) and all three together. Beside them, the time from
 * the writer's publish to the write's answer at the sender ("answer": the commit's trip to {@code
 * min-acks} replicas and their acknowledgements back), which splits a replica's lag in two. The
 * loads, stamps and sender are {@link LagRun}'s, shared with {@link SeparateJvmLagBenchmark}, the
 * same run with one process per node.
 *
 * <p>A plain main, not JMH: a paced latency run has no use for JMH's loops. Not run by any test.
 * Run (after {@code ./mvnw -B -pl benchmarks -am package -DskipTests}):
 *
 * <pre>{@code
 * taskset -c 1 java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar \
 *     dev.zverse.cluster.ReplicaLagBenchmark --rate 10000 --batch 1 --seconds 20 --warmup 5
 * }</pre>
 *
 * <p>With no load arguments it runs the three loads of the issue one after another on the same
 * cluster: 1,000 and 10,000 single-put commits/s, and 1,000 commits/s of 100-put batches. Each
 * node's replica runs on its own thread ({@code zverse.cluster.replica-dispatcher}, the default);
 * {@code --replica-dispatcher shared}, first, puts it back on the writer dispatcher, which the
 * writer's own node shares with the writer's store.
 */
public final class ReplicaLagBenchmark {
  /** Room for the paced sender's writes in flight. */
  static final String CONFIG = "zverse.store.writer.max-pending-writes = 1000000\n";

  private static final int NODES = 3;

  private ReplicaLagBenchmark() {}

  /**
   * Runs the loads given by the arguments, or the issue's three.
   *
   * @param args {@code [--replica-dispatcher own|shared] [--rate R --batch B --seconds S --warmup
   *     W]}
   * @throws Exception if the cluster does not start or a write fails
   */
  public static void main(String[] args) throws Exception {
    List<String> options = new ArrayList<>(Arrays.asList(args));
    boolean ownDispatcher = true;
    if (options.size() >= 2 && options.get(0).equals("--replica-dispatcher")) {
      ownDispatcher = options.get(1).equals("own");
      options = options.subList(2, options.size());
    }
    List<LagRun.Load> loads =
        options.isEmpty() ? LagRun.Load.issue() : List.of(LagRun.Load.parse(options));
    boolean own = ownDispatcher;
    try (ClusterFixture cluster = ClusterFixture.start(NODES, CONFIG)) {
      String name = "lag";
      List<ClusterStore> stores =
          cluster.open(
              name,
              node -> {
                ClusterSettings settings = ClusterFixture.patient(node);
                return own ? settings : settings.withReplicaDispatcher("");
              });
      ZVerseStore writer = cluster.writerStore(name);
      System.out.printf(
          "%d nodes in one JVM, %d available processors, replicas on %s, min-acks %d%n",
          NODES,
          Runtime.getRuntime().availableProcessors(),
          stores.get(0).settings().replicaDispatcher(),
          stores.get(0).settings().minAcks());
      for (LagRun.Load load : loads) {
        run(load, writer, stores);
      }
    }
  }

  private static void run(LagRun.Load load, ZVerseStore writer, List<ClusterStore> stores)
      throws Exception {
    int total = load.total();
    long first = writer.snapshot().version() + 1;
    LagRun.Stamps written = new LagRun.Stamps(first, total);
    List<LagRun.Stamps> replicas = new ArrayList<>();
    writer.advanced().addPublishListener(written);
    for (ClusterStore s : stores) {
      LagRun.Stamps r = new LagRun.Stamps(first, total);
      s.replica().advanced().addPublishListener(r);
      replicas.add(r);
    }
    LagRun.Sent sent = LagRun.send(load, stores.get(0), first);
    long lastVersion = sent.lastVersion;
    for (ClusterStore s : stores) {
      s.awaitVersion(lastVersion, Duration.ofSeconds(60)).toCompletableFuture().get();
    }
    for (LagRun.Stamps r : replicas) {
      r.awaitStamped(lastVersion);
    }
    writer.advanced().removePublishListener(written);
    for (int i = 0; i < stores.size(); i++) {
      stores.get(i).replica().advanced().removePublishListener(replicas.get(i));
    }
    LagRun.printLoad(load, first, lastVersion, sent.summary());
    long[] w = LagRun.toArray(written.nanos);
    long[] intended = LagRun.toArray(sent.intended);
    long[] answered = LagRun.toArray(sent.answered);
    LagRun.Figures all = new LagRun.Figures();
    for (int r = 0; r < replicas.size(); r++) {
      LagRun.Figures f =
          LagRun.Figures.of(
              first,
              load.recordedFrom(first),
              lastVersion,
              w,
              intended,
              answered,
              LagRun.toArray(replicas.get(r).nanos));
      LagRun.print("node " + r + (r == 0 ? " (writer)" : "         "), f);
      all.add(f);
    }
    LagRun.print("all            ", all);
  }
}
