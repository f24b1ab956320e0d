package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LogCapturingExtension.class)
class GroupCommitTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /** One write as its caller saw it. */
  private record Sent(String key, String value, CompletionStage<Long> version) {}

  @Test
  void manyConcurrentWritersShareFewerPublishesThanWritesAndEachGetsItsOwnVersion()
      throws Exception {
    // The actor's group commit: with caller-runs on, a write that finds the writer idle is a group
    // of its own, and on a loaded machine concurrent callers seldom overlap.
    int threads = 8;
    int perThread = 500;
    // Every version stays readable: the check reads each caller's commit, and with the default
    // retention (1,000 versions) an epoch tick during a slow run pruned the first ones.
    ZVerseStore store =
        kit.open(
            kit.settings().withCallerRuns(false).withRetentionVersions(threads * perThread + 1L));
    List<Sent> sent = writeConcurrently(store, threads, perThread);

    assertEveryCallerGotItsOwnVersion(store, sent);
    EpochStats stats =
        StoreTestKit.awaitStats(store, s -> s.version() == threads * perThread, "all writes");
    assertTrue(
        stats.publishes() < threads * perThread,
        stats.publishes() + " publishes for " + threads * perThread + " writes");
    await(store.close());
  }

  @Test
  void writesArrivingWhileAGroupIsAppliedJoinItAndAGroupIsCappedAtMaxGroupWrites()
      throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store =
        kit.open(kit.settings().withMaxGroupWrites(100).withCallerRuns(false), applier);
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
    EpochStats stats =
        StoreTestKit.awaitStats(store, s -> s.version() == threads * rounds, "all writes");
    assertTrue(
        stats.publishes() <= rounds + threads,
        stats.publishes() + " publishes for " + rounds + " rounds of " + threads + " writers");
    for (int t = 0; t < threads; t++) {
      assertEquals("v" + (rounds - 1), store.get("t" + t));
    }
    await(store.close());
  }

  /**
   * The group-commit wait's timer, moved by the test instead of by time: records each wait the
   * writer arms, and runs it when the test says that the wait is over.
   */
  private static final class ManualTimer implements Journal.Timer {
    /** One armed wait: what runs when it ends, and after how long. */
    record Armed(Runnable task, long nanos) {}

    private final BlockingQueue<Armed> armed = new LinkedBlockingQueue<>();
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public boolean schedule(Runnable task, long nanos) {
      count.incrementAndGet();
      armed.add(new Armed(task, nanos));
      return true;
    }

    /** The next wait the writer arms; fails if it arms none (the signal, not a speed limit). */
    Armed awaitArmed() throws InterruptedException {
      Armed a = armed.poll(StoreTestKit.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      assertNotNull(a, "the writer armed no group-commit wait");
      return a;
    }

    /** How many waits the writer armed so far. */
    int armedCount() {
      return count.get();
    }
  }

  private static ZVerseStore openDurable(
      Path dir, Duration wait, ManualTimer timer, WriterActor.Applier applier) {
    ZVerseStore store = kit.open(durable(dir, wait), applier);
    store.journal().timer(timer); // before the first write: nothing is armed yet
    return store;
  }

  @Test
  void aLoneDurableWriterIsNeverHeldByTheGroupCommitWait(@TempDir Path dir) {
    // Even with the longest wait, a lone writer's next write alone reaches the group's target:
    // no wait is ever armed, and every put is answered without the wait having to end.
    ManualTimer timer = new ManualTimer();
    ZVerseStore store = openDurable(dir, Duration.ofSeconds(1), timer, WriterActor.Applier.DEFAULT);
    for (int i = 1; i <= 10; i++) {
      assertEquals(i, await(store.put("k", "v" + i)));
    }
    assertEquals(0, timer.armedCount(), "a lone writer was held");
    assertEquals(
        10, StoreTestKit.awaitStats(store, s -> s.version() == 10, "all writes").publishes());
    await(store.close());
  }

  @Test
  void aGroupWaitingForWritersThatDoNotComeBackIsHeldUntilTheWaitEnds(@TempDir Path dir)
      throws Exception {
    Duration wait = Duration.ofMillis(200);
    ManualTimer timer = new ManualTimer();
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store = openDurable(dir, wait, timer, applier);
    // A group of four writers: the writer is held inside the first write while three more arrive,
    // so all four come before its marker and are logged together. The next group then waits for
    // as many writers to come back.
    WriteBatch first = WriteBatch.ofPut("t0", "v0");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(first, entered, release);
    List<CompletionStage<Long>> four = new ArrayList<>();
    four.add(store.write(first));
    entered.await();
    for (int t = 1; t < 4; t++) {
      four.add(store.put("t" + t, "v0"));
    }
    release.countDown();
    for (CompletionStage<Long> v : four) {
      await(v);
    }
    assertEquals(0, timer.armedCount(), "the first group did not wait");

    CompletionStage<Long> alone = store.put("alone", "x"); // only one comes back
    ManualTimer.Armed held = timer.awaitArmed();
    assertEquals(wait.toNanos(), held.nanos(), "the wait armed is durability.group-commit-wait");
    assertFalse(alone.toCompletableFuture().isDone(), "answered before the wait ended");
    assertNull(store.get("alone"), "published before the wait ended");

    held.task().run(); // the wait ends
    assertEquals(5, await(alone));
    assertEquals("x", store.get("alone"));
    assertEquals(1, timer.armedCount(), "one wait for one held group");
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
