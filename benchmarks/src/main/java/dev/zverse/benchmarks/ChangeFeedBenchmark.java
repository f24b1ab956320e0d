package dev.zverse.benchmarks;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.streams.ChangeFeed;
import dev.zverse.streams.ChangeFeedOptions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Change-feed replay throughput: a feed over {@value #CHANGES} retained changes, run to the end and
 * counted, in changes delivered per second.
 *
 * <p>Workload: one {@link ZVerseStore} in its own actor system, default settings except {@code
 * retention.versions} above the number of commits (nothing is pruned), loaded through {@code
 * store.write} with {@value #CHANGES} puts of 100-byte values to random keys out of {@value #KEYS}
 * 16-byte keys ({@link Dataset}, fixed seed; every key once per 100,000 puts, in a fixed random
 * order), {@code changesPerCommit} puts per batch (so 1,000,000 commits of one change, or 10,000 of
 * 100). Each invocation replays every change from version 0:
 *
 * <ul>
 *   <li>{@code feedCommits}: {@code ChangeFeed.commits(store, after(0).withMaxLag(2_000_000))}, one
 *       element per commit, folded into a count of changes ({@code Sink.fold});
 *   <li>{@code feedChanges}: {@code ChangeFeed.changes(store, after(0))}, one element per change,
 *       into {@code Sink.ignore()};
 *   <li>{@code engineCommits}: the baseline without Pekko Streams, the engine's own {@code
 *       Snapshot.commits(0, version, all, false)} iterated on the benchmark thread.
 * </ul>
 *
 * The stream runs on the actor system's default dispatcher (a fork-join pool sized to the cores);
 * the benchmark thread only waits. Target: at least 1,000,000 changes/s.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ChangeFeedBenchmark -rf json -rff
 * benchmarks/results/changefeed-replay.json}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms3g", "-Xmx3g"})
public class ChangeFeedBenchmark {
  static final int CHANGES = 1_000_000;
  static final int KEYS = 100_000;

  /**
   * Above the 1,000,000 commits a replay starts behind: the default lag limit (100,000) refuses it.
   */
  static final long MAX_LAG = 2_000_000;

  /** The loaded store. */
  @State(Scope.Benchmark)
  public static class Store {
    @Param({"1", "100"})
    int changesPerCommit;

    ActorSystem<Void> system;
    ZVerseStore store;
    long commits;

    /** Opens and loads the store. */
    @Setup(Level.Trial)
    public void setup() {
      Dataset data = Dataset.create(KEYS);
      // Each key once per 100,000 puts, in a random order: a batch never repeats a key.
      int[] perm = new int[KEYS];
      SplittableRandom rnd = new SplittableRandom(3);
      for (int i = 0; i < KEYS; i++) {
        int j = rnd.nextInt(i + 1);
        perm[i] = perm[j];
        perm[j] = i;
      }
      int[] keys = new int[CHANGES];
      for (int i = 0; i < CHANGES; i++) {
        keys[i] = perm[i % KEYS];
      }
      system = ActorSystem.create(Behaviors.empty(), "bench");
      commits = CHANGES / changesPerCommit;
      StoreSettings settings =
          StoreSettings.create(system, "bench")
              .withRetentionVersions(commits + 10)
              .withMaxPendingWrites(100_000);
      store = ZVerseStore.open(system, "bench", settings);
      List<CompletableFuture<Long>> window = new ArrayList<>();
      for (int c = 0; c < commits; c++) {
        WriteBatch.Builder b = WriteBatch.builder();
        for (int i = c * changesPerCommit; i < (c + 1) * changesPerCommit; i++) {
          b.put(data.key(keys[i]), data.value(keys[i], i));
        }
        window.add(store.write(b.build()).toCompletableFuture());
        if (window.size() == 1_000) {
          window.forEach(CompletableFuture::join);
          window.clear();
        }
      }
      window.forEach(CompletableFuture::join);
      if (store.version() != commits) {
        throw new IllegalStateException(
            "loaded " + store.version() + " commits, expected " + commits);
      }
    }

    /** Closes the store and the actor system. */
    @TearDown(Level.Trial)
    public void tearDown() {
      store.close().toCompletableFuture().join();
      system.terminate();
    }
  }

  /** Every change as a commit element, counted in a fold. */
  @Benchmark
  @OperationsPerInvocation(CHANGES)
  public long feedCommits(Store s) {
    long n =
        ChangeFeed.commits(s.store, ChangeFeedOptions.after(0).withMaxLag(MAX_LAG))
            .take(s.commits)
            .runWith(Sink.fold(0L, (acc, c) -> acc + c.size()), s.system)
            .toCompletableFuture()
            .join();
    return check(n);
  }

  /** Every change as its own element, into Sink.ignore. */
  @Benchmark
  @OperationsPerInvocation(CHANGES)
  public Object feedChanges(Store s) {
    return ChangeFeed.changes(s.store, ChangeFeedOptions.after(0).withMaxLag(MAX_LAG))
        .take(CHANGES)
        .runWith(Sink.ignore(), s.system)
        .toCompletableFuture()
        .join();
  }

  /** The engine's commit iterator alone, on this thread: the cost without Pekko Streams. */
  @Benchmark
  @OperationsPerInvocation(CHANGES)
  public long engineCommits(Store s) {
    Snapshot snap = s.store.snapshot();
    long n = 0;
    for (Iterator<CommitRecord> it = snap.commits(0, snap.version(), KeyRange.all(), false);
        it.hasNext(); ) {
      n += it.next().size();
    }
    return check(n);
  }

  private static long check(long n) {
    if (n != CHANGES) {
      throw new IllegalStateException("replayed " + n + " changes, expected " + CHANGES);
    }
    return n;
  }
}
