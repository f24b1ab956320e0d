package dev.zverse.streams;

import static dev.zverse.streams.StreamsTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * List, then watch, while writers go flat out and retention keeps one version (or ten) with a 1 ms
 * epoch tick: every start must succeed, and the state listed in the read transaction plus the
 * commits the feed emits after it must be the store's latest state, with every version once. 1,000
 * starts per retention, 10 per round of writing (fewer per round means shorter replays); the
 * writers stop at the end of each round so that "the latest state" is one state.
 */
class ListThenWatchTest {
  private static final int KEYS = 16;
  private static final int ROUNDS = 100;
  private static final int STARTS_PER_ROUND = 10;
  private static final StreamsTestKit kit = new StreamsTestKit();

  @AfterAll
  static void shutdown() {
    kit.shutdown();
  }

  /**
   * One list-then-watch start: the listed state, its version, what the feed emitted (written by the
   * stream, read by the test once the stream is done) and the last version it emitted.
   */
  private record Watch(
      long version,
      Map<String, String> listed,
      List<CommitRecord> seen,
      AtomicLong lastSeen,
      UniqueKillSwitch kill,
      CompletionStage<Done> done) {}

  @ParameterizedTest(name = "retention {0}")
  @ValueSource(ints = {1, 10})
  void everyStartSucceedsAndListingPlusFeedIsTheLatestState(int retention) throws Exception {
    ZVerseStore store =
        kit.open(
            kit.settings().withRetentionVersions(retention).withEpochTick(Duration.ofMillis(1)));
    AtomicInteger raced = new AtomicInteger();
    for (int round = 0; round < ROUNDS; round++) {
      AtomicBoolean writing = new AtomicBoolean(true);
      AtomicReference<Throwable> writerFailure = new AtomicReference<>();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 2; w++) {
        long seed = round * 2L + w;
        Thread t = new Thread(() -> writeFlatOut(store, new Random(seed), writing, writerFailure));
        writers.add(t);
        t.start();
      }
      List<Watch> watches = new ArrayList<>();
      // Start while the writers are committing flat out.
      awaitVersionAbove(store, store.version() + 32);
      for (int i = 0; i < STARTS_PER_ROUND; i++) {
        watches.add(listThenWatch(store));
        // The plain form would have raced here: retention alone has moved past the listed state.
        if (store.retentionWatermark() > watches.get(i).version() + 1) {
          raced.incrementAndGet();
        }
      }
      writing.set(false);
      for (Thread t : writers) {
        t.join();
      }
      if (writerFailure.get() != null) {
        throw new AssertionError("a writer failed", writerFailure.get());
      }
      long last = store.version();

      Map<String, String> latest = state(store.snapshot().scan(KeyRange.all()));
      for (Watch w : watches) {
        check(w, last, latest);
      }
    }
    assertTrue(raced.get() > 0, "the writers never outran retention: nothing was tested");
    await(store.close());
  }

  private static void awaitVersionAbove(ZVerseStore store, long version) {
    long deadline = System.nanoTime() + StreamsTestKit.TIMEOUT.toNanos();
    while (store.version() <= version) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the writers made no commit after " + version);
      }
      Thread.onSpinWait();
    }
  }

  private static Watch listThenWatch(ZVerseStore store) {
    try (ReadTransaction tx = store.readTransaction("list-then-watch test")) {
      Map<String, String> listed = state(tx.snapshot().scan(KeyRange.all()));
      List<CommitRecord> seen = new ArrayList<>();
      AtomicLong lastSeen = new AtomicLong(tx.version());
      Pair<UniqueKillSwitch, CompletionStage<Done>> run =
          ChangeFeed.commits(store, ChangeFeedOptions.after(tx).withMaxLag(1_000_000_000))
              .viaMat(KillSwitches.single(), Keep.right())
              .toMat(
                  Sink.foreach(
                      c -> {
                        seen.add(c);
                        lastSeen.set(c.version());
                      }),
                  Keep.both())
              .run(kit.system());
      return new Watch(tx.version(), listed, seen, lastSeen, run.first(), run.second());
    }
  }

  private static void check(Watch w, long last, Map<String, String> latest) {
    long deadline = System.nanoTime() + StreamsTestKit.TIMEOUT.toNanos();
    while (w.lastSeen().get() < last && !w.done().toCompletableFuture().isDone()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the feed after " + w.version() + " did not reach " + last);
      }
      StreamsTestKit.sleep(1); // polls the feed's progress; ends as soon as it is there
    }
    if (w.done().toCompletableFuture().isCompletedExceptionally()) {
      await(w.done()); // throws with the feed's failure
    }
    w.kill().shutdown();
    await(w.done());
    TreeMap<String, String> state = new TreeMap<>(w.listed());
    long expected = w.version();
    for (CommitRecord c : w.seen()) {
      assertEquals(++expected, c.version(), "no gap, no duplicate after " + w.version());
      for (Change ch : c.changes()) {
        if (ch.isDelete()) {
          state.remove(ch.keyUtf8());
        } else {
          state.put(ch.keyUtf8(), ch.valueUtf8());
        }
      }
    }
    assertEquals(last, expected, "the feed after " + w.version() + " ends at the latest version");
    assertEquals(latest, state, "listing at " + w.version() + " plus the feed");
  }

  private static Map<String, String> state(List<Entry> entries) {
    TreeMap<String, String> m = new TreeMap<>();
    for (Entry e : entries) {
      m.put(e.keyUtf8(), e.valueUtf8());
    }
    return m;
  }

  private static void writeFlatOut(
      ZVerseStore store, Random rnd, AtomicBoolean writing, AtomicReference<Throwable> failure) {
    try {
      List<CompletableFuture<Long>> inFlight = new ArrayList<>();
      for (int i = 0; writing.get(); i++) {
        String key = String.format("k%02d", rnd.nextInt(KEYS));
        inFlight.add(
            (rnd.nextInt(4) == 0 ? store.delete(key) : store.put(key, "v" + rnd.nextLong()))
                .toCompletableFuture());
        if (inFlight.size() == 32) {
          inFlight.forEach(CompletableFuture::join);
          inFlight.clear();
        }
      }
      inFlight.forEach(CompletableFuture::join);
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
    }
  }
}
