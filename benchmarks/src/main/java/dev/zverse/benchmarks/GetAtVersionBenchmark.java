package dev.zverse.benchmarks;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.ZIndexOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * Point read at a random retained older version, ZVerse against MVStore and a versioned LMDB layout
 * in one run (the unversioned peers have nothing to compare).
 *
 * <p>Workload: {@value Dataset#DEFAULT_KEYS} random 16-byte keys, written in {@value #ROUNDS}
 * rounds, each writing every key once with a new 100-byte value, so every key has {@value #ROUNDS}
 * versions; built once per trial. Each operation reads one random key (from 2^20 pre-generated
 * probes, copies of the stored keys) as of one random round among the {@value #ROUNDS} - 1 older
 * than the latest. One thread, throughput in operations per second.
 *
 * <ul>
 *   <li>{@code ZVerse}: one {@link dev.zverse.engine.Transient} per round applying batches of
 *       {@value Dataset#LOAD_BATCH} puts; the read is {@link Snapshot#get(byte[], long)} at the
 *       round's last version, on the one latest snapshot. Version chains are packed (and the
 *       Z-index sealed) on the loading thread, so no background job runs while reads are measured.
 *   <li>{@code ZVerse_nopack}: the same with {@link ZIndexOptions#withPackedChains} off: each read
 *       walks the key's linked chain.
 *   <li>{@code MVStore}: an in-memory {@link MVMap}, {@link MVStore#commit()} after each round,
 *       every version kept ({@code setVersionsToKeep}); each round's read-only map is opened once
 *       in setup with {@link MVMap#openVersion(long)}, and the read is its {@code get(key)}.
 *   <li>{@code MVStore_openVersion}: the same store, but {@code map.openVersion(v).get(key)} per
 *       read, as a caller without a cache of opened versions does it.
 *   <li>{@code LMDB}: lmdbjava on tmpfs ({@link LmdbStore#loadVersioned}), each key stored once per
 *       round under the key followed by the round's complement; the read is one cursor seek to the
 *       newest version at or below the round, in one read transaction held for the trial, the value
 *       copied out.
 * </ul>
 *
 * <p>Target: ZVerse at least 5x MVStore reading the same old version.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar GetAtVersionBenchmark -rf json -rff
 * benchmarks/results/get-at-version.json}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "-Xms8g",
      "-Xmx8g",
      "-XX:+AlwaysPreTouch",
      // lmdbjava reads a direct buffer's address field.
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
    })
@Threads(1)
public class GetAtVersionBenchmark {
  static final int ROUNDS = 10;
  private static final int PROBES = 1 << 20;
  private static final int MASK = PROBES - 1;

  /** A read of {@code key} as of the end of round {@code round}. */
  @FunctionalInterface
  interface VersionedGet {
    byte @Nullable [] get(byte[] key, int round);
  }

  @Param({"ZVerse", "ZVerse_nopack", "MVStore", "MVStore_openVersion", "LMDB"})
  String impl;

  private byte[][] probes;
  private int[] rounds;
  private VersionedGet get;
  private @Nullable MVStore store;
  private @Nullable LmdbStore lmdb;

  /** Builds the versioned store once per trial and checks a sample of reads in every round. */
  @Setup(Level.Trial)
  public void setup() {
    Dataset data = Dataset.create(Dataset.DEFAULT_KEYS);
    int[] indexes = data.randomIndexes(PROBES, 2);
    probes = data.probes(indexes);
    rounds = Dataset.randomInts(PROBES, ROUNDS - 1, 3);
    long[] versions = new long[ROUNDS];
    switch (impl) {
      case "ZVerse", "ZVerse_nopack" -> {
        // Packing (and sealing) inline while loading, so that no background job runs while the
        // reads are measured.
        ZIndexOptions options =
            ZIndexOptions.defaults()
                .withExecutor(Runnable::run)
                .withPackedChains(impl.equals("ZVerse"));
        Snapshot snapshot = data.loadZVerse(ROUNDS, Dataset.LOAD_BATCH, options, versions);
        get = (key, round) -> snapshot.get(key, versions[round]);
      }
      case "LMDB" -> {
        LmdbStore env = LmdbStore.open(impl).loadVersioned(data, ROUNDS).beginReads();
        lmdb = env;
        get = env::getAt;
      }
      case "MVStore", "MVStore_openVersion" -> {
        MVStore mvStore = new MVStore.Builder().open();
        store = mvStore;
        mvStore.setVersionsToKeep(Integer.MAX_VALUE);
        MVMap<byte[], byte[]> map = data.loadMVStore(mvStore, ROUNDS, versions);
        if (impl.equals("MVStore")) {
          List<MVMap<byte[], byte[]>> opened = new ArrayList<>();
          for (int r = 0; r < ROUNDS; r++) {
            opened.add(map.openVersion(versions[r]));
          }
          get = (key, round) -> opened.get(round).get(key);
        } else {
          get = (key, round) -> map.openVersion(versions[round]).get(key);
        }
      }
      default -> throw new IllegalArgumentException("unknown impl " + impl);
    }
    for (int i = 0; i < 1_000; i++) {
      for (int r = 0; r < ROUNDS; r++) {
        if (!Arrays.equals(get.get(probes[i], r), data.value(indexes[i], r))) {
          throw new IllegalStateException(
              impl + " reads a wrong value for probe " + i + " in round " + r);
        }
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

  /** Reads the next probe key as of its pre-drawn older round. */
  @Benchmark
  public byte @Nullable [] getAtVersion(ThreadState thread) {
    int i = thread.index++ & MASK;
    return get.get(probes[i], rounds[i]);
  }
}
