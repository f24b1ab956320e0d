package dev.zverse.benchmarks;

import dev.zverse.engine.Change;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.QueryPath;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexOptions;
import dev.zverse.engine.ZIndexStats;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Box queries of history, {@link Snapshot#changes(KeyRange, long, long, QueryPath)}: every change
 * to a key in a range with a version in a window, along each {@link QueryPath} in one run (the
 * Z-index against the two plain walks it must beat, and the store's own choice).
 *
 * <p>Workload: {@value Dataset#DEFAULT_KEYS} random 16-byte keys with 100-byte values, written in
 * {@value #ROUNDS} rounds, each writing every key once in batches of {@value Dataset#LOAD_BATCH}
 * puts, one version per batch ({@link Dataset#loadZVerse}): 10 million changes over 10,000
 * versions, each version's 1,000 keys spread over the whole key space. The Z-index is built with a
 * direct executor ({@code ZIndexOptions.defaults().withExecutor(Runnable::run)}: default segment
 * size, sealing and merging inline at each publish), and two empty batches after the load adopt the
 * last finished jobs, so every change is sealed and merged: the steady state of a store whose
 * background build has caught up. The loader publishes once per round, so each round is sealed as
 * one segment of 1,000,000 changes and four of them merge into one: the index ends with four
 * segments, versions 1-4,000 and 4,001-8,000 (4,000,000 changes each, merged) and 8,001-9,000 and
 * 9,001-10,000 (sealed). Setup prints the index's stats and checks that nothing is left unsealed.
 * Each invocation queries the next of {@value #BOXES} boxes pre-generated from a fixed seed (so
 * every path sees the same boxes), and hands the list to a {@link Blackhole}. One thread, average
 * time per query in microseconds.
 *
 * <p>{@code box}:
 *
 * <ul>
 *   <li>{@code KEYS_1PCT_VERSIONS_1PCT}: a closed key range of 1% of the keys (10,000 consecutive
 *       stored keys from a random rank, its bounds copies of stored keys) by a random window of 1%
 *       of the versions (100 consecutive ones): about 1,000 changes.
 *   <li>{@code ONE_KEY_ALL_VERSIONS}: {@link KeyRange#singleton} of a random stored key by every
 *       version, [1, {@link Snapshot#version()}]: 10 changes. Long and thin along the versions.
 *   <li>{@code ALL_KEYS_FEW_VERSIONS}: {@link KeyRange#all()} by 10 consecutive random versions:
 *       10,000 changes. Long and thin along the keys.
 * </ul>
 *
 * <p>{@code keys}: {@code RANDOM}, the 16-byte random keys above, or {@code PREFIXED}, keys with
 * long shared textual prefixes ({@code orders/2026/11/...}, {@code sensors/eu-west/...}: see {@link
 * Dataset#create(int, boolean)}), which share their first 8 bytes in pairs.
 *
 * <p>{@code path}: {@code Z_INDEX} (BIGMIN through the sealed segments), {@code KEY_RANGE_WALK}
 * (every key of the range in the tree, filtering its versions), {@code COMMIT_WALK} (every commit
 * of the window, filtering its keys), and {@code AUTO}, the store's cost-based choice ({@link
 * Snapshot#plan}); setup prints how many of the boxes AUTO sends down each path, and checks on the
 * first {@value #CHECKED_BOXES} boxes that all four paths return equal, non-empty lists.
 *
 * <p>Each of the 24 (keys, box, path) trials runs in its own fork and loads its own store (30 to 50
 * s of setup on 2 shared cores, the inline index build included). A store shared by the trials of
 * one JVM (a static holder) would not help: JMH forks a new JVM for every parameter combination,
 * and running them all unforked ({@code -f 0}) would let one path's profile pollute the next path's
 * compiled code. Choosing the path per invocation inside one trial would mix the paths' costs in
 * one score. So keys, box and path are all {@code @Param}s, at the price of 24 loads.
 *
 * <p>Targets (issues 3 and 18): {@code Z_INDEX} at least 10x faster than the better of {@code
 * KEY_RANGE_WALK} and {@code COMMIT_WALK} for {@code KEYS_1PCT_VERSIONS_1PCT} on random keys, at
 * least 5x on prefixed keys; for the thin boxes, where a plain walk may win, the figures reported
 * as they are, and {@code AUTO} close to the best path.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ZIndexQueryBenchmark -f 1 -wi 2 -w 2s
 * -i 3 -r 2s -rf json -rff benchmarks/results/zindex-query.json} (about 22 minutes on 2 cores, most
 * of it the 24 loads; {@code -p box=... -p keys=...} runs one shape of one key set in about 4)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms8g", "-Xmx8g", "-XX:+AlwaysPreTouch"})
@Threads(1)
public class ZIndexQueryBenchmark {
  static final int ROUNDS = 10;

  /** Boxes pre-generated per trial; a power of two. */
  static final int BOXES = 1_024;

  private static final int MASK = BOXES - 1;

  /** Boxes on which setup checks that every path gives the same answer. */
  static final int CHECKED_BOXES = 8;

  /** Most unsealed changes setup accepts: the index must have caught up with the load. */
  private static final long MAX_UNSEALED = ZIndexOptions.DEFAULT_SEGMENT_ENTRIES;

  /** The shapes of box. */
  public enum Box {
    KEYS_1PCT_VERSIONS_1PCT,
    ONE_KEY_ALL_VERSIONS,
    ALL_KEYS_FEW_VERSIONS
  }

  @Param({"KEYS_1PCT_VERSIONS_1PCT", "ONE_KEY_ALL_VERSIONS", "ALL_KEYS_FEW_VERSIONS"})
  Box box;

  /** The key sets: random 16-byte keys, or keys with long shared textual prefixes. */
  public enum Keys {
    RANDOM,
    PREFIXED
  }

  @Param({"RANDOM", "PREFIXED"})
  Keys keys;

  @Param({"AUTO", "Z_INDEX", "KEY_RANGE_WALK", "COMMIT_WALK"})
  QueryPath path;

  private Snapshot snapshot;
  private KeyRange[] ranges;
  private long[] froms;
  private long[] tos;

  /** Queries run and changes they returned, for the sanity line at teardown. */
  private long queries;

  private long results;

  /** Loads the store, lets the index catch up, draws the boxes and checks the paths agree. */
  @Setup(Level.Trial)
  public void setup() {
    long start = System.nanoTime();
    Dataset data = Dataset.create(Dataset.DEFAULT_KEYS, keys == Keys.PREFIXED);
    long[] roundVersions = new long[ROUNDS];
    Snapshot s =
        data.loadZVerse(
            ROUNDS, ZIndexOptions.defaults().withExecutor(Runnable::run), roundVersions);
    // Finished jobs are adopted at the next publish.
    s = s.apply(WriteBatch.builder().build());
    s = s.apply(WriteBatch.builder().build());
    snapshot = s;
    ZIndexStats stats = s.indexStats();
    System.out.printf(
        "%n# loaded %,d keys x %d rounds to version %,d in %.1f s; index %s%n",
        data.size(), ROUNDS, s.version(), (System.nanoTime() - start) / 1e9, stats);
    if (stats.unsealedChanges() > MAX_UNSEALED || stats.building()) {
      throw new IllegalStateException("the Z-index has not caught up with the load: " + stats);
    }

    drawBoxes(data, roundVersions[ROUNDS - 1]);

    Map<QueryPath, Integer> picks = new EnumMap<>(QueryPath.class);
    for (int b = 0; b < BOXES; b++) {
      picks.merge(s.plan(ranges[b], froms[b], tos[b]), 1, Integer::sum);
    }
    System.out.println("# AUTO picks over the " + BOXES + " boxes: " + picks);
    for (int b = 0; b < CHECKED_BOXES; b++) {
      List<Change> expected = s.changes(ranges[b], froms[b], tos[b], QueryPath.COMMIT_WALK);
      for (QueryPath p : QueryPath.values()) {
        List<Change> got = s.changes(ranges[b], froms[b], tos[b], p);
        if (!got.equals(expected)) {
          throw new IllegalStateException(
              p
                  + " differs from COMMIT_WALK on box "
                  + b
                  + ": "
                  + got.size()
                  + " changes against "
                  + expected.size());
        }
      }
      if (expected.isEmpty()) {
        throw new IllegalStateException("box " + b + " is empty");
      }
    }
  }

  /** {@value #BOXES} boxes of shape {@link #box}, versions within the load's [1, lastVersion]. */
  // The seed is the shape's ordinal so that every run, and every earlier one, draws the same boxes.
  @SuppressWarnings("EnumOrdinal")
  private void drawBoxes(Dataset data, long lastVersion) {
    // One seed per shape, not per path: every path of a shape queries the same boxes.
    SplittableRandom random = new SplittableRandom(0x2_0000L + box.ordinal());
    int n = data.size();
    int keysPerBox = n / 100;
    int versionsPerBox = (int) (lastVersion / 100);
    ranges = new KeyRange[BOXES];
    froms = new long[BOXES];
    tos = new long[BOXES];
    for (int b = 0; b < BOXES; b++) {
      switch (box) {
        case KEYS_1PCT_VERSIONS_1PCT -> {
          int rank = random.nextInt(n - keysPerBox + 1);
          ranges[b] = KeyRange.closed(data.sortedKey(rank), data.sortedKey(rank + keysPerBox - 1));
          froms[b] = 1 + random.nextLong(lastVersion - versionsPerBox + 1);
          tos[b] = froms[b] + versionsPerBox - 1;
        }
        case ONE_KEY_ALL_VERSIONS -> {
          ranges[b] = KeyRange.singleton(data.key(random.nextInt(n)));
          froms[b] = 1;
          tos[b] = snapshot.version();
        }
        case ALL_KEYS_FEW_VERSIONS -> {
          ranges[b] = KeyRange.all();
          froms[b] = 1 + random.nextLong(lastVersion - 10 + 1);
          tos[b] = froms[b] + 10 - 1;
        }
        default -> throw new AssertionError(box);
      }
    }
  }

  /** Prints the changes per query, a check that the boxes were what they claim. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (queries > 0) {
      System.out.printf(
          "%n# %s %s %s: %,d queries, %.1f changes per query%n",
          keys, box, path, queries, (double) results / queries);
    }
  }

  /** Queries the next box along {@link #path}. */
  @Benchmark
  public void changes(ThreadState thread, Blackhole bh) {
    int i = thread.index++ & MASK;
    List<Change> out = snapshot.changes(ranges[i], froms[i], tos[i], path);
    queries++;
    results += out.size();
    bh.consume(out);
  }
}
