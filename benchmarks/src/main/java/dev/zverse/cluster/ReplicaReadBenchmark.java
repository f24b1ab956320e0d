package dev.zverse.cluster;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Local reads on a cluster replica against reads on a single-node store (issue 16: goal at least
 * 0.9x), in the same run, on the same data: 1,000,000 random 16-byte keys with 100-byte values,
 * written through a {@link ClusterStore} of three nodes (three ActorSystems in one cluster on
 * 127.0.0.1 in this JVM) in 100 batches of 10,000 puts, and the same batches into a {@link
 * ZVerseStore} opened on node 1. Every trial builds both, whatever it measures, so the heap holds
 * the same. Reads on node 1, a replica that is not the writer's node. {@code impl}:
 *
 * <ul>
 *   <li>{@code ZVerseStore}: {@code store.snapshot().get(key)} on the single-node store;
 *   <li>{@code ClusterStore}: {@code clusterStore.snapshot().get(key)} on node 1;
 *   <li>{@code ZVerseStore_held}, {@code ClusterStore_held}: {@code get(key)} on a snapshot of each
 *       taken once after loading and held;
 *   <li>{@code alternate}: {@code ZVerseStore} and {@code ClusterStore} in turn, one iteration
 *       each, in one fork: the ratio from adjacent iterations of one JVM, which a machine whose
 *       load changes over minutes (forks one after another) does not skew; the first iteration
 *       (warmup included) reads the single-node store, and each iteration's store is printed;
 *   <li>{@code alternate_held}: the same with the held snapshots.
 * </ul>
 *
 * <p>Probes are copies of the stored keys in a random order, stepped through ({@code index++ &
 * mask}); the setup checks that every store answers the loaded value for a sample of them. One
 * thread, throughput (gets per second); every get returns a copy of the value.
 *
 * <p>Run: {@code taskset -c 1 java -jar benchmarks/target/benchmarks.jar ReplicaReadBenchmark -rf
 * json -rff benchmarks/results/replica-read.json}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@Threads(1)
@State(Scope.Benchmark)
public class ReplicaReadBenchmark {
  static final int KEYS = 1_000_000;
  private static final int PROBES = 1 << 20;
  private static final int MASK = PROBES - 1;

  /** Where the gets go: see the class comment. */
  @Param({
    "ZVerseStore",
    "ClusterStore",
    "ZVerseStore_held",
    "ClusterStore_held",
    "alternate",
    "alternate_held"
  })
  String impl;

  private ClusterFixture cluster;
  private List<ClusterStore> stores;
  private ZVerseStore single;
  private ClusterStore replica;
  private Snapshot held;
  private Snapshot singleHeld;
  private Snapshot replicaHeld;
  private int iteration;

  /** For {@code alternate}: whether this iteration reads the replica. */
  private boolean onReplica;

  private byte[][] probes;
  private int index;

  /** Starts the cluster, loads both stores and checks their answers. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    cluster = ClusterFixture.start(3, "");
    stores = cluster.open("reads", ClusterFixture::patient);
    ActorSystem<Void> node1 = cluster.node(1);
    single = ZVerseStore.open(node1, "single", StoreSettings.create(node1, "single"));
    replica = stores.get(1);
    SplittableRandom random = new SplittableRandom(16);
    byte[][] keys = new byte[KEYS][];
    byte[][] values = new byte[KEYS][];
    long last = 0;
    for (int from = 0; from < KEYS; from += 10_000) {
      WriteBatch.Builder b = WriteBatch.builder();
      for (int i = from; i < from + 10_000; i++) {
        keys[i] = new byte[16];
        values[i] = new byte[100];
        random.nextBytes(keys[i]);
        random.nextBytes(values[i]);
        b.put(keys[i], values[i]);
      }
      WriteBatch batch = b.build();
      last = stores.get(0).write(batch).toCompletableFuture().get(120, TimeUnit.SECONDS);
      single.write(batch).toCompletableFuture().get(120, TimeUnit.SECONDS);
    }
    replica.awaitVersion(last, Duration.ofSeconds(120)).toCompletableFuture().get();
    probes = new byte[PROBES][];
    int[] order = new int[PROBES];
    for (int i = 0; i < PROBES; i++) {
      order[i] = random.nextInt(KEYS);
      probes[i] = keys[order[i]].clone();
    }
    singleHeld = single.snapshot();
    replicaHeld = replica.snapshot();
    held = impl.startsWith("ZVerseStore") ? singleHeld : replicaHeld;
    for (int i = 0; i < PROBES; i += 97) {
      byte[] want = values[order[i]];
      check(single.snapshot().get(probes[i]), want, "single-node store");
      check(replica.snapshot().get(probes[i]), want, "replica");
      check(singleHeld.get(probes[i]), want, "held snapshot of the single-node store");
      check(replicaHeld.get(probes[i]), want, "held snapshot of the replica");
    }
  }

  /** For the alternating {@code impl}s: the next iteration reads the other store, and says so. */
  @Setup(Level.Iteration)
  public void nextIteration() {
    iteration++;
    onReplica = iteration % 2 == 0;
    if (impl.startsWith("alternate")) {
      held = onReplica ? replicaHeld : singleHeld;
      System.out.print("[" + (onReplica ? "ClusterStore" : "ZVerseStore") + "] ");
    }
  }

  private static void check(byte @Nullable [] got, byte[] want, String where) {
    if (!Arrays.equals(got, want)) {
      throw new IllegalStateException("the " + where + " answered a wrong value");
    }
  }

  /** Closes the stores and terminates the nodes. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    single.close().toCompletableFuture().get();
    cluster.close();
  }

  /** One get of the next probe, where {@code impl} says. */
  @Benchmark
  public byte @Nullable [] get() {
    byte[] key = probes[index++ & MASK];
    return switch (impl) {
      case "ZVerseStore" -> single.snapshot().get(key);
      case "ClusterStore" -> replica.snapshot().get(key);
      case "alternate" -> (onReplica ? replica.snapshot() : single.snapshot()).get(key);
      default -> held.get(key);
    };
  }
}
