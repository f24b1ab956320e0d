package dev.zverse.benchmarks;

import dev.zverse.engine.Snapshot;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
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
 * Point read of the latest value, ZVerse against its peers in one run.
 *
 * <p>Workload: a store of {@value Dataset#DEFAULT_KEYS} random 16-byte keys with 100-byte values
 * (one version each, fixed seed), built once per trial; each operation reads one random existing
 * key, taken from a pre-generated array of 2^20 probes by stepping an index. Probes are copies of
 * the stored keys. One thread, throughput in operations per second.
 *
 * <ul>
 *   <li>{@code ZVerse}: {@link Snapshot#get(byte[])}, which returns a copy of the value.
 *   <li>{@code ConcurrentSkipListMap}: {@code map.get(key)} with {@link Arrays#compareUnsigned}.
 *   <li>{@code ConcurrentHashMap}: {@code map.get(new ByteKey(key))}; wrapping (and hashing) the
 *       key is part of the operation, as it is for a caller holding a {@code byte[]}.
 *   <li>{@code MVStore}: {@code map.get(key)} on an in-memory {@link MVMap} (no file).
 *   <li>{@code LMDB}: lmdbjava's {@code dbi.get} in one read transaction held for the trial, the
 *       value copied out of the memory map into a {@code byte[]} (see {@link LmdbStore}).
 * </ul>
 *
 * <p>Peers hand out their stored array; ZVerse's copy is included in its figure. Target: ZVerse at
 * least 4x ConcurrentSkipListMap and MVStore, and at least 0.5x ConcurrentHashMap.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar GetBenchmark -rf json -rff
 * benchmarks/results/get.json}
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
public class GetBenchmark {
  private static final int PROBES = 1 << 20;
  private static final int MASK = PROBES - 1;

  @Param({"ZVerse", "ConcurrentSkipListMap", "ConcurrentHashMap", "MVStore", "LMDB"})
  String impl;

  private byte[][] probes;
  private Function<byte[], byte[]> get;
  private @Nullable MVStore store;
  private @Nullable LmdbStore lmdb;

  /**
   * Builds the store under test once per trial and checks a sample of reads against the dataset.
   */
  @Setup(Level.Trial)
  public void setup() {
    Dataset data = Dataset.create(Dataset.DEFAULT_KEYS);
    int[] indexes = data.randomIndexes(PROBES, 1);
    probes = data.probes(indexes);
    switch (impl) {
      case "ZVerse" -> get = data.loadZVerse(1, null)::get;
      case "ConcurrentSkipListMap" -> get = data.loadSkipList()::get;
      case "ConcurrentHashMap" -> {
        ConcurrentHashMap<ByteKey, byte[]> hashMap = data.loadHashMap();
        get = key -> hashMap.get(new ByteKey(key));
      }
      case "MVStore" -> {
        MVStore mvStore = new MVStore.Builder().open();
        store = mvStore;
        get = data.loadMVStore(mvStore, 1, null)::get;
      }
      case "LMDB" -> {
        LmdbStore env = LmdbStore.open(impl).load(data, 0).beginReads();
        lmdb = env;
        get = env::get;
      }
      default -> throw new IllegalArgumentException("unknown impl " + impl);
    }
    for (int i = 0; i < 1_000; i++) {
      if (!Arrays.equals(get.apply(probes[i]), data.value(indexes[i], 0))) {
        throw new IllegalStateException(impl + " reads a wrong value for probe " + i);
      }
    }
  }

  /** Closes the MVStore or LMDB, if one was built. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (store != null) {
      store.close();
    }
    if (lmdb != null) {
      lmdb.close();
    }
  }

  /** Reads the latest value of the next probe key. */
  @Benchmark
  public byte[] get(ThreadState thread) {
    return get.apply(probes[thread.index++ & MASK]);
  }
}
