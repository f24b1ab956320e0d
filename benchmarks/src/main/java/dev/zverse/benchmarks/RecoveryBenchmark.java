package dev.zverse.benchmarks;

import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.DurableLog;
import dev.zverse.engine.Limits;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Recovery time of a durable store's data directory (issue 7): {@link DurableLog#open}, which is
 * what {@code ZVerseStore.open} spends on a durable store before it starts its actors.
 *
 * <p>Workload: 1,000,000 random 16-byte keys ({@link Dataset}) written in 10 rounds, each key once
 * per round with a 100-byte value, in write batches of 1,000 puts (one version each), 10 versions
 * per logged group: 10,000,000 changes in 10,000 versions and 1,000 log records, nothing pruned, so
 * the recovered store holds every one of the 10 versions of each key. {@code source}:
 *
 * <ul>
 *   <li>{@code LOG_ONLY}: no checkpoint; recovery replays the whole log (about 1.2 GB).
 *   <li>{@code CHECKPOINT_AND_LOG}: a checkpoint taken after round 9 (9,000,000 changes), then the
 *       log after it (round 10: 1,000,000 changes) replayed on top.
 * </ul>
 *
 * The directories are built once, under {@code zverse.bench.dir} (default {@code
 * target/zverse-bench}), and reused by later runs (delete {@code recovery-*} there to rebuild);
 * building takes a minute or two. Z-index off ({@code ZIndexOptions.disabled()}): the time is the
 * log and checkpoint reading and the tree building. Single shot: each iteration opens (recovers)
 * and closes the directory once; score in seconds per recovery.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RecoveryBenchmark -rf json -rff
 * benchmarks/results/recovery.json}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms10g", "-Xmx10g", "-XX:+AlwaysPreTouch"})
public class RecoveryBenchmark {
  static final int KEYS = 1_000_000;
  static final int ROUNDS = 10;
  static final int VERSIONS_PER_RECORD = 10;

  /** A built data directory. */
  @State(Scope.Benchmark)
  public static class Directory {
    /** What recovery reads. */
    @Param({"LOG_ONLY", "CHECKPOINT_AND_LOG"})
    String source;

    Path dir;
    @Nullable Snapshot recovered;

    /** Builds both directories, unless a previous run did. */
    @Setup(Level.Trial)
    public void build() throws IOException {
      Path base =
          Path.of(System.getProperty("zverse.bench.dir", "target/zverse-bench")).toAbsolutePath();
      Path withCheckpoint = base.resolve("recovery-checkpoint-and-log");
      Path logOnly = base.resolve("recovery-log-only");
      if (!Files.exists(base.resolve("recovery-complete"))) {
        Files.createDirectories(base);
        generate(withCheckpoint);
        Files.createDirectories(logOnly);
        try (Stream<Path> files = Files.list(withCheckpoint)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            String name = f.getFileName().toString();
            if (name.startsWith("wal-")) {
              Files.createLink(
                  logOnly.resolve(name), f); // read-only use: recovery cuts nothing here
            }
          }
        }
        Files.createFile(base.resolve("recovery-complete"));
      }
      dir = source.equals("LOG_ONLY") ? logOnly : withCheckpoint;
    }

    private static void generate(Path dir) throws IOException {
      long start = System.nanoTime();
      Dataset data = Dataset.create(KEYS);
      try (DurableLog log =
          DurableLog.open(
              DurabilityOptions.in(dir).withSync(SyncPolicy.NEVER),
              Limits.defaults(),
              ZIndexOptions.disabled())) {
        Snapshot s = log.recovered();
        for (int round = 0; round < ROUNDS; round++) {
          Transient t = s.asTransient();
          int versions = 0;
          for (int from = 0; from < KEYS; from += Dataset.LOAD_BATCH) {
            WriteBatch.Builder b = WriteBatch.builder();
            for (int i = from; i < from + Dataset.LOAD_BATCH; i++) {
              b.put(data.key(i), data.value(i, round));
            }
            t.apply(b.build());
            if (++versions == VERSIONS_PER_RECORD) {
              Snapshot next = t.persistent();
              log.append(s, next);
              s = next;
              t = s.asTransient();
              versions = 0;
            }
          }
          Snapshot next = t.persistent();
          log.append(s, next);
          s = next;
          if (round == ROUNDS - 2) {
            log.checkpoint(s);
          }
        }
        log.sync();
        System.out.printf(
            "%nbuilt %s: %,d versions in %.1f s%n",
            dir, s.version(), (System.nanoTime() - start) / 1e9);
      }
    }

    /** Drops the recovered state before the next iteration. */
    @TearDown(Level.Iteration)
    public void drop() {
      if (recovered == null || recovered.version() != (long) ROUNDS * KEYS / Dataset.LOAD_BATCH) {
        throw new IllegalStateException(
            "recovered " + (recovered == null ? "nothing" : recovered.version()));
      }
      recovered = null;
    }
  }

  /** Opens (recovers) the directory and closes it again. */
  @Benchmark
  public long recover(Directory d) throws IOException {
    try (DurableLog log =
        DurableLog.open(DurabilityOptions.in(d.dir), Limits.defaults(), ZIndexOptions.disabled())) {
      d.recovered = log.recovered();
      return d.recovered.version();
    }
  }
}
