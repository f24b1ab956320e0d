package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Snapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A concurrent history check: threads write and read through the store, every operation's start,
 * end and result is recorded, and the history is then checked to be linearizable in version order.
 *
 * <p>Versions give the linearization: each committed write has a distinct version, and a read of
 * snapshot {@code v} takes effect between the writes {@code v} and {@code v + 1}. The history is
 * linearizable if that order agrees with the values read and with real time:
 *
 * <ol>
 *   <li>the committed versions are exactly 1..n (every put commits, none twice);
 *   <li>every read returns the newest write to its key at or below its version;
 *   <li>a write acknowledged before another began has the smaller version;
 *   <li>a read begun after a write was acknowledged has that write's version or a newer one;
 *   <li>a read never sees a write that began after the read ended;
 *   <li>a read begun after another read ended has its version or a newer one.
 * </ol>
 *
 * Each run uses its own seed (thread count, key count, read/write mix, read flavours). Runs: 12
 * times {@code -Dzverse.test.scale}; fix the seeds with {@code -Dzverse.test.seed=N}.
 */
@ExtendWith(LogCapturingExtension.class)
class LinearizabilityTest {
  private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  /**
   * Operations each thread makes at least, however long they take: a history the check can judge
   * (over 100 operations) on a machine too loaded to make them within {@link #RUN_NANOS}.
   */
  static final int MIN_OPS_PER_THREAD = 60;

  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  static Stream<Long> seeds() {
    String fixed = System.getProperty("zverse.test.seed");
    long base = fixed != null ? Long.parseLong(fixed) : new Random().nextLong();
    int runs = 12 * Integer.getInteger("zverse.test.scale", 1);
    return LongStream.range(0, runs).mapToObj(i -> base + i);
  }

  /** One completed operation. A write has a value and the version it got; a read what it saw. */
  record Op(boolean write, String key, String value, long version, long start, long end) {}

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void historyIsLinearizableInVersionOrder(long seed) throws Exception {
    Random random = new Random(seed);
    int threads = 2 + random.nextInt(5);
    int keys = 1 + random.nextInt(16);
    double writeShare = 0.1 + random.nextDouble() * 0.8;
    boolean callerRuns = random.nextBoolean();
    ZVerseStore store =
        kit.open(kit.settings().withRetentionVersions(Long.MAX_VALUE).withCallerRuns(callerRuns));
    String setup =
        "seed "
            + seed
            + " ("
            + threads
            + " threads, "
            + keys
            + " keys, "
            + Math.round(writeShare * 100)
            + "% writes, caller-runs "
            + callerRuns
            + ")";

    List<List<Op>> perThread = new ArrayList<>();
    List<Thread> workers = new ArrayList<>();
    AtomicReference<Throwable> problem = new AtomicReference<>();
    CyclicBarrier go = new CyclicBarrier(threads);
    for (int t = 0; t < threads; t++) {
      List<Op> ops = new ArrayList<>();
      perThread.add(ops);
      Random own = new Random(random.nextLong());
      int id = t;
      workers.add(
          new Thread(
              () -> {
                try {
                  go.await();
                  long until = System.nanoTime() + RUN_NANOS;
                  for (int i = 0; i < MIN_OPS_PER_THREAD || System.nanoTime() < until; i++) {
                    String key = "k" + own.nextInt(keys);
                    if (own.nextDouble() < writeShare) {
                      ops.add(write(store, key, id + ":" + i));
                    } else {
                      ops.add(read(store, key, own.nextInt(3)));
                    }
                  }
                } catch (Throwable e) {
                  problem.compareAndSet(null, e);
                }
              }));
    }
    workers.forEach(Thread::start);
    for (Thread w : workers) {
      w.join();
    }
    if (problem.get() != null) {
      throw new AssertionError(setup + ": an operation failed", problem.get());
    }
    List<Op> history = new ArrayList<>();
    perThread.forEach(history::addAll);
    check(history, setup);
    await(store.close());
  }

  private static Op write(ZVerseStore store, String key, String value) {
    long start = System.nanoTime();
    long version = await(store.put(key, value));
    return new Op(true, key, value, version, start, System.nanoTime());
  }

