package dev.zverse.benchmarks;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexOptions;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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

/**
 * A single writer committing batches of {@value #BATCH} puts, one version per batch, ZVerse against
 * MVStore in one run.
 *
 * <p>Workload: a store of {@value Dataset#DEFAULT_KEYS} random 16-byte keys with 100-byte values,
 * built once per trial; each invocation overwrites {@value #BATCH} random existing keys (from 2^20
 * pre-generated probes, copies of the stored keys) with pre-generated 100-byte values and commits
 * them as one version. One thread; the score is in puts per second ({@code OperationsPerInvocation}
 * = {@value #BATCH}).
 *
 * <ul>
 *   <li>{@code ZVerse}: builds a {@link WriteBatch} of {@value #BATCH} puts and {@code snapshot =
 *       snapshot.apply(batch)} (one {@link dev.zverse.engine.Transient} per batch), pruning every
 *       {@value PutBenchmark#PRUNE_INTERVAL} versions to keep the last {@value
 *       PutBenchmark#RETAINED_VERSIONS}, that cost included, as in {@link PutBenchmark}. The store,
 *       loaded and written, keeps its Z-index with {@link ZIndexOptions#defaults()}, as {@link
 *       Snapshot#empty()} does: a seal every 65,536 changes, sealing and merging on the common
 *       pool, so on the other core of a 2-core machine.
 *   <li>{@code ZVerse_noindex}: the same with {@link ZIndexOptions#disabled()}, loaded and written:
 *       the write path without any index work, the baseline of the index's cost.
 *   <li>{@code ZVerse_nopack}: {@code ZVerse} with {@link ZIndexOptions#withPackedChains} off, to
 *       bound what the background packing of version chains costs the writer.
 *   <li>{@code ZVerseStore}: the same batch through the facade, {@code
 *       store.write(batch).toCompletableFuture().join()} on a memory-only {@link ZVerseStore} with
 *       the module's default settings ({@code writer.caller-runs = on}: the batch runs on the
 *       calling thread; the facade's retention, pruning and Z-index included), loaded through the
 *       facade; issue 18 asks for at least 0.8x the engine's {@code ZVerse} figure.
 *   <li>{@code MVStore}: {@value #BATCH} {@code map.put} then {@link MVStore#commit()}, in memory,
 *       keeping the last {@value PutBenchmark#RETAINED_VERSIONS} versions, for context.
 *   <li>{@code LMDB}, {@code LMDB_writemap}: {@value #BATCH} {@code dbi.put} in one write
 *       transaction, then its commit, on tmpfs with {@code MDB_NOSYNC}, the second also with {@code
 *       MDB_WRITEMAP} (see {@link LmdbStore}); setup checks a sample of the loaded values.
 * </ul>
 *
 * <p>Targets: ZVerse at least 1,000,000 puts per second; {@code ZVerse} (index on) no more than 10%
 * below {@code ZVerse_noindex} (issue 3).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PutBatchBenchmark -rf json -rff
 * benchmarks/results/put-batch.json}; the index's cost alone: {@code ... PutBatchBenchmark -p
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
public class PutBatchBenchmark {
  static final int BATCH = 100;
  private static final int PROBES = 1 << 20;
  private static final int MASK = PROBES - 1;
  private static final int VALUES = 1_024;

  @Param({
    "ZVerse",
    "ZVerse_noindex",
    "ZVerse_nopack",
    "ZVerseStore",
    "MVStore",
    "LMDB",
    "LMDB_writemap"
  })
  String impl;

  private byte[][] probes;
  private byte[][] values;

  /** The ZVerse impls' latest snapshot; the others leave it empty. */
  private Snapshot snapshot = Snapshot.empty();

  private @Nullable MVStore store;
  private @Nullable ActorSystem<Void> system;
  private @Nullable ZVerseStore facade;
  private @Nullable LmdbStore lmdb;

  /** Writes the batch starting at a probe index. */
  private IntConsumer putBatch;

  /** Builds the store under test once per trial. */
  @Setup(Level.Trial)
  public void setup() {
    Dataset data = Dataset.create(Dataset.DEFAULT_KEYS);
    int[] indexes = data.randomIndexes(PROBES, 5);
    probes = data.probes(indexes);
    values = new byte[VALUES][];
    for (int i = 0; i < VALUES; i++) {
      values[i] = data.value(i, 1);
    }
    switch (impl) {
      case "ZVerse", "ZVerse_noindex", "ZVerse_nopack" -> {
        snapshot =
            PutBenchmark.prunedFromNowOn(data.loadZVerse(1, PutBenchmark.indexOf(impl), null));
        putBatch = this::applyBatch;
      }
      case "ZVerseStore" -> {
        ActorSystem<Void> sys = ActorSystem.create(Behaviors.empty(), "bench");
        system = sys;
        ZVerseStore zverse = ZVerseStore.open(sys, "bench", StoreSettings.create(sys, "bench"));
        facade = zverse;
        data.loadStore(zverse);
        for (int i = 0; i < 1_000; i++) {
          if (!Arrays.equals(zverse.get(probes[i]), data.value(indexes[i], 0))) {
            throw new IllegalStateException("the store reads a wrong value for probe " + i);
          }
        }
        putBatch = start -> writeThroughFacade(zverse, start);
      }
      case "MVStore" -> {
        MVStore mvStore = new MVStore.Builder().open();
        store = mvStore;
        mvStore.setVersionsToKeep(PutBenchmark.RETAINED_VERSIONS);
        MVMap<byte[], byte[]> map = data.loadMVStore(mvStore, 1, null);
        putBatch = start -> putAndCommit(mvStore, map, start);
      }
      case "LMDB", "LMDB_writemap" -> {
        LmdbStore env = LmdbStore.open(impl).loadChecked(data, probes, indexes);
        lmdb = env;
        putBatch = start -> env.putBatch(probes, values, start, BATCH, MASK, VALUES - 1);
      }
      default -> throw new IllegalArgumentException("unknown impl " + impl);
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
    if (facade != null) {
      facade.close().toCompletableFuture().join();
    }
    if (system != null) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /** Commits the next {@value #BATCH} probe keys with pooled values as one version. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void putBatch(ThreadState thread) {
    int start = thread.index;
    thread.index = start + BATCH;
    putBatch.accept(start);
  }

  /** ZVerse: the puts from probe {@code start} on, as one batch. */
  private void applyBatch(int start) {
    WriteBatch.Builder batch = WriteBatch.builder();
    for (int i = start; i < start + BATCH; i++) {
      batch.put(probes[i & MASK], values[i & (VALUES - 1)]);
    }
    snapshot = PutBenchmark.applyAndPrune(snapshot, batch.build());
  }

  /** ZVerseStore: the puts from probe {@code start} on, as one write, waited for. */
  private void writeThroughFacade(ZVerseStore zverse, int start) {
    WriteBatch.Builder batch = WriteBatch.builder();
    for (int i = start; i < start + BATCH; i++) {
      batch.put(probes[i & MASK], values[i & (VALUES - 1)]);
    }
    zverse.write(batch.build()).toCompletableFuture().join();
  }

  /** MVStore: the puts from probe {@code start} on, then a commit. */
  private void putAndCommit(MVStore store, MVMap<byte[], byte[]> map, int start) {
    for (int i = start; i < start + BATCH; i++) {
      map.put(probes[i & MASK], values[i & (VALUES - 1)]);
    }
    store.commit();
  }
}
