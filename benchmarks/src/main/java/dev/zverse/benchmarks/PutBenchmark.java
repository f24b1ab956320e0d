package dev.zverse.benchmarks;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexOptions;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
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
 * A single writer overwriting one key at a time, ZVerse against its peers in one run.
 *
 * <p>Workload: a store of {@value Dataset#DEFAULT_KEYS} random 16-byte keys with 100-byte values,
 * built once per trial; each operation overwrites one random existing key (from 2^20 pre-generated
 * probes, copies of the stored keys) with one of 1,024 pre-generated 100-byte values. One thread,
 * throughput in puts per second.
 *
 * <ul>
 *   <li>{@code ZVerse}: {@code snapshot = snapshot.apply(WriteBatch.ofPut(key, value))}, a new
 *       version per put. History would grow without bound over a long run, so every {@value
 *       #PRUNE_INTERVAL} versions the benchmark prunes to keep the last {@value #RETAINED_VERSIONS}
 *       versions, as the store's retention would, and that cost is part of the figure (amortized
 *       over the puts in between). The store, loaded and written, keeps its Z-index with {@link
 *       ZIndexOptions#defaults()}, as {@link Snapshot#empty()} does: a seal every 65,536 changes,
 *       sealing and merging on the common pool, so on the other core of a 2-core machine.
 *   <li>{@code ZVerse_noindex}: the same with {@link ZIndexOptions#disabled()}, loaded and written:
 *       the write path without any index work, the baseline of the index's cost.
 *   <li>{@code ZVerse_nopack}: {@code ZVerse} with {@link ZIndexOptions#withPackedChains} off, to
 *       bound what the background packing of version chains costs the writer.
 *   <li>{@code MVStore}: {@code map.put(key, value)} on an in-memory {@link MVMap}, never
 *       committed: every put goes into the one open version, which is less work than a version per
 *       put.
 *   <li>{@code LMDB}, {@code LMDB_writemap}: lmdbjava, a write transaction per put ({@code dbi.put}
 *       then commit), on tmpfs with {@code MDB_NOSYNC}, the second also with {@code MDB_WRITEMAP}
 *       (see {@link LmdbStore}); setup checks a sample of the loaded values.
 *   <li>{@code ConcurrentSkipListMap}, {@code ConcurrentHashMap} (key wrapped in {@link ByteKey}):
 *       {@code map.put}, for context; neither keeps history.
 * </ul>
 *
 * <p>ZVerse copies the key and value into its batch; the peers keep the caller's arrays. Targets:
 * ZVerse at least 2x MVStore; {@code ZVerse} (index on) no more than 10% below {@code
 * ZVerse_noindex} (issue 3).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PutBenchmark -rf json -rff
 * benchmarks/results/put.json}; the index's cost alone: {@code ... PutBenchmark -p
 * impl=ZVerse,ZVerse_noindex}
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
public class PutBenchmark {
  /** Versions between two prunes; a power of two. */
  static final int PRUNE_INTERVAL = 1_024;

  /** Versions a prune keeps readable. */
  static final int RETAINED_VERSIONS = 1_000;

  private static final int PROBES = 1 << 20;
  private static final int MASK = PROBES - 1;
  private static final int VALUES = 1_024;

  @Param({
    "ZVerse",
    "ZVerse_noindex",
    "ZVerse_nopack",
    "ConcurrentSkipListMap",
    "ConcurrentHashMap",
    "MVStore",
    "LMDB",
    "LMDB_writemap"
  })
  String impl;

  private byte[][] probes;
  private byte[][] values;
  private BiConsumer<byte[], byte[]> put;

  /** The ZVerse impls' latest snapshot; the others leave it empty. */
  private Snapshot snapshot = Snapshot.empty();

  private @Nullable MVStore store;
  private @Nullable LmdbStore lmdb;

  /** Builds the store under test once per trial. */
  @Setup(Level.Trial)
  public void setup() {
    Dataset data = Dataset.create(Dataset.DEFAULT_KEYS);
    int[] indexes = data.randomIndexes(PROBES, 4);
    probes = data.probes(indexes);
    values = new byte[VALUES][];
    for (int i = 0; i < VALUES; i++) {
      values[i] = data.value(i, 1);
    }
    switch (impl) {
      case "ZVerse", "ZVerse_noindex", "ZVerse_nopack" -> {
        snapshot = prunedFromNowOn(data.loadZVerse(1, indexOf(impl), null));
        put = this::applyPut;
      }
      case "ConcurrentSkipListMap" -> {
        ConcurrentSkipListMap<byte[], byte[]> skipList = data.loadSkipList();
        put = skipList::put;
      }
      case "ConcurrentHashMap" -> {
        ConcurrentHashMap<ByteKey, byte[]> hashMap = data.loadHashMap();
        put = (key, value) -> hashMap.put(new ByteKey(key), value);
      }
      case "MVStore" -> {
        MVStore mvStore = new MVStore.Builder().open();
        store = mvStore;
        put = data.loadMVStore(mvStore, 1, null)::put;
      }
      case "LMDB", "LMDB_writemap" -> {
        LmdbStore env = LmdbStore.open(impl).loadChecked(data, probes, indexes);
        lmdb = env;
        put = env::put;
      }
      default -> throw new IllegalArgumentException("unknown impl " + impl);
    }
  }

  /**
   * The Z-index options of a ZVerse {@code impl}: off for {@code ZVerse_noindex}, else defaults;
   * chains unpacked for {@code ZVerse_nopack}.
   */
  static ZIndexOptions indexOf(String impl) {
    ZIndexOptions options =
        impl.endsWith("_noindex") ? ZIndexOptions.disabled() : ZIndexOptions.defaults();
    return options.withPackedChains(!impl.endsWith("_nopack"));
  }

  /**
   * {@code loaded} with its watermark at its version, ready for the periodic prunes. A prune visits
   * the keys of every commit from the current watermark on, so the first one would otherwise walk
   * the whole load, once: a one-off of the setup, not of the workload. One small commit on top
   * keeps the next prune from revisiting the load's last batch.
   */
  static Snapshot prunedFromNowOn(Snapshot loaded) {
    Snapshot s = loaded.prune(loaded.version());
    s = s.apply(WriteBatch.ofPut(new byte[Dataset.KEY_BYTES], new byte[Dataset.VALUE_BYTES]));
    return s.prune(s.version());
  }

  /**
   * Applies {@code batch} and, every {@value #PRUNE_INTERVAL} versions, prunes to the last {@value
   * #RETAINED_VERSIONS}.
   */
  static Snapshot applyAndPrune(Snapshot snapshot, WriteBatch batch) {
    Snapshot s = snapshot.apply(batch);
    long v = s.version();
    return (v & (PRUNE_INTERVAL - 1)) == 0 ? s.prune(v - RETAINED_VERSIONS) : s;
  }

  private void applyPut(byte[] key, byte[] value) {
    snapshot = applyAndPrune(snapshot, WriteBatch.ofPut(key, value));
  }

  /** Checks that ZVerse's history stayed bounded, and closes the MVStore, if one was built. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (impl.startsWith("ZVerse")) {
      // A sanity check of the end state: history stayed bounded by the pruning.
      long retained = snapshot.version() - snapshot.watermark();
      if (retained > RETAINED_VERSIONS + PRUNE_INTERVAL) {
        throw new IllegalStateException("ZVerse retains " + retained + " versions");
      }
    }
    if (store != null) {
      store.close();
    }
    if (lmdb != null) {
      lmdb.close();
    }
  }

  /** Overwrites the next probe key with the next pooled value. */
  @Benchmark
  public void put(ThreadState thread) {
    int i = thread.index++;
    put.accept(probes[i & MASK], values[i & (VALUES - 1)]);
  }
}
