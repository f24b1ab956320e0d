package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Change;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

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

  private static List<Sent> writeConcurrently(ZVerseStore store, int threads, int perThread)
      throws Exception {
    List<List<Sent>> perThreadSent = new ArrayList<>();
    List<Thread> workers = new ArrayList<>();
    CyclicBarrier start = new CyclicBarrier(threads);
    for (int t = 0; t < threads; t++) {
      List<Sent> mine = new ArrayList<>();
      perThreadSent.add(mine);
      int id = t;
      Thread worker =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (Exception e) {
                  throw new AssertionError(e);
                }
                for (int i = 0; i < perThread; i++) {
                  String key = "t" + id + "/" + (i % 37);
                  String value = id + ":" + i;
                  mine.add(new Sent(key, value, store.put(key, value)));
                }
              });
      workers.add(worker);
      worker.start();
    }
    for (Thread worker : workers) {
      worker.join();
    }
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
