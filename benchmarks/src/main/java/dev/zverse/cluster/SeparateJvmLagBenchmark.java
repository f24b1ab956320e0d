package dev.zverse.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Replica lag (issue 16) with one process per node: the run of {@link ReplicaLagBenchmark}, but
 * each of the three nodes is a child JVM ({@link LagNode}) that joins the cluster through seed
 * nodes on 127.0.0.1 (Artery TCP over loopback); nothing is shared but the wire. The writer
 * singleton runs on node 0, the first seed and the oldest member, and so does the paced open-loop
 * sender ({@link LagRun#send}).
 *
 * <p>One clock for all: each node stamps its publishes with its own {@link System#nanoTime}, and
 * node 1's and node 2's lag is their stamp minus node 0's. On Linux {@code System.nanoTime} is
 * {@code clock_gettime(CLOCK_MONOTONIC)}, one clock for every process of the machine, so the
 * difference needs no correction. This run checks that rather than assume it: before and after the
 * loads it asks each node 200 times for its clock ({@code clock}) and estimates the node's offset
 * from the parent as its reading minus the midpoint of the parent's readings around the question,
 * from the question with the shortest round trip; a shared clock shows an offset within half that
 * round trip. Each replica's histograms are computed in its own process against node 0's stamps
 * (handed over in a file) and reach the parent in HdrHistogram's compressed encoding.
 *
 * <p>A plain main, not run by any test. Children run the Java and class path of this process with
 * {@code -Xms1g -Xmx1g -XX:+AlwaysPreTouch}, and every system property of this process whose name
 * starts with {@code zverse.} or {@code pekko.} (for example {@code
 * -Dzverse.cluster.replication.min-acks=0}); their logs go to the working directory's {@code
 * target/lag-nodes}. Run (after {@code ./mvnw -B -pl benchmarks -am package -DskipTests}):
 *
 * <pre>{@code
 * taskset -c 0,1 java -cp benchmarks/target/benchmarks.jar \
 *     dev.zverse.cluster.SeparateJvmLagBenchmark --rate 1000 --batch 1 --seconds 10 --warmup 5
 * }</pre>
 *
 * <p>With no load arguments it runs the issue's three loads. {@code --jfr <directory>}, first,
 * records each child with JFR's {@code profile} settings into {@code <directory>/node<i>.jfr}.
 * {@code --put1 <n>}, instead of the loads (or before load arguments, then after them), times
 * writes from a node that does not hold the writer against writes on the writer's node: single puts
 * one at a time, {@code n} per round, node 0 and node 1 alternated ({@code 0 1 1 0 0 1}) after a
 * warmup round on each.
 */
public final class SeparateJvmLagBenchmark {
  private static final int NODES = 3;
  private static final int PINGS = 200;

  private SeparateJvmLagBenchmark() {}

  /**
   * Starts three child nodes and runs the loads given by the arguments, or the issue's three.
   *
   * @param args {@code [--jfr DIR] [--put1 N] [--rate R --batch B --seconds S --warmup W]}
   * @throws Exception if a node does not start or answers an error
   */
  public static void main(String[] args) throws Exception {
    List<String> options = new ArrayList<>(Arrays.asList(args));
    @Nullable Path jfr = null;
    if (options.size() >= 2 && options.get(0).equals("--jfr")) {
      jfr = Path.of(options.get(1)).toAbsolutePath();
      Files.createDirectories(jfr);
      options = options.subList(2, options.size());
    }
    int put1 = 0;
    if (options.size() >= 2 && options.get(0).equals("--put1")) {
      put1 = Integer.parseInt(options.get(1));
      options = options.subList(2, options.size());
    }
    List<LagRun.Load> loads = put1 > 0 || !options.isEmpty() ? List.of() : LagRun.Load.issue();
    if (!options.isEmpty()) {
      loads = List.of(LagRun.Load.parse(options));
    }
    Path work = Path.of("target", "lag-nodes").toAbsolutePath();
    Files.createDirectories(work);
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      ports.add(NodeProcess.freePort());
    }
    List<NodeProcess> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < NODES; i++) {
        nodes.add(
            NodeProcess.start(
                i, work, LagNode.config(ports.get(i), ports, NODES), NodeProcess.SMALL_HEAP, jfr));
      }
      for (NodeProcess c : nodes) {
        String[] ready = c.await().split(" ");
        System.out.printf(
            "node %d: pid %d, %s available processor(s), min-acks %s, %s threads%n",
            c.index, c.process.pid(), ready[1], ready[2], c.ask("threads"));
      }
      System.out.printf(
          "%d nodes in %d JVMs, parent pid %d, %d available processor(s)%n",
          NODES, NODES, ProcessHandle.current().pid(), Runtime.getRuntime().availableProcessors());
      checkClocks(nodes);
      for (LagRun.Load load : loads) {
        run(load, nodes, work);
      }
      if (put1 > 0) {
        writes(put1, nodes);
      }
      for (NodeProcess c : nodes) {
        System.out.printf("node %d: %s threads%n", c.index, c.ask("threads"));
      }
      checkClocks(nodes);
    } finally {
      for (NodeProcess c : nodes) {
        c.close();
      }
    }
  }

  /** Estimates each node's clock offset from this process's: see the class comment. */
  private static void checkClocks(List<NodeProcess> nodes) throws Exception {
    for (NodeProcess c : nodes) {
      long bestRtt = Long.MAX_VALUE;
      long bestOffset = 0;
      long[] rtts = new long[PINGS];
      for (int i = 0; i < PINGS; i++) {
        long before = System.nanoTime();
        long theirs = Long.parseLong(c.ask("clock"));
        long after = System.nanoTime();
        rtts[i] = after - before;
        if (rtts[i] < bestRtt) {
          bestRtt = rtts[i];
          // The node read its clock somewhere between before and after.
          bestOffset = theirs - (before + (after - before) / 2);
        }
      }
      Arrays.sort(rtts);
      System.out.printf(
          "clock of node %d: offset %+,d ns at the shortest round trip %,d ns (median %,d ns):"
              + " %s%n",
          c.index,
          bestOffset,
          bestRtt,
          rtts[PINGS / 2],
          Math.abs(bestOffset) <= bestRtt / 2 + 1
              ? "within half the round trip, one clock"
              : "OUTSIDE half the round trip: not one clock, lags across processes are wrong");
    }
  }

  private static void run(LagRun.Load load, List<NodeProcess> nodes, Path work) throws Exception {
    NodeProcess writer = nodes.get(0);
    long first = Long.parseLong(writer.ask("listen - " + load.total()));
    for (NodeProcess c : nodes.subList(1, nodes.size())) {
      c.ask("listen " + first + " " + load.total());
    }
    String[] sent =
        writer
            .ask(
                "send %d %d %d %d %d"
                    .formatted(load.rate(), load.batch(), load.seconds(), load.warmup(), first))
            .split(" ", 2);
    long last = Long.parseLong(sent[0]);
    for (NodeProcess c : nodes) {
      c.ask("await " + last);
    }
    Path stamps = work.resolve("writer-stamps.bin");
    writer.ask("dump " + stamps);
    LagRun.printLoad(load, first, last, sent[1]);
    LagRun.Figures all = new LagRun.Figures();
    for (NodeProcess c : nodes) {
      LagRun.Figures f =
          LagRun.Figures.decode(
              c.ask("figures " + load.recordedFrom(first) + " " + last + " " + stamps));
      LagRun.print("node " + c.index + (c.index == 0 ? " (writer)" : "         "), f);
      all.add(f);
    }
    LagRun.print("all            ", all);
  }

  /**
   * Writes from a node that does not hold the writer (node 1) against writes on the writer's node
   * (node 0), one at a time, {@code n} per round, in alternated rounds after one warmup round each.
   */
  private static void writes(int n, List<NodeProcess> nodes) throws Exception {
    System.out.printf("%nsingle-put writes one at a time, %,d per round (us)%n", n);
    nodes.get(0).ask("put1 " + n);
    nodes.get(1).ask("put1 " + n);
    int[] order = {0, 1, 1, 0, 0, 1};
    Histogram[] all = {new Histogram(3), new Histogram(3)};
    for (int i = 0; i < order.length; i++) {
      Histogram h = LagRun.Figures.decode1(nodes.get(order[i]).ask("put1 " + n));
      all[order[i]].add(h);
      System.out.printf(
          "round %d, node %d%s: p50 %,d / p99 %,d / p99.9 %,d / max %,d%n",
          i + 1,
          order[i],
          order[i] == 0 ? " (writer's node)" : " (another node)",
          h.getValueAtPercentile(50),
          h.getValueAtPercentile(99),
          h.getValueAtPercentile(99.9),
          h.getMaxValue());
    }
    System.out.printf(
        "all rounds: node 0 p50 %,d p99 %,d; node 1 p50 %,d p99 %,d; node 1 / node 0: p50 %.2fx,"
            + " p99 %.2fx%n",
        all[0].getValueAtPercentile(50),
        all[0].getValueAtPercentile(99),
        all[1].getValueAtPercentile(50),
        all[1].getValueAtPercentile(99),
        (double) all[1].getValueAtPercentile(50) / all[0].getValueAtPercentile(50),
        (double) all[1].getValueAtPercentile(99) / all[0].getValueAtPercentile(99));
  }
}
