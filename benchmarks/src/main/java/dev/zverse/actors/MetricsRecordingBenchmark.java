package dev.zverse.actors;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What recording the store's metrics costs the write path, alone: the exact work the WriterActor
 * and the write gate do for the metrics of one published group, in nanoseconds per group. The
 * end-to-end comparison ({@code StoreBenchmark -p metrics=on,off}) is dominated by noise two orders
 * of magnitude above the 2% bound on a loaded 2-core machine, so the bound is checked as a ratio:
 * this figure against the cost of the same commit, measured in the same run by {@code
 * PutBenchmark.put} (the engine's 1-put commit) and {@code StoreBenchmark.put1} (the facade's put,
 * its actor hop included).
 *
 * <p>Workload, one thread, one recorder per trial (as one store has one):
 *
 * <ul>
 *   <li>{@code group1}: a group of one write, the worst case (group commit spreads the same work
 *       over every write of a larger group): the group's opening time ({@code Group.openedNanos}),
 *       the publish's {@code WriteRecorder.published(1, nanos)} (the writes counter, the group-size
 *       and commit-latency histograms) and the gate's answered count ({@code WriteGate.answered}).
 *       The two {@link System#nanoTime()} calls exist for the commit latency only, so they count.
 *   <li>{@code group64}: the same for a group of 64 writes, {@code StoreBenchmark.put1}'s window:
 *       per group, so divide by 64 for the cost per write.
 * </ul>
 *
 * <p>In this package, as the {@code jcstress} module's tests are, because the recorder is the
 * store's package-private state.
 *
 * <p>Run, pinned, all three in one run and in one unit: {@code taskset -c 1 java -jar
 * benchmarks/target/benchmarks.jar
 * 'MetricsRecordingBenchmark|PutBenchmark.put$|StoreBenchmark.put1$' -p impl=ZVerse -p metrics=on
 * -bm avgt -tu ns}; the share is {@code group1 / put} (engine) and {@code group1 / put1} (facade).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class MetricsRecordingBenchmark {
  private final StoreMetrics.WriteRecorder recorder = new StoreMetrics.WriteRecorder();

  /** The metrics work of a published group of one write. */
  @Benchmark
  public void group1() {
    long openedNanos = System.nanoTime();
    recorder.published(1, System.nanoTime() - openedNanos);
    recorder.answered.add(1);
  }

  /** The metrics work of a published group of 64 writes. */
  @Benchmark
  public void group64() {
    long openedNanos = System.nanoTime();
    recorder.published(64, System.nanoTime() - openedNanos);
    recorder.answered.add(64);
  }
}
