package dev.zverse.cluster;

import dev.zverse.actors.PublishListener;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

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
 * and node; nodes 1 and 2 are across loopback) and all three together.
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
  private static final String CONFIG = "zverse.store.writer.max-pending-writes = 1000000\n";

  private static final int NODES = 3;
  private static final int KEYS = 100_000;

  private ReplicaLagBenchmark() {}

  /** One load: commits per second, puts per commit, seconds recorded after warmup seconds. */
  private record Load(int rate, int batch, int seconds, int warmup) {}

  /**
   * Runs the loads given by the arguments, or the three.
   *
   * @param args {@code [--replica-dispatcher own|shared] [--rate R --batch B --seconds S --warmup
   *     W]}
   * @throws Exception if the cluster does not start or a write fails
   */
  public static void main(String[] args) throws Exception {
    List<Load> loads = new ArrayList<>();
    boolean ownDispatcher = true;
    if (args.length >= 2 && args[0].equals("--replica-dispatcher")) {
      ownDispatcher = args[1].equals("own");
      args = Arrays.copyOfRange(args, 2, args.length);
    }
    if (args.length == 0) {
      loads.add(new Load(1_000, 1, 20, 5));
      loads.add(new Load(10_000, 1, 20, 5));
      loads.add(new Load(1_000, 100, 20, 5));
    } else {
      int rate = 1_000;
      int batch = 1;
      int seconds = 20;
      int warmup = 5;
      for (int i = 0; i + 1 < args.length; i += 2) {
        int value = Integer.parseInt(args[i + 1]);
        switch (args[i]) {
          case "--rate" -> rate = value;
          case "--batch" -> batch = value;
          case "--seconds" -> seconds = value;
          case "--warmup" -> warmup = value;
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      loads.add(new Load(rate, batch, seconds, warmup));
    }
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
          "%d nodes in one JVM, %d available processors, replicas on %s%n",
          NODES,
          Runtime.getRuntime().availableProcessors(),
          stores.get(0).settings().replicaDispatcher());
      for (Load load : loads) {
        run(load, writer, stores);
      }
    }
  }

  /** Stamps, for each version from a first one on, when a store published it. */
  private static final class Stamps implements PublishListener {
    final long first;
    final AtomicLongArray nanos;
    private long last;

    Stamps(long first, int versions) {
      this.first = first;
      this.nanos = new AtomicLongArray(versions);
      this.last = first - 1;
    }

    @Override
    public void published(Snapshot snapshot) {
      long now = System.nanoTime();
      long v = snapshot.version();
      // Called by the store's writer only, in version order.
      for (long u = Math.max(last + 1, first); u <= v && u - first < nanos.length(); u++) {
        nanos.lazySet((int) (u - first), now);
      }
      last = Math.max(last, v);
    }

    @Override
    public void stopped(Snapshot last) {}
  }

  private static void run(Load load, ZVerseStore writer, List<ClusterStore> stores)
      throws Exception {
    int total = load.rate() * (load.seconds() + load.warmup());
    long first = writer.snapshot().version() + 1;
    Stamps written = new Stamps(first, total);
    List<Stamps> replicas = new ArrayList<>();
    writer.advanced().addPublishListener(written);
    for (ClusterStore s : stores) {
      Stamps r = new Stamps(first, total);
      s.replica().advanced().addPublishListener(r);
      replicas.add(r);
    }
    AtomicLongArray intended = new AtomicLongArray(total);
    AtomicLong failures = new AtomicLong();
    Map<String, Integer> kinds = new ConcurrentHashMap<>();
    byte[][] keys = new byte[KEYS][];
    SplittableRandom random = new SplittableRandom(16);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = new byte[16];
      random.nextBytes(keys[i]);
    }
    byte[] value = new byte[100];
    random.nextBytes(value);
    ClusterStore on = stores.get(0);
    long period = TimeUnit.SECONDS.toNanos(1) / load.rate();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
    long lastVersion = first - 1;
    List<CompletionStage<Long>> sent = new ArrayList<>(total);
    for (int k = 0; k < total; k++) {
      long at = start + k * period;
      for (long now = System.nanoTime(); now < at; now = System.nanoTime()) {
        LockSupport.parkNanos(at - now);
      }
      WriteBatch batch;
      if (load.batch() == 1) {
        batch = WriteBatch.ofPut(keys[(k * 7919) % KEYS], value);
      } else {
        WriteBatch.Builder b = WriteBatch.builder();
        for (int j = 0; j < load.batch(); j++) {
          b.put(keys[(k * load.batch() + j) % KEYS], value);
        }
        batch = b.build();
      }
      long intendedAt = at;
      sent.add(
          on.write(batch)
              .whenComplete(
                  (v, e) -> {
                    if (e != null) {
                      failures.incrementAndGet();
                      Throwable cause = e.getCause() != null ? e.getCause() : e;
                      kinds.merge(cause.getClass().getSimpleName(), 1, Integer::sum);
                    } else if (v - first < total && v >= first) {
                      intended.lazySet((int) (v - first), intendedAt);
                    }
                  }));
    }
    for (CompletionStage<Long> s : sent) {
      try {
        lastVersion = Math.max(lastVersion, s.toCompletableFuture().get(60, TimeUnit.SECONDS));
      } catch (ExecutionException e) {
        // Counted by the stage's own callback above.
      }
    }
    for (ClusterStore s : stores) {
      s.awaitVersion(lastVersion, Duration.ofSeconds(60)).toCompletableFuture().get();
    }
    // The listeners run on the replicas' writers: a publish at lastVersion may still be stamping.
    for (Stamps r : replicas) {
      while (r.nanos.get((int) (lastVersion - first)) == 0) {
        Thread.onSpinWait();
      }
    }
    writer.advanced().removePublishListener(written);
    for (int i = 0; i < stores.size(); i++) {
      stores.get(i).replica().advanced().removePublishListener(replicas.get(i));
    }
    report(load, first, lastVersion, written, intended, replicas, failures.get() + " " + kinds);
  }

  private static void report(
      Load load,
      long first,
      long lastVersion,
      Stamps written,
      AtomicLongArray intended,
      List<Stamps> replicas,
      String failures) {
    long fromVersion = first + (long) load.rate() * load.warmup();
    Histogram allLag = new Histogram(3);
    Histogram allEndToEnd = new Histogram(3);
    System.out.printf(
        "%nload: %,d commits/s of %d put(s), %d s recorded after %d s warmup; versions %d to %d;"
            + " failed writes: %s%n",
        load.rate(),
        load.batch(),
        load.seconds(),
        load.warmup(),
        fromVersion,
        lastVersion,
        failures);
    System.out.println(
        "replica         | lag p50 / p99 / p99.9 / max (us)  | end-to-end p50 / p99 / p99.9 / max");
    for (int r = 0; r < replicas.size(); r++) {
      Histogram lag = new Histogram(3);
      Histogram endToEnd = new Histogram(3);
      Stamps s = replicas.get(r);
      for (long v = fromVersion; v <= lastVersion; v++) {
        int i = (int) (v - first);
        long published = s.nanos.get(i);
        long w = written.nanos.get(i);
        long sentAt = intended.get(i);
        if (published == 0 || w == 0) {
          continue;
        }
        long lagMicros = Math.max(0, published - w) / 1000;
        lag.recordValue(lagMicros);
        allLag.recordValue(lagMicros);
        if (sentAt != 0) {
          long e2e = Math.max(0, published - sentAt) / 1000;
          endToEnd.recordValue(e2e);
          allEndToEnd.recordValue(e2e);
        }
      }
      print("node " + r + (r == 0 ? " (writer)" : "         "), lag, endToEnd);
    }
    print("all            ", allLag, allEndToEnd);
  }

  private static void print(String who, Histogram lag, Histogram endToEnd) {
    System.out.printf(
        "%s | %,7d / %,7d / %,7d / %,9d | %,7d / %,7d / %,7d / %,9d  (%d versions)%n",
        who,
        lag.getValueAtPercentile(50),
        lag.getValueAtPercentile(99),
        lag.getValueAtPercentile(99.9),
        lag.getMaxValue(),
        endToEnd.getValueAtPercentile(50),
        endToEnd.getValueAtPercentile(99),
        endToEnd.getValueAtPercentile(99.9),
        endToEnd.getMaxValue(),
        lag.getTotalCount());
  }
}
