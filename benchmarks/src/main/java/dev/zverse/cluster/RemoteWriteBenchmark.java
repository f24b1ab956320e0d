package dev.zverse.cluster;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.WriteBatch;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

/**
 * Writes from a node that does not hold the writer against writes on the writer's node (issue 16),
 * on three nodes (three ActorSystems in one cluster on 127.0.0.1 in this JVM, Artery TCP over
 * loopback). Each write is one put of a 16-byte key (of 100,000 loaded) and a 100-byte value.
 * {@code path} splits where the time goes, each step adding to the one before:
 *
 * <ul>
 *   <li>{@code WRITER_STORE}: {@code write} on the writer's local {@link ZVerseStore} itself (on
 *       node 0), no cluster on the way: the store's own cost, its commit sent to the replicas;
 *   <li>{@code WRITER_NODE}: {@link ClusterStore#write} on node 0: adds the batch's encoding (to
 *       size it), the ask, the singleton proxy and the writer singleton's hop, all local;
 *   <li>{@code NON_WRITER_NODE}: {@link ClusterStore#write} on node 1: adds the request's and the
 *       answer's serialization and the two hops over loopback.
 * </ul>
 *
 * <p>{@code put64}: throughput with 64 writes in flight (64 sent, then all awaited; score in writes
 * per second); {@code put1}: one write in flight, its latency sampled (JMH {@code SampleTime},
 * microseconds). One JMH thread.
 *
 * <p>Run: {@code taskset -c 1 java -jar benchmarks/target/benchmarks.jar RemoteWriteBenchmark -rf
 * json -rff benchmarks/results/remote-write.json}.
 */
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Threads(1)
@State(Scope.Benchmark)
public class RemoteWriteBenchmark {
  static final int KEYS = 100_000;
  private static final int IN_FLIGHT = 64;

  /** Which way each write goes: see the class comment. */
  @Param({"WRITER_STORE", "WRITER_NODE", "NON_WRITER_NODE"})
  String path;

  private ClusterFixture cluster;
  private List<ClusterStore> stores;
  private ZVerseStore writerStore;
  private ClusterStore on;
  private byte[][] keys;
  private byte[] value;
  private int index;

  /** Starts the cluster, loads the keys and checks that a write from each path reads back. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    cluster = ClusterFixture.start(3, "");
    String name = "writes";
    stores = cluster.open(name, ClusterFixture::patient);
    writerStore = cluster.writerStore(name);
    on = path.equals("NON_WRITER_NODE") ? stores.get(1) : stores.get(0);
    SplittableRandom random = new SplittableRandom(16);
    value = new byte[100];
    random.nextBytes(value);
    keys = ClusterFixture.randomKeys(random, KEYS, 16);
    WriteBatch.Builder b = WriteBatch.builder();
    for (int i = 0; i < KEYS; i++) {
      b.put(keys[i], value);
    }
    stores.get(0).write(b.build()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    byte[] probe = keys[KEYS / 2].clone();
    byte[] marker = "checked".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    long v = write(WriteBatch.ofPut(probe, marker)).get(60, TimeUnit.SECONDS);
    if (!java.util.Arrays.equals(writerStore.snapshot().get(probe, v), marker)) {
      throw new IllegalStateException("the writer does not read back a write by " + path);
    }
    write(WriteBatch.ofPut(probe, value)).get(60, TimeUnit.SECONDS);
  }

  /** Closes the stores and terminates the nodes. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    cluster.close();
  }

  private CompletableFuture<Long> write(WriteBatch batch) {
    return (path.equals("WRITER_STORE") ? writerStore.write(batch) : on.write(batch))
        .toCompletableFuture();
  }

  private WriteBatch next() {
    // Steps of a prime through the keys: every key, in a scattered order, without overflow.
    index = (index + 7919) % KEYS;
    return WriteBatch.ofPut(keys[index], value);
  }

  /** 64 writes in flight, then all awaited. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @OperationsPerInvocation(IN_FLIGHT)
  public long put64() throws Exception {
    return ClusterFixture.sendAndAwait(IN_FLIGHT, () -> write(next()));
  }

  /** One write, awaited. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public long put1() throws Exception {
    return write(next()).get(60, TimeUnit.SECONDS);
  }
}
