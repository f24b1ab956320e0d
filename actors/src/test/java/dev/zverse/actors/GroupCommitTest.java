package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Change;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LogCapturingExtension.class)
class GroupCommitTest {
  private static StoreTestKit kit;

  @BeforeAll
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterAll
  static void stop() {
    kit.shutdown();
  }

  /** One write as its caller saw it. */
  private record Sent(String key, String value, CompletionStage<Long> version) {}

  @Test
  void manyConcurrentWritersShareFewerPublishesThanWritesAndEachGetsItsOwnVersion() throws Exception {
    ZVerseStore store = kit.open(kit.settings());
    int threads = 8;
    int perThread = 500;
    List<Sent> sent = writeConcurrently(store, threads, perThread);

    assertEveryCallerGotItsOwnVersion(store, sent);
    EpochStats stats = StoreTestKit.awaitStats(store, s -> s.version() == threads * perThread, "all writes");
    assertTrue(
        stats.publishes() < threads * perThread,
        stats.publishes() + " publishes for " + threads * perThread + " writes");
    await(store.close());
  }

  @Test
  void writesArrivingWhileAGroupIsAppliedJoinItAndAGroupIsCappedAtMaxGroupWrites() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store = kit.open(kit.settings().withMaxGroupWrites(100), applier);
    WriteBatch first = WriteBatch.ofPut("first", "0");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(first, entered, release);
    CompletionStage<Long> firstVersion = store.write(first);
    entered.await();

    // The writer is inside the first write of a group and has not sent its marker yet: everything
    // sent now arrives before the marker.
    List<Sent> sent = new ArrayList<>();
    for (int i = 0; i < 450; i++) {
      sent.add(new Sent("k" + i, "v" + i, store.put("k" + i, "v" + i)));
    }
    release.countDown();

    assertEquals(1, await(firstVersion));
    assertEveryCallerGotItsOwnVersion(store, sent);
    EpochStats stats = StoreTestKit.awaitStats(store, s -> s.version() == 451, "all writes");
    // All 451 writes came before the one marker: four full groups of 100 published at the cap, and
    // the marker publishes the last 51.
    assertEquals(5, stats.publishes());
    await(store.close());
  }

  @Test
  void aLoneWriterIsAnsweredWithoutWaitingForOthers() {
    ZVerseStore store = kit.open(kit.settings());
    for (int i = 1; i <= 200; i++) {
      assertEquals(i, await(store.put("k", "v" + i)));
    }
    EpochStats stats = StoreTestKit.awaitStats(store, s -> s.version() == 200, "all writes");
    assertEquals(200, stats.publishes(), "one publish per write when each waits for its answer");
    await(store.close());
  }

  // ---------------------------------------------------------------- durable: the group-commit wait

  private static StoreSettings durable(Path dir, Duration wait) {
    return kit.settings().withDataDirectory(dir).withDurability(d -> d.withGroupCommitWait(wait));
  }

  /** {@code threads} threads, each putting {@code perThread} times and waiting for each answer. */
  private static void putAndJoin(ZVerseStore store, int threads, int perThread) throws Exception {
    StoreTestKit.onThreads(
        threads,
        id -> {
          for (int i = 0; i < perThread; i++) {
            await(store.put("t" + id, "v" + i));
          }
        });
  }

  @Test
  void steadyDurableWritersShareEachForceInsteadOfAlternatingBetweenTwoGroups(@TempDir Path dir)
      throws Exception {
    // Each of 8 writers waits for its answer before its next put. Without the wait, the writers
    // answered by one force miss the next group (sealed as the force ends) and about two groups
    // alternate: about 2 publishes per round of 8 writes. With it, one group per round.
    ZVerseStore store = kit.open(durable(dir, Duration.ofSeconds(1)));
    int threads = 8;
    int rounds = 25;
    putAndJoin(store, threads, rounds);
    EpochStats stats = StoreTestKit.awaitStats(store, s -> s.version() == threads * rounds, "all writes");
    assertTrue(
        stats.publishes() <= rounds + threads,
        stats.publishes() + " publishes for " + rounds + " rounds of " + threads + " writers");
    for (int t = 0; t < threads; t++) {
      assertEquals("v" + (rounds - 1), store.get("t" + t));
    }
    await(store.close());
  }

  @Test
  void aLoneDurableWriterIsNeverHeldByTheGroupCommitWait(@TempDir Path dir) {
    // With the longest wait, 10 sequential puts would take at least 9 s if any of them were held.
    ZVerseStore store = kit.open(durable(dir, Duration.ofSeconds(1)));
    long start = System.nanoTime();
    for (int i = 1; i <= 10; i++) {
      assertEquals(i, await(store.put("k", "v" + i)));
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 5_000, "10 lone puts took " + millis + " ms");
    assertEquals(10, StoreTestKit.awaitStats(store, s -> s.version() == 10, "all writes").publishes());
    await(store.close());
  }

  @Test
  void aGroupWaitingForWritersThatDoNotComeBackIsForcedWhenTheWaitEnds(@TempDir Path dir) throws Exception {
    ZVerseStore store = kit.open(durable(dir, Duration.ofMillis(200)));
    putAndJoin(store, 4, 1); // a group of several writers: the next group waits for as many
    long start = System.nanoTime();
    assertEquals(5, await(store.put("alone", "x"))); // only one comes back
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals("x", store.get("alone"));
    assertTrue(millis < 5_000, "the held put took " + millis + " ms");
    await(store.close());
  }

  private static List<Sent> writeConcurrently(ZVerseStore store, int threads, int perThread)
      throws Exception {
    List<List<Sent>> perThreadSent = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      perThreadSent.add(new ArrayList<>());
    }
    StoreTestKit.onThreads(
        threads,
        id -> {
          for (int i = 0; i < perThread; i++) {
            String key = "t" + id + "/" + (i % 37);
            String value = id + ":" + i;
            perThreadSent.get(id).add(new Sent(key, value, store.put(key, value)));
          }
        });
    List<Sent> all = new ArrayList<>();
    perThreadSent.forEach(all::addAll);
    return all;
  }

  /** Versions are distinct and dense, and the commit of each holds exactly its caller's put. */
  private static void assertEveryCallerGotItsOwnVersion(ZVerseStore store, List<Sent> sent) {
    Set<Long> versions = new HashSet<>();
    long max = 0;
    for (Sent s : sent) {
      long v = await(s.version());
      assertTrue(versions.add(v), "version " + v + " given twice");
      max = Math.max(max, v);
    }
    assertEquals(store.version(), max);
    Snapshot snapshot = store.snapshot();
    for (Sent s : sent) {
      long v = await(s.version());
      // Values are unique: the commit at v changed this key to this caller's value, so it is hers.
      List<Change> atV = snapshot.history(s.key(), v, v);
      assertEquals(1, atV.size(), "the commit at " + v + " changed " + s.key());
      assertEquals(s.value(), atV.get(0).valueUtf8(), "value committed at the version returned");
    }
  }
}