  /** Reads through the three ways: the latest snapshot, the store's get, a read transaction. */
  private static Op read(ZVerseStore store, String key, int flavour) {
    long start = System.nanoTime();
    String value;
    long version;
    switch (flavour) {
      case 0 -> {
        Snapshot s = store.snapshot();
        value = s.get(key);
        version = s.version();
      }
      case 1 -> {
        // The store's conveniences read the latest snapshot each time: a get, then the version it
        // read at would be two loads. Read the version first and the value at it.
        version = store.version();
        value = store.snapshot().get(key, version);
      }
      default -> {
        try (ReadTransaction tx = store.readTransaction()) {
          value = tx.snapshot().get(key);
          version = tx.version();
        }
      }
    }
    return new Op(false, key, value, version, start, System.nanoTime());
  }

  /** Checks rules 1 to 6 of the class comment on {@code history}; {@code setup} names the run. */
  static void check(List<Op> history, String setup) {
    List<Op> writes = history.stream().filter(Op::write).toList();
    List<Op> reads = history.stream().filter(op -> !op.write()).toList();
    assertTrue(
        reads.size() + writes.size() > 100, setup + ": too short a history: " + history.size());

    // 1. Versions 1..n, each once.
    Map<Long, Op> byVersion = new HashMap<>();
    for (Op w : writes) {
      Op twice = byVersion.put(w.version(), w);
      assertEquals(null, twice, setup + ": version " + w.version() + " given twice");
    }
    for (long v = 1; v <= writes.size(); v++) {
      assertTrue(byVersion.containsKey(v), setup + ": version " + v + " missing");
    }

    // 2. Each read returns the newest write to its key at or below its version.
    Map<String, TreeMap<Long, String>> perKey = new HashMap<>();
    for (Op w : writes) {
      perKey.computeIfAbsent(w.key(), k -> new TreeMap<>()).put(w.version(), w.value());
    }
    for (Op r : reads) {
      TreeMap<Long, String> chain = perKey.getOrDefault(r.key(), new TreeMap<>());
      Map.Entry<Long, String> expected = chain.floorEntry(r.version());
      assertEquals(
          expected == null ? null : expected.getValue(),
          r.value(),
          setup + ": read of " + r.key() + " at " + r.version());
    }

    // 3, 4, 6. Real time: the newest version acknowledged (written, or read) before an operation
    // began bounds its version from below; strictly for a write.
    List<Op> byEnd = new ArrayList<>(history);
    byEnd.sort(Comparator.comparingLong(Op::end));
    long[] ends = new long[byEnd.size()];
    long[] maxSeen = new long[byEnd.size()];
    for (int i = 0; i < byEnd.size(); i++) {
      Op op = byEnd.get(i);
      ends[i] = op.end();
      maxSeen[i] = Math.max(i == 0 ? 0 : maxSeen[i - 1], op.version());
    }
    for (Op op : history) {
      int before = endedBefore(ends, op.start());
      if (before < 0) {
        continue;
      }
      if (op.write()) {
        // Version maxSeen[before] was published before this write was sent.
        assertTrue(
            op.version() > maxSeen[before],
            setup
                + ": write "
                + op
                + " began after version "
                + maxSeen[before]
                + " was acknowledged or read");
      } else {
        assertTrue(
            op.version() >= maxSeen[before],
            setup
                + ": read "
                + op
                + " began after version "
                + maxSeen[before]
                + " was acknowledged or read");
      }
    }

    // 5. A read never sees a write that had not begun when the read ended.
    for (Op r : reads) {
      if (r.version() > 0) {
        Op w = byVersion.get(r.version());
        assertTrue(
            w.start() < r.end(),
            setup + ": read " + r + " saw " + w + ", which began after it ended");
      }
    }
  }

  /** Index of the last operation that ended strictly before {@code time}, or -1. */
  private static int endedBefore(long[] ends, long time) {
    int i = Arrays.binarySearch(ends, time);
    if (i < 0) {
      return -i - 2;
    }
    while (i >= 0 && ends[i] >= time) {
      i--;
    }
    return i;
  }
}
