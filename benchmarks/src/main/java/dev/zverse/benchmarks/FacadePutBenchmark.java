package dev.zverse.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * One thread doing {@code store.put(k, v).toCompletableFuture().join()} on a memory-only {@link
 * ZVerseStore}, for long enough to see whether the rate holds (issue 18, point 1: it ran at about
 * 55,000/s for two seconds, then at 10,000-12,000/s for as long as it ran).
 *
 * <p>Workload: one store per trial, in its own {@link ActorSystem} ({@code Behaviors.empty()}),
 * with the module's default settings, loaded with {@value Dataset#DEFAULT_KEYS} random 16-byte keys
 * and 100-byte values ({@link Dataset}, fixed seed) in batches of {@value Dataset#LOAD_BATCH};
 * setup checks a sample of reads. Each invocation overwrites the next of 2^20 pre-generated probes
 * (copies of stored keys, random order) and waits for its answer: one write in flight.
 *
 * <p>{@code impl}:
 *
 * <ul>
 *   <li>{@code ZVerse}: the default settings ({@code writer.caller-runs = on} since session 12): a
 *       put that finds the writer idle is applied and published on the calling thread;
 *   <li>{@code ZVerse_actor}: the default settings with {@code writer.caller-runs = off}, every put
 *       handed to the WriterActor and answered from its thread (the path before caller-runs: two
 *       thread hand-offs per put);
 *   <li>{@code MVStore}: the peer, an in-memory H2 {@link MVStore} with the same keys, {@code
 *       map.put} then {@link MVStore#commit()} per put (a version per put, the last 1,000 kept as
 *       ZVerse keeps them).
 * </ul>
 *
 * <p>Measured: 12 iterations of 5 s (60 s) after one of 5 s, each iteration's rate being one point
 * of the curve; a collapse shows as iterations after the first few scoring lower. Secondary results
 * per iteration: {@code cpuNanos}, the process's CPU time (every thread, GC included) over the
 * iteration, so that {@code cpuNanos / puts} is the CPU cost of one put, which other processes on a
 * shared machine disturb far less than the rate, and {@code callerCpuNanos}, the benchmark thread's
 * own CPU time, so that the rest is what the other threads (WriterActor, GC, JIT) spent. Each
 * iteration's put latencies (from the call to the return of {@code join}) go into an HdrHistogram,
 * printed at the end of the iteration and, for the whole measurement, at the end of the trial (in
 * microseconds: p50, p90, p99, p99.9, max).
 *
 * <p>The heap is 2 GiB, not the 4 GiB of the other benchmarks: on the shared machine touching 4 GiB
 * up front took minutes, and the store with its 1,000 retained versions needs far less.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar FacadePutBenchmark -rf json -rff
 * benchmarks/results/facade-put.json}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 12, time = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
public class FacadePutBenchmark {
  private static final int PROBES = 1 << 20;
  private static final int MASK = PROBES - 1;
  private static final int VALUES = 1 << 10;

  /** MVStore's kept versions: as many as the store's default retention. */
  private static final int RETAINED_VERSIONS = 1_000;

  /** Latencies above this (in ns) are clamped into the histogram's top bucket: 10 s. */
  private static final long HIGHEST_NANOS = 10_000_000_000L;

  /** The loaded store, the probes and the latency histograms. */
  @State(Scope.Benchmark)
  public static class Store {
    /** Which store: see the class comment. */
    @Param({"ZVerse", "ZVerse_actor", "MVStore"})
    public String impl;

    @Nullable ActorSystem<Void> system;
    @Nullable ZVerseStore store;
    @Nullable MVStore mvStore;
    @Nullable MVMap<byte[], byte[]> map;
    byte[][] probes;
    byte[][] values;
    int index;

    /** This iteration's latencies, in nanoseconds. */
    final Histogram iteration = new Histogram(HIGHEST_NANOS, 3);

    /** Every measured iteration's latencies, in nanoseconds. */
    final Histogram total = new Histogram(HIGHEST_NANOS, 3);

    int iterations;

