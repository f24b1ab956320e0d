package dev.zverse.cluster;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Writes acknowledged by {@code replication.min-acks} 0, 1 and 2 replicas (issue 17) against a
 * single-node store, in the same run: three nodes (three ActorSystems in one cluster on 127.0.0.1
 * in this JVM, Artery TCP over loopback, {@link ClusterFixture}), every write one put of a 16-byte
 * key (of 100,000 loaded) and a 100-byte value, sent through {@link ClusterStore#write} on node 0,
 * the writer's node, so that what differs is what the writer waits for. {@code store}:
 *
 * <ul>
 *   <li>{@code SINGLE_NODE}: {@code write} on a {@link ZVerseStore} opened on node 0 (the cluster
 *       store runs beside it, idle, so that both have the same threads);
 *   <li>{@code MIN_ACKS_0}: answered once the writer committed (the replicas follow behind);
 *   <li>{@code MIN_ACKS_1}, {@code MIN_ACKS_2}: answered once 1 or 2 replicas besides the writer's
 *       node received it: one round trip over loopback to the fastest, or to both.
 *   <li>{@code DURABLE_1_ACK_ON_RECEIPT}, {@code DURABLE_1_LOGGED}: k = 1 with durable replicas
 *       (each node's replica store in a data directory under a temporary directory, the store's
 *       {@code sync} policy, {@code every-commit} by default): before, replicas acknowledge on
 *       receipt (their replica log off, as before issue 17's durable acknowledgement); after, they
 *       force what they received to their replica log first (one force per batch of messages).
 * </ul>
 *
 * <p>{@code put64}: throughput with 64 writes in flight (64 sent, then all awaited; writes per
 * second); {@code put1}: one write in flight, its latency sampled. Each trial also records every
 * write's latency of its measurement iterations (from the send to its answer, microseconds) in an
 * HdrHistogram and prints p50, p99, p99.9 and the maximum when it ends. One JMH thread.
 *
 * <p>Run: {@code taskset -c 1 java -jar benchmarks/target/benchmarks.jar MinAcksBenchmark -rf json
 * -rff benchmarks/results/min-acks.json}.
 */
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Threads(1)
@State(Scope.Benchmark)
public class MinAcksBenchmark {
  static final int KEYS = 100_000;
  private static final int IN_FLIGHT = 64;

  /** What acknowledges each write: see the class comment. */
  @Param({
    "SINGLE_NODE",
    "MIN_ACKS_0",
    "MIN_ACKS_1",
    "MIN_ACKS_2",
    "DURABLE_1_ACK_ON_RECEIPT",
    "DURABLE_1_LOGGED"
  })
  String store;

  /** The durable trials' data directories, or null. */
  private @Nullable Path durableRoot;

  private ClusterFixture cluster;
  private ZVerseStore single;
  private ClusterStore onWriterNode;
  private byte[][] keys;
  private byte[] value;
  private int index;

  /** Every write's latency in the measurement iterations, in microseconds. */
  private final Histogram latency = new ConcurrentHistogram(3);

  private boolean recording;

  /** Starts the cluster, opens the stores with the trial's min-acks and loads the keys. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    cluster = ClusterFixture.start(3, "");
    int minAcks = store.startsWith("MIN_ACKS_") ? Integer.parseInt(store.substring(9)) : 1;
    List<ClusterStore> stores;
    if (store.startsWith("DURABLE_")) {
      Path root = Files.createTempDirectory("min-acks");
      durableRoot = root;
      int[] next = {0};
      stores =
          cluster.open(
              "acks",
              node -> ClusterFixture.patient(node).withMinAcks(minAcks),
              node ->
                  StoreSettings.create(node, "acks")
                      .withDataDirectory(root.resolve("node" + next[0]++)),
              store.equals("DURABLE_1_LOGGED"));
    } else {
      stores = cluster.open("acks", node -> ClusterFixture.patient(node).withMinAcks(minAcks));
    }
    onWriterNode = stores.get(0);
    ActorSystem<Void> node0 = cluster.node(0);
    single = ZVerseStore.open(node0, "single", StoreSettings.create(node0, "single"));
    SplittableRandom random = new SplittableRandom(17);
    value = new byte[100];
    random.nextBytes(value);
    keys = ClusterFixture.randomKeys(random, KEYS, 16);
    WriteBatch.Builder b = WriteBatch.builder();
    for (int i = 0; i < KEYS; i++) {
      b.put(keys[i], value);
    }
    WriteBatch load = b.build();
    long v = onWriterNode.write(load).toCompletableFuture().get(120, TimeUnit.SECONDS);
    single.write(load).toCompletableFuture().get(120, TimeUnit.SECONDS);
    for (ClusterStore s : stores) {
      s.awaitVersion(v, ClusterFixture.WAIT).toCompletableFuture().get();
    }
  }

  /** Records latencies in measurement iterations only. */
  @Setup(Level.Iteration)
  public void startIteration(IterationParams iteration) {
    recording = iteration.getType() == IterationType.MEASUREMENT;
  }

  /** Prints the trial's latency percentiles, then closes the stores and the nodes. */
  @TearDown(Level.Trial)
  public void tearDown(BenchmarkParams params) throws Exception {
    System.out.printf(
        "%n%s store=%s: %,d writes, latency p50 %,d us, p99 %,d us, p99.9 %,d us, max %,d us%n",
        params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1),
        store,
        latency.getTotalCount(),
        latency.getValueAtPercentile(50),
        latency.getValueAtPercentile(99),
        latency.getValueAtPercentile(99.9),
        latency.getMaxValue());
    single.close().toCompletableFuture().get();
    cluster.close();
    Path root = durableRoot;
    if (root != null) {
      try (Stream<Path> files = Files.walk(root)) {
        files
            .sorted(Comparator.reverseOrder())
            .forEach(
                p -> {
                  try {
                    Files.delete(p);
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                });
      }
    }
  }

  private CompletableFuture<Long> write() {
    // Steps of a prime through the keys: every key, in a scattered order, without overflow.
    index = (index + 7919) % KEYS;
    WriteBatch batch = WriteBatch.ofPut(keys[index], value);
    long start = System.nanoTime();
    CompletableFuture<Long> sent =
        (store.equals("SINGLE_NODE") ? single.write(batch) : onWriterNode.write(batch))
            .toCompletableFuture();
    if (!recording) {
      return sent;
    }
    return sent.whenComplete(
        (v, e) -> latency.recordValue(Math.max(0, System.nanoTime() - start) / 1000));
  }

  /** 64 writes in flight, then all awaited. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @OperationsPerInvocation(IN_FLIGHT)
  public long put64() throws Exception {
    return ClusterFixture.sendAndAwait(IN_FLIGHT, () -> write());
  }

  /** One write, awaited. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public long put1() throws Exception {
    return write().get(60, TimeUnit.SECONDS);
  }
}
