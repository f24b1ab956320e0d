package dev.zverse.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * State transfer (issue 16, capability 3) between separate JVMs, through the product's whole path:
 * a node that joins late catches up with the writer's state and then follows it live. Every node is
 * a child JVM ({@link LagNode} started by {@link NodeProcess}) joined through seed nodes on
 * 127.0.0.1 (Artery TCP over loopback); nothing is shared but the wire.
 *
 * <p>Node 0 (the first seed, the oldest member, so the writer singleton's node) loads {@code
 * --keys} random 16-byte keys with 100-byte values, the data of {@link StateTransferBenchmark} (its
 * {@link StateTransferBenchmark#load}: writes of 10,000 puts, each awaited), through its {@link
 * ClusterStore}; node 1 holds a replica, so that writes get their {@code min-acks} 1. Every store
 * keeps 10 versions ({@code zverse.store.retention.versions}), and node 0 writes on until the
 * writer's watermark is at least 1: a replica that starts empty cannot follow from the log.
 *
 * <p>Then, for each of {@code --warmup} + {@code --runs} joins, a fresh child JVM joins as a third
 * member and opens the store; its replica asks the writer to follow from version 1, is told to
 * catch up by state transfer, receives the writer's state at its version V in chunks over a stream
 * ref, resets its store to it and follows. Measured in the joiner, from its replica's first request
 * (just before {@link ClusterStore#open}, which sends it; the JVM's start and the cluster join come
 * before and are printed apart): <b>served</b>, when {@link ClusterStore#awaitVersion
 * awaitVersion(V)} completed (reads answer at the writer's version), and <b>following</b>, when
 * {@link ClusterStore#following()} completed (the writer took the replica on after the transfer).
 * Nothing here waits by sleeping: the joiner's stages say when. MB/s is the bytes of the writer's
 * export of the state at V (what the stream carries, its chunks' frames included; Artery's own
 * framing not) over the served time.
 *
 * <p>Each join is then checked, outside the time: the joiner's replica is at exactly V with the
 * writer's number of keys and the same digest of every key and value ({@link
 * TransferNode#digest(dev.zverse.engine.Snapshot)}); every 97th key of the data, looked up with a
 * fresh copy, holds its value; its status is not catching up, has no failure and its readiness
 * check is true; node 0 then writes 100 commits (each key rewritten with its own value, so the
 * state's contents stay the same for the next join) and the joiner reaches the last one: it follows
 * live. Beside the whole, the two halves alone: the export of the same state on the writer's JVM
 * and the import of its chunks on the joiner's (the product does not report the split of a live
 * transfer); when the joiner's status first said it catches up (sampled, see {@link TransferNode});
 * the CPU time of the joiner until served and of the writer's JVM meanwhile. The joiner then leaves
 * (its store and ActorSystem closed) and exits.
 *
 * <p>A plain main, not run by any test. Every child runs this process's Java and class path with
 * {@code -Xms<heap> -Xmx<heap> -XX:+AlwaysPreTouch} and the {@code zverse.*} and {@code pekko.*}
 * system properties of this process; their configurations and logs go to the working directory's
 * {@code target/transfer-nodes}. Run (after {@code ./mvnw -B -pl benchmarks -am package
 * -DskipTests}):
 *
 * <pre>{@code
 * taskset -c 0,1 java -cp benchmarks/target/benchmarks.jar \
 *     dev.zverse.cluster.SeparateJvmTransferBenchmark --keys 1000000 --warmup 2 --runs 5
 * }</pre>
 */
public final class SeparateJvmTransferBenchmark {
  /** What every node adds to its configuration. */
  static final String CONFIG = "zverse.store.retention.versions = 10\n";

  private static final int EVERY = 97;
  private static final int REWRITES = 100;

  private SeparateJvmTransferBenchmark() {}

  /**
   * Starts the writer's node and a replica's, loads the store, then times the joins.
   *
   * @param args {@code [--keys N] [--warmup W] [--runs R] [--heap SIZE]}: keys (1,000,000), joins
   *     not counted (2), joins counted (5), each child's heap ({@code 2g})
   * @throws Exception if a node does not start, answers an error, or a check fails
   */
  public static void main(String[] args) throws Exception {
    int keys = 1_000_000;
    int warmup = 2;
    int runs = 5;
    String heap = "2g";
    for (int i = 0; i + 1 < args.length; i += 2) {
      String value = args[i + 1];
      switch (args[i]) {
        case "--keys" -> keys = Integer.parseInt(value);
        case "--warmup" -> warmup = Integer.parseInt(value);
        case "--runs" -> runs = Integer.parseInt(value);
        case "--heap" -> heap = value;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (keys < 1 || warmup < 0 || runs < 1) {
      throw new IllegalArgumentException(
          "--keys and --runs must be at least 1, --warmup at least 0; were "
              + keys
              + ", "
              + runs
              + ", "
              + warmup);
    }
    List<String> jvm = List.of("-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch");
    Path work = Path.of("target", "transfer-nodes").toAbsolutePath();
    Files.createDirectories(work);
    System.out.printf(
        "state transfer between JVMs: %,d keys, %d + %d joins, heap %s per child, parent pid %d,"
            + " %d available processor(s); load average %s%n",
        keys,
        warmup,
        runs,
        heap,
        ProcessHandle.current().pid(),
        Runtime.getRuntime().availableProcessors(),
        loadAverage());
    List<Integer> seeds = List.of(NodeProcess.freePort(), NodeProcess.freePort());
    List<NodeProcess> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < seeds.size(); i++) {
        nodes.add(
            NodeProcess.start(i, work, LagNode.config(seeds.get(i), seeds, 2) + CONFIG, jvm, null));
      }
      for (NodeProcess n : nodes) {
        String[] ready = n.await().split(" ");
        System.out.printf(
            "node %d: pid %d, %s available processor(s), min-acks %s%n",
            n.index, n.process.pid(), ready[1], ready[2]);
      }
      long start = System.nanoTime();
      String[] loaded = nodes.get(0).ask("load " + keys).split(" ");
      System.out.printf(
          "loaded in %.1f s: writer at version %s, watermark %s (%s more write(s) until pruned)%n",
          (System.nanoTime() - start) / 1e9, loaded[0], loaded[1], loaded[2]);
      List<Join> measured = new ArrayList<>();
      for (int r = 0; r < warmup + runs; r++) {
        Join j = join(2 + r, keys, seeds, jvm, work, nodes.get(0));
        System.out.println((r < warmup ? "warmup   " : "measured ") + j);
        if (r >= warmup) {
          measured.add(j);
        }
      }
      summarize(measured);
      for (NodeProcess n : nodes) {
        System.out.printf("node %d: %s threads%n", n.index, n.ask("threads"));
      }
    } finally {
      for (NodeProcess n : nodes) {
        n.close();
      }
    }
    System.out.printf("load average at the end %s%n", loadAverage());
  }

  /** One join's figures. */
  private record Join(
      int node,
      long version,
      long bytes,
      int chunks,
      long servedNanos,
      long followingNanos,
      long catchingUpNanos,
      long joinerCpuNanos,
      long writerCpuNanos,
      long startToRequestMillis,
      long exportNanos,
      long importNanos,
      int checked,
      long followedTo,
      String processors,
      String threads,
      String loadBefore,
      String loadAfter) {
    double seconds() {
      return servedNanos / 1e9;
    }

    double megabytesPerSecond() {
      return bytes / 1e6 / seconds();
    }

    @Override
    public String toString() {
      return String.format(
          "node %d: version %,d, %,d bytes in %,d chunks; served %.2f s after the request"
              + " (%.1f MB/s), following %.2f s, catching up seen at %.2f s; CPU %.2f s in the joiner until served, %.2f s in"
              + " the writer's JVM from the joiner's start; JVM start to request %,d ms; export"
              + " alone %.2f s"
              + " (writer's JVM), import alone %.2f s (joiner's JVM); state equal, %,d keys"
              + " checked, followed live to %,d; %s available processor(s), %s threads; load average"
              + " %s, after %s",
          node,
          version,
          bytes,
          chunks,
          seconds(),
          megabytesPerSecond(),
          followingNanos / 1e9,
          catchingUpNanos / 1e9,
          joinerCpuNanos / 1e9,
          writerCpuNanos / 1e9,
          startToRequestMillis,
          exportNanos / 1e9,
          importNanos / 1e9,
          checked,
          followedTo,
          processors,
          threads,
          loadBefore,
          loadAfter);
    }
  }

  /**
   * A fresh JVM joins as node {@code index}, catches up and follows; checked, then stopped.
   *
   * @throws IllegalStateException if it does not hold the writer's state or does not follow
   */
  private static Join join(
      int index, int keys, List<Integer> seeds, List<String> jvm, Path work, NodeProcess writer)
      throws Exception {
    String loadBefore = loadAverage();
    String[] state = writer.ask("state").split(" ");
    long version = Long.parseLong(state[0]);
    String config =
        LagNode.config(NodeProcess.freePort(), seeds, 3)
            + CONFIG
            + TransferNode.CATCH_UP_TO
            + " = "
            + version
            + "\n";
    long writerCpu = Long.parseLong(writer.ask("cpu"));
    NodeProcess joiner = NodeProcess.start(index, work, config, jvm, null);
    try {
      String processors = joiner.await().split(" ")[1];
      String[] caught = joiner.ask("caught").split(" ");
      writerCpu = Long.parseLong(writer.ask("cpu")) - writerCpu;
      if (!caught[4].equals("false") || !caught[5].equals("true") || !caught[6].equals("-")) {
        throw new IllegalStateException(
            "node "
                + index
                + " after catching up: catching up "
                + caught[4]
                + ", ready "
                + caught[5]
                + ", failure "
                + caught[6]);
      }
      String[] digest = joiner.ask("digest " + version).split(" ");
      if (!digest[1].equals(state[2]) || !digest[2].equals(state[3])) {
        throw new IllegalStateException(
            "node "
                + index
                + " holds "
                + digest[1]
                + " keys with digest "
                + digest[2]
                + " at version "
                + version
                + "; the writer "
                + state[2]
                + " with "
                + state[3]);
      }
      int checked = Integer.parseInt(joiner.ask("check " + keys + " " + EVERY));
      long last = Long.parseLong(writer.ask("rewrite " + REWRITES));
      long followedTo = Long.parseLong(joiner.ask("reach " + last));
      String[] imported = joiner.ask("import").split(" ");
      String threads = joiner.ask("threads");
      return new Join(
          index,
          version,
          Long.parseLong(state[4]),
          Integer.parseInt(state[5]),
          Long.parseLong(caught[0]),
          Long.parseLong(caught[1]),
          Long.parseLong(caught[8]),
          Long.parseLong(caught[7]),
          writerCpu,
          Long.parseLong(caught[2]),
          Long.parseLong(state[6]),
          Long.parseLong(imported[2]),
          checked,
          followedTo,
          processors,
          threads,
          loadBefore,
          loadAverage());
    } finally {
      joiner.close();
    }
  }

  private static void summarize(List<Join> joins) {
    double[] seconds = joins.stream().mapToDouble(Join::seconds).sorted().toArray();
    double[] following =
        joins.stream().mapToDouble(j -> j.followingNanos() / 1e9).sorted().toArray();
    double[] rates = joins.stream().mapToDouble(Join::megabytesPerSecond).sorted().toArray();
    double[] exports = joins.stream().mapToDouble(j -> j.exportNanos() / 1e9).sorted().toArray();
    double[] imports = joins.stream().mapToDouble(j -> j.importNanos() / 1e9).sorted().toArray();
    System.out.printf(
        "%n%d measured joins, median [min, max]: served %s s, following %s s, %s MB/s;"
            + " export alone %s s, import alone %s s%n",
        joins.size(),
        spread(seconds),
        spread(following),
        spread(rates),
        spread(exports),
        spread(imports));
  }

  /** {@code sorted}'s median, then its least and greatest value. */
  private static String spread(double[] sorted) {
    int n = sorted.length;
    double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return String.format("%.2f [%.2f, %.2f]", median, sorted[0], sorted[n - 1]);
  }

  /** The first three fields of {@code /proc/loadavg}, or "unknown" where there is none. */
  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return String.join(" ", Arrays.copyOf(f, 3));
    } catch (IOException e) {
      return "unknown";
    }
  }
}
