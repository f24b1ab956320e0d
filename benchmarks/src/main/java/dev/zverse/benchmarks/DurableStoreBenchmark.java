package dev.zverse.benchmarks;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.SyncPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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
 * Puts through a durable {@link ZVerseStore} from 64 threads, against the memory-only store in the
 * same run (issue 7).
 *
 * <p>Workload: one store per trial in its own actor system, the module's default settings (group
 * commit up to 1,000 writes, retention of 1,000 versions, checkpoints every 5 minutes or 1,000,000
 * versions) except {@code writer.max-pending-writes} raised to 100,000. {@code store=durable} keeps
 * its data directory in a fresh directory under {@code zverse.bench.dir} (default {@code
 * target/zverse-bench}, relative to the working directory: run from the repository root and it is
 * on the disk of the checkout), deleted at the end of the trial; {@code sync} is the policy, {@code
 * EVERY_COMMIT} (an fsync per group commit, before any writer of the group is answered) unless
 * {@code -p sync=...} says otherwise; {@code groupCommitWaitMicros} is its group-commit wait
 * (default 300 µs). {@code store=memory} is the memory-only store. Both are loaded with 100,000
 * random 16-byte keys with 100-byte values ({@link Dataset}, in batches of 1,000).
 *
 * <p>{@code put64}: 64 threads, each with exactly <b>one write in flight</b>: a put of a random
 * existing key, then waiting for its stage ({@code join}). Score: committed writes per second.
 * Every write that the score counts was acknowledged, so under {@code EVERY_COMMIT} was on the
 * disk. On a 2-core machine the 64 threads far outnumber the cores; what limits the durable figure
 * is how many writes share one fsync (at most 64 here) and how long an fsync takes on the disk.
 * Target: at least 100,000 durable writes/s.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar DurableStoreBenchmark -f 1 -wi 2 -w 3s
 * -i 5 -r 3s -rf json -rff benchmarks/results/durable-put.json}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
public class DurableStoreBenchmark {
  private static final int KEYS = 100_000;
  private static final int PROBES = 1 << 20;
  private static final int MASK = PROBES - 1;
  private static final int VALUES = 1 << 10;

  /** The store under test. */
  @State(Scope.Benchmark)
  public static class Store {
    /** memory: memory-only; durable: with a data directory. */
    @Param({"memory", "durable"})
    String store;

    /** The sync policy of the durable store. */
    @Param({"EVERY_COMMIT"})
    SyncPolicy sync;

    /**
     * The durable store's {@code durability.group-commit-wait}, in microseconds: the default, 300,
     * unless {@code -p groupCommitWaitMicros=...} says otherwise (0 turns the wait off).
     */
    @Param({"300"})
    long groupCommitWaitMicros;

    ActorSystem<Void> system;
    ZVerseStore zverse;
    @Nullable Path dir;
    byte[][] probes;
    byte[][] values;

    /** Opens and loads the store. */
    @Setup(Level.Trial)
    public void setup() throws IOException {
      Dataset data = Dataset.create(KEYS);
      probes = data.probes(data.randomIndexes(PROBES, 2));
      values = new byte[VALUES][];
      for (int i = 0; i < VALUES; i++) {
        values[i] = data.value(i, 1);
      }
      system = ActorSystem.create(Behaviors.empty(), "bench");
      StoreSettings settings = StoreSettings.create(system, "bench").withMaxPendingWrites(100_000);
      switch (store) {
        case "memory" -> {
          // no directory: the store keeps everything in memory
        }
        case "durable" -> {
          Path base = Path.of(System.getProperty("zverse.bench.dir", "target/zverse-bench"));
          Files.createDirectories(base);
          Path directory = Files.createTempDirectory(base.toAbsolutePath(), "durable-put-");
          dir = directory;
          settings =
              settings
                  .withDataDirectory(directory)
                  .withDurability(
                      d ->
                          d.withSync(sync)
                              .withGroupCommitWait(Duration.ofNanos(groupCommitWaitMicros * 1000)));
          System.out.println("\ndata directory: " + directory);
        }
        default -> throw new IllegalArgumentException("unknown store " + store);
      }
      zverse = ZVerseStore.open(system, "bench", settings);
      data.loadStore(zverse);
    }

    /**
     * Closes the store (a final checkpoint if durable), stops the actor system, deletes the
     * directory.
     */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      zverse.close().toCompletableFuture().join();
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
      Path directory = dir;
      if (directory != null) {
        try (Stream<Path> files = Files.walk(directory)) {
          files.sorted(Comparator.reverseOrder()).forEach(DurableStoreBenchmark::delete);
        }
      }
    }
  }

  /** Each thread's own place in the probes. */
  @State(Scope.Thread)
  public static class Cursor {
    private static final AtomicInteger THREADS = new AtomicInteger();
    int index = THREADS.getAndIncrement() * (PROBES / 64);
  }

  private static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One put of a random existing key, waited for: 64 threads, one write in flight each. */
  @Benchmark
  @Threads(64)
  public long put64(Store s, Cursor c) {
    int i = c.index++;
    return s.zverse
        .put(s.probes[i & MASK], s.values[i & (VALUES - 1)])
        .toCompletableFuture()
        .join();
  }
}
