package dev.zverse.benchmarks;

import dev.zverse.actors.ReadTransaction;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * How long a read through the store facade takes while the WriterActor commits flat out, as a
 * latency distribution: the figure behind "readers never wait", which the actors module's tests
 * check as a property (reads complete while the writer is stuck inside a write) and not as a speed.
 *
 * <p>Workload: {@link StoreBenchmark}'s store (its {@link StoreBenchmark.Store} state: 1,000,000
 * random 16-byte keys, 100-byte values, default settings) and its {@link StoreBenchmark.Writer}
 * state: {@code writer=none}, or {@code writer=flatOut}, a background thread putting random
 * existing keys as fast as the store takes them (64 in flight). Two reader threads (the machine
 * this was written for has 2 cores, which the writer thread and the WriterActor share with them).
 *
 * <ul>
 *   <li>{@code get}: {@code store.get(key)} of the next probe.
 *   <li>{@code readTransaction}: opens a read transaction (pinning its version), reads the next
 *       probe through it and closes it: the reader's whole protocol with the EpochActor.
 * </ul>
 *
 * <p>Mode {@link Mode#SampleTime}: JMH samples single operations and reports their distribution
 * (p0.50 to p0.9999 and the maximum) in microseconds; compare {@code flatOut} with {@code none} per
 * percentile. A slow tail under {@code flatOut} on a loaded 2-core machine is scheduling, not
 * waiting: no read path takes a lock or sends a message.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ReadLatencyBenchmark -rf json -rff
 * benchmarks/results/read-latency.json}; quick: add {@code -f 1 -wi 1 -w 2s -i 3 -r 2s}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
public class ReadLatencyBenchmark {

  /**
   * {@code store.get(key)} of the next probe, with or without the background writer.
   *
   * @param s the loaded store
   * @param writer whether a background writer runs (its state starts and stops it)
   * @param t this thread's probe index
   * @return the value read, a copy
   */
  @Benchmark
  @Threads(2)
  public byte @Nullable [] get(
      StoreBenchmark.Store s, StoreBenchmark.Writer writer, ThreadState t) {
    return s.store.get(s.readProbes[t.index++ & (s.readProbes.length - 1)]);
  }

  /**
   * Opens a read transaction, reads the next probe through it and closes it, with or without the
   * background writer.
   *
   * @param s the loaded store
   * @param writer whether a background writer runs (its state starts and stops it)
   * @param t this thread's probe index
   * @return the value read, a copy
   */
  @Benchmark
  @Threads(2)
  public byte @Nullable [] readTransaction(
      StoreBenchmark.Store s, StoreBenchmark.Writer writer, ThreadState t) {
    try (ReadTransaction tx = s.store.readTransaction("ReadLatencyBenchmark")) {
      return tx.snapshot().get(s.readProbes[t.index++ & (s.readProbes.length - 1)]);
    }
  }
}
