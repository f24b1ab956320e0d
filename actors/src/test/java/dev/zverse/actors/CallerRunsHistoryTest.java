package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.LinearizabilityTest.Op;
import dev.zverse.engine.Snapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Caller-runs under contention: many threads write and read while the WriterActor works too, and
 * the history is checked as in {@link LinearizabilityTest}, plus the order of publishes and each
 * caller's own order.
 *
 * <p>Each thread mixes writes that wait for their answer (which run on the thread itself when the
 * writer is idle), bursts of writes sent without waiting (which queue in the actor's mailbox while
 * a caller owns the writer's state, so the actor must wait and be handed the state), and reads. A
 * small group cap keeps group-commit markers in flight, and a 1 ms epoch tick with a short
 * retention makes the EpochActor decide watermarks, so that prunes run in callers' groups and in
 * the actor's. A publish listener records every published version. Checked:
 *
 * <ol>
 *   <li>the rules of {@link LinearizabilityTest} (versions 1..n once each, reads, real time);
 *   <li>the writes one thread sent, waited for or not, got increasing versions in sending order;
 *   <li>publishes came one at a time in increasing version order, the last at the final version
 *       (two owners publishing at once could interleave them);
 *   <li>across all runs, writes ran on callers' threads and on the actor, and callers handed the
 *       writer's state to the waiting actor: the race this test is about did take place.
 * </ol>
 *
 * Runs: 12 times {@code -Dzverse.test.scale}; fix the seeds with {@code -Dzverse.test.seed=N}.
 */
@ExtendWith(LogCapturingExtension.class)
class CallerRunsHistoryTest {
  private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static final AtomicLong CALLER_RUNS = new AtomicLong();
  private static final AtomicLong ACTOR_RUNS = new AtomicLong();
  private static final AtomicLong HAND_OVERS = new AtomicLong();

  static Stream<Long> seeds() {
    String fixed = System.getProperty("zverse.test.seed");
    long base = fixed != null ? Long.parseLong(fixed) : new Random().nextLong();
    int runs = 12 * Integer.getInteger("zverse.test.scale", 1);
    return LongStream.range(0, runs).mapToObj(i -> base + i);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void callersRacingTheActorKeepAWriterAtATime(long seed) throws Exception {
    Random random = new Random(seed);
    int threads = 3 + random.nextInt(6);
    int keys = 1 + random.nextInt(16);
    int maxGroup = 1 + random.nextInt(8);
    ZVerseStore store =
        kit.open(
            kit.settings()
                .withCallerRuns(true)
                .withRetentionVersions(50)
                .withEpochTick(Duration.ofMillis(1))
                .withMaxGroupWrites(maxGroup));
    String setup =
        "seed "
            + seed
            + " ("
            + threads
            + " threads, "
            + keys
            + " keys, group cap "
            + maxGroup
            + ")";
    ConcurrentLinkedQueue<Long> published = new ConcurrentLinkedQueue<>();
    store
        .advanced()
        .addPublishListener(
            new PublishListener() {
              @Override
              public void published(Snapshot snapshot) {
                published.add(snapshot.version());
              }

              @Override
              public void stopped(Snapshot last) {}
            });

    List<List<Op>> perThread = Collections.synchronizedList(new ArrayList<>());
    long[] seeds = random.longs(threads).toArray();
    StoreTestKit.onThreads(
        threads,
        id -> {
          Random own = new Random(seeds[id]);
          List<Op> ops = new ArrayList<>();
          long until = System.nanoTime() + RUN_NANOS;
          for (int i = 0;
              i < LinearizabilityTest.MIN_OPS_PER_THREAD || System.nanoTime() < until;
              i++) {
            String key = "k" + own.nextInt(keys);
            int choice = own.nextInt(10);
            if (choice < 4) {
              long start = System.nanoTime();
              long version = await(store.put(key, id + ":" + i));
              ops.add(new Op(true, key, id + ":" + i, version, start, System.nanoTime()));
            } else if (choice < 7) {
              burst(store, own, keys, id, i, ops);
            } else {
              long start = System.nanoTime();
              Snapshot s = store.snapshot();
              ops.add(new Op(false, key, s.get(key), s.version(), start, System.nanoTime()));
            }
          }
          perThread.add(ops);
        });

    List<Op> history = new ArrayList<>();
    for (List<Op> ops : perThread) {
      history.addAll(ops);
      long last = 0;
      for (Op op : ops) {
        if (op.write()) {
          assertTrue(
              op.version() > last, setup + ": a thread's write " + op + " came after " + last);
          last = op.version();
        }
      }
    }
    LinearizabilityTest.check(history, setup);

    long finalVersion = store.version();
    long previous = 0;
    for (long v : published) {
      assertTrue(v > previous, setup + ": published " + v + " after " + previous);
      previous = v;
    }
    assertEquals(finalVersion, previous, setup + ": the last publish");

    StoreMetrics metrics = store.metrics();
    CALLER_RUNS.addAndGet(metrics.callerRunWrites());
    ACTOR_RUNS.addAndGet(metrics.writes() - metrics.callerRunWrites());
    HAND_OVERS.addAndGet(metrics.handOvers());
    await(store.close());
  }

  /** Sends 2 to 5 writes without waiting, then waits for them all. */
  private static void burst(ZVerseStore store, Random own, int keys, int id, int i, List<Op> ops) {
    int n = 2 + own.nextInt(4);
    List<CompletableFuture<Long>> sent = new ArrayList<>();
    String[] sentKeys = new String[n];
    long[] starts = new long[n];
    for (int j = 0; j < n; j++) {
      sentKeys[j] = "k" + own.nextInt(keys);
      starts[j] = System.nanoTime();
      sent.add(store.put(sentKeys[j], id + ":" + i + "." + j).toCompletableFuture());
    }
    for (int j = 0; j < n; j++) {
      long version = await(sent.get(j));
      // Answered no later than now: a wider interval than the true one, so the check stays sound.
      ops.add(
          new Op(true, sentKeys[j], id + ":" + i + "." + j, version, starts[j], System.nanoTime()));
    }
  }

  @AfterAll
  static void theRaceTookPlace() {
    String counts =
        "writes on callers: "
            + CALLER_RUNS.get()
            + ", on the actor: "
            + ACTOR_RUNS.get()
            + ", hand-overs: "
            + HAND_OVERS.get();
    assertTrue(CALLER_RUNS.get() > 0, counts);
    assertTrue(ACTOR_RUNS.get() > 0, counts);
    assertTrue(HAND_OVERS.get() > 0, counts);
    System.out.println("CallerRunsHistoryTest: " + counts);
  }
}
