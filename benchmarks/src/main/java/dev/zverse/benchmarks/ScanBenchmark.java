package dev.zverse.benchmarks;

import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import java.util.Iterator;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Range scan of {@value #LENGTH} consecutive keys from a random start, ZVerse against the ordered
 * peers in one run.
 *
 * <p>Workload: a store of {@value Dataset#DEFAULT_KEYS} random 16-byte keys with 100-byte values
 * (one version each), built once per trial; each invocation visits the closed range from a random
 * existing key to the key {@value #LENGTH} - 1 places after it (from 2^16 pre-generated ranges,
 * bounds copied from the stored keys), so it yields exactly {@value #LENGTH} entries, and hands
 * each entry's value to a {@link Blackhole}. One thread; the score is in entries per second ({@code
 * OperationsPerInvocation} = {@value #LENGTH}).
 *
 * <ul>
 *   <li>{@code ZVerse_value}: {@link Snapshot#iterator(KeyRange, long, Direction)} at the latest
 *       version, consuming {@link Entry#value()}, a copy.
 *   <li>{@code ZVerse_valueBuffer}: the same, consuming {@link Entry#valueBuffer()}, a read-only
 *       view without copying.
 *   <li>{@code ConcurrentSkipListMap}: {@code subMap(from, true, to, true).values()}, for context.
 *   <li>{@code MVStore}: {@code map.cursor(from, to, false)} ({@code to} inclusive) and {@code
 *       getValue()}, for context.
 *   <li>{@code LMDB}: lmdbjava's cursor in one read transaction held for the trial, {@code
 *       MDB_SET_RANGE} to {@code from}, then {@code next} while the key is at most {@code to}
 *       (compared unsigned), consuming each value in place: a buffer over the memory map.
 * </ul>
 *
 * <p>Target: ZVerse at least 20 million entries per second.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ScanBenchmark -rf json -rff
 * benchmarks/results/scan.json}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "-Xms4g",
      "-Xmx4g",
      "-XX:+AlwaysPreTouch",
      // lmdbjava reads a direct buffer's address field.
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
    })
@Threads(1)
public class ScanBenchmark {
  static final int LENGTH = 1_000;
  private static final int RANGES = 1 << 16;
  private static final int MASK = RANGES - 1;

  /** Visits the keys in [from, to], consuming each value; returns how many it visited. */
  @FunctionalInterface
  interface RangeScan {
    int scan(byte[] from, byte[] to, Blackhole bh);
  }

  @Param({"ZVerse_value", "ZVerse_valueBuffer", "ConcurrentSkipListMap", "MVStore", "LMDB"})
  String impl;

  private byte[][] froms;
  private byte[][] tos;
  private RangeScan scan;
  private @Nullable MVStore store;
  private @Nullable LmdbStore lmdb;

  /**
   * Builds the store under test once per trial and checks that sample ranges hold {@value #LENGTH}
   * entries.
   */
  @Setup(Level.Trial)
  public void setup(Blackhole bh) {
    Dataset data = Dataset.create(Dataset.DEFAULT_KEYS);
    int[] starts = Dataset.randomInts(RANGES, data.size() - LENGTH + 1, 6);
    froms = new byte[RANGES][];
    tos = new byte[RANGES][];
    for (int i = 0; i < RANGES; i++) {
      froms[i] = data.sortedKey(starts[i]).clone();
      tos[i] = data.sortedKey(starts[i] + LENGTH - 1).clone();
    }
    switch (impl) {
      case "ZVerse_value" -> {
        Snapshot copying = data.loadZVerse(1, null);
        scan = (from, to, b) -> scanValues(copying, from, to, b);
      }
      case "ZVerse_valueBuffer" -> {
        Snapshot viewing = data.loadZVerse(1, null);
        scan = (from, to, b) -> scanValueBuffers(viewing, from, to, b);
      }
      case "ConcurrentSkipListMap" -> {
        ConcurrentSkipListMap<byte[], byte[]> skipList = data.loadSkipList();
        scan = (from, to, b) -> scanSkipList(skipList, from, to, b);
      }
      case "MVStore" -> {
        MVStore mvStore = new MVStore.Builder().open();
        store = mvStore;
        MVMap<byte[], byte[]> map = data.loadMVStore(mvStore, 1, null);
        scan = (from, to, b) -> scanMVMap(map, from, to, b);
      }
      case "LMDB" -> {
        LmdbStore env = LmdbStore.open(impl).load(data, 0).beginReads();
        lmdb = env;
        scan = env::scan;
      }
      default -> throw new IllegalArgumentException("unknown impl " + impl);
    }
    for (int i = 0; i < 100; i++) {
      int n = scan.scan(froms[i], tos[i], bh);
      if (n != LENGTH) {
        throw new IllegalStateException(impl + " scans " + n + " entries for range " + i);
      }
    }
  }

  /** Closes the MVStore, if one was built. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (store != null) {
      store.close();
    }
    if (lmdb != null) {
      lmdb.close();
    }
  }

  /** Scans the next pre-drawn range, consuming every value. */
  @Benchmark
  @OperationsPerInvocation(LENGTH)
  public int scan(ThreadState thread, Blackhole bh) {
    int i = thread.index++ & MASK;
    return scan.scan(froms[i], tos[i], bh);
  }

  private static int scanValues(Snapshot snapshot, byte[] from, byte[] to, Blackhole bh) {
    Iterator<Entry> it =
        snapshot.iterator(KeyRange.closed(from, to), snapshot.version(), Direction.FORWARD);
    int n = 0;
    while (it.hasNext()) {
      bh.consume(it.next().value());
      n++;
    }
    return n;
  }

  private static int scanValueBuffers(Snapshot snapshot, byte[] from, byte[] to, Blackhole bh) {
    Iterator<Entry> it =
        snapshot.iterator(KeyRange.closed(from, to), snapshot.version(), Direction.FORWARD);
    int n = 0;
    while (it.hasNext()) {
      bh.consume(it.next().valueBuffer());
      n++;
    }
    return n;
  }

  private static int scanSkipList(
      ConcurrentSkipListMap<byte[], byte[]> map, byte[] from, byte[] to, Blackhole bh) {
    int n = 0;
    for (byte[] value : map.subMap(from, true, to, true).values()) {
      bh.consume(value);
      n++;
    }
    return n;
  }

  private static int scanMVMap(MVMap<byte[], byte[]> map, byte[] from, byte[] to, Blackhole bh) {
    Cursor<byte[], byte[]> cursor = map.cursor(from, to, false);
    int n = 0;
    while (cursor.hasNext()) {
      cursor.next();
      bh.consume(cursor.getValue());
      n++;
    }
    return n;
  }
}