    /** Starts the actor system, opens the store, loads the dataset and checks a sample of reads. */
    @Setup(Level.Trial)
    public void setup() {
      Dataset data = Dataset.create(Dataset.DEFAULT_KEYS);
      int[] indexes = data.randomIndexes(PROBES, 3);
      probes = data.probes(indexes);
      values = new byte[VALUES][];
      for (int i = 0; i < VALUES; i++) {
        values[i] = data.value(i, 1);
      }
      if (impl.equals("MVStore")) {
        MVStore mv = new MVStore.Builder().open();
        mv.setVersionsToKeep(RETAINED_VERSIONS);
        mvStore = mv;
        MVMap<byte[], byte[]> m = data.loadMVStore(mv, 1, null);
        map = m;
        for (int i = 0; i < 1_000; i++) {
          if (!Arrays.equals(m.get(probes[i]), data.value(indexes[i], 0))) {
            throw new IllegalStateException("MVStore reads a wrong value for probe " + i);
          }
        }
        return;
      }
      if (!impl.equals("ZVerse") && !impl.equals("ZVerse_actor")) {
        throw new IllegalArgumentException("unknown impl " + impl);
      }
      ActorSystem<Void> sys = ActorSystem.create(Behaviors.empty(), "bench");
      system = sys;
      StoreSettings defaults = StoreSettings.create(sys, "bench");
      ZVerseStore store =
          ZVerseStore.open(
              sys, "bench", impl.equals("ZVerse") ? defaults : defaults.withCallerRuns(false));
      this.store = store;
      data.loadStore(store);
      for (int i = 0; i < 1_000; i++) {
        if (!Arrays.equals(store.get(probes[i]), data.value(indexes[i], 0))) {
          throw new IllegalStateException("store reads a wrong value for probe " + i);
        }
      }
    }

    /** Prints the latencies of all measured iterations, closes the store and the actor system. */
    @TearDown(Level.Trial)
    public void tearDown() {
      print("all measured iterations", total);
      if (mvStore != null) {
        mvStore.close();
      }
      if (store != null) {
        store.close().toCompletableFuture().join();
      }
      if (system != null) {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().join();
      }
    }

    static void print(String what, Histogram h) {
      System.out.printf(
          "%nput latency, %s, us: p50 %.1f, p90 %.1f, p99 %.1f, p99.9 %.1f, max %.1f (%,d puts)%n",
          what,
          h.getValueAtPercentile(50) / 1e3,
          h.getValueAtPercentile(90) / 1e3,
          h.getValueAtPercentile(99) / 1e3,
          h.getValueAtPercentile(99.9) / 1e3,
          h.getMaxValue() / 1e3,
          h.getTotalCount());
    }
  }

  /**
   * The CPU time over each iteration of the process and of the benchmark's thread (the caller), as
   * secondary results: their difference is what every other thread spent (the WriterActor and the
   * dispatchers, the GC, the JIT compilers).
   */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Cpu {
    private static final OperatingSystemMXBean OS =
        (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private long start;
    private long callerStart;

    /** CPU time of the whole process during the iteration, in nanoseconds. */
    public long cpuNanos;

    /** CPU time of the benchmark's thread during the iteration, in nanoseconds. */
    public long callerCpuNanos;

    /** Starts the iteration's clocks and histogram (on the benchmark's thread, as JMH runs it). */
    @Setup(Level.Iteration)
    public void start(Store s) {
      s.iteration.reset();
      cpuNanos = 0;
      callerCpuNanos = 0;
      start = OS.getProcessCpuTime();
      callerStart = THREADS.getCurrentThreadCpuTime();
    }

    /** Records the iteration's CPU times and prints its latencies. */
    @TearDown(Level.Iteration)
    public void stop(Store s) {
      callerCpuNanos = THREADS.getCurrentThreadCpuTime() - callerStart;
      cpuNanos = OS.getProcessCpuTime() - start;
      // The first iteration is the warm-up one: keep it out of the total.
      if (s.iterations++ > 0) {
        s.total.add(s.iteration);
      }
      Store.print("iteration " + s.iterations, s.iteration);
    }
  }

  /** One put of the next probe, waited for (MVStore: put and commit). */
  @Benchmark
  @Threads(1)
  public long put(Store s, Cpu cpu) {
    int i = s.index++;
    long t0 = System.nanoTime();
    long version;
    ZVerseStore store = s.store;
    if (store != null) {
      version =
          store.put(s.probes[i & MASK], s.values[i & (VALUES - 1)]).toCompletableFuture().join();
    } else {
      MVStore mv = Objects.requireNonNull(s.mvStore, "mvStore");
      Objects.requireNonNull(s.map, "map").put(s.probes[i & MASK], s.values[i & (VALUES - 1)]);
      version = mv.commit();
    }
    s.iteration.recordValue(Math.min(System.nanoTime() - t0, HIGHEST_NANOS));
    return version;
  }
}
