package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitStats;
import static dev.zverse.actors.StoreTestKit.putVersions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class EpochTest {
  private static StoreTestKit kit;

  @BeforeAll
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterAll
  static void stop() {
    kit.shutdown();
  }

  private static StoreSettings fastTicks() {
    return kit.settings().withEpochTick(Duration.ofMillis(10));
  }

  @Test
  void retentionByCountKeepsTheNewestVersionsReadable() {
    ZVerseStore store = kit.open(fastTicks().withRetentionVersions(3));
    putVersions(store, 1, 10);

    EpochStats stats = awaitStats(store, s -> s.watermark() == 8, "watermark 10 - 3 + 1");
    assertEquals(3, stats.retainedVersions());
    assertEquals("v8", store.get("k", 8));
    VersionCompactedException e = assertThrows(VersionCompactedException.class, () -> store.get("k", 7));
    assertEquals(8, e.watermark());
    putVersions(store, 11, 12);
    awaitStats(store, s -> s.watermark() == 10, "the watermark follows new versions");
    await(store.close());
  }

  @Test
  void retentionByTimeKeepsVersionsYoungerThanTheDuration() {
    Duration window = Duration.ofMillis(400);
    ZVerseStore store =
        kit.open(fastTicks().withRetentionVersions(1).withRetentionDuration(window));
    long start = System.nanoTime();
    putVersions(store, 1, 5);
    StoreTestKit.sleep(100);
    EpochStats young = await(store.epochStats());
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    if (elapsedMillis < window.toMillis() - 50) {
      assertEquals(0, young.watermark(), "everything is younger than the window: " + young);
    }
    EpochStats old = awaitStats(store, s -> s.watermark() == 5, "versions 1..4 older than the window");
    assertEquals(1, old.retainedVersions());
    assertEquals("v5", store.get("k", 5), "the version a read as of now minus the window needs");
    assertThrows(VersionCompactedException.class, () -> store.get("k", 4));
    await(store.close());
  }

  @Test
  void anOpenReadTransactionHoldsBackPruningUntilClosed() {
    ZVerseStore store = kit.open(fastTicks().withRetentionVersions(1));
    putVersions(store, 1, 3);
    awaitStats(store, s -> s.watermark() == 3, "retention alone");
    ReadTransaction tx = store.readTransaction();
    assertEquals(3, tx.version());
    putVersions(store, 4, 10);

    // Ten ticks later the watermark still sits at the pinned version, not at 10.
    StoreTestKit.sleep(100);
    EpochStats pinned = await(store.epochStats());
    assertEquals(3, pinned.watermark(), pinned.toString());
    assertEquals(1, pinned.pins());
    assertEquals(8, pinned.retainedVersions());
    assertEquals("v3", store.get("k", 3), "later snapshots still read the pinned version");
    assertEquals("v3", tx.get("k"));

    tx.close();
    EpochStats released = awaitStats(store, s -> s.watermark() == 10, "pruning after the pin is gone");
    assertEquals(0, released.pins());
    assertEquals(Duration.ZERO, released.oldestPinAge());
    assertThrows(VersionCompactedException.class, () -> store.get("k", 3));
    await(store.close());
  }

  @Test
  void theOldestOfSeveralPinsBoundsTheWatermark() {
    ZVerseStore store = kit.open(fastTicks().withRetentionVersions(1));
    putVersions(store, 1, 2);
    ReadTransaction older = store.readTransaction();
    putVersions(store, 3, 5);
    ReadTransaction newer = store.readTransaction();
    putVersions(store, 6, 8);

    EpochStats both = awaitStats(store, s -> s.watermark() == 2, "bounded by the older pin");
    assertEquals(2, both.pins());
    older.close();
    awaitStats(store, s -> s.watermark() == 5, "bounded by the newer pin");
    newer.close();
    awaitStats(store, s -> s.watermark() == 8, "retention alone");
    await(store.close());
  }

  @Test
  void epochStatsReportThePinsAndTheAgeOfTheOldest() {
    ZVerseStore store = kit.open(fastTicks());
    putVersions(store, 1, 4);
    try (ReadTransaction a = store.readTransaction();
        ReadTransaction b = store.readTransaction()) {
      StoreTestKit.sleep(50);
      EpochStats stats = await(store.epochStats());
      assertEquals(2, stats.pins());
      assertTrue(stats.oldestPinAge().toMillis() >= 50, stats.toString());
      assertEquals(4, stats.version());
      assertEquals(0, stats.watermark());
      assertEquals(5, stats.retainedVersions());
      assertEquals(4, stats.publishes());
      assertEquals(a.version(), b.version());
    }
    assertEquals(0, await(store.epochStats()).pins());
    await(store.close());
  }

  @Test
  void aLongHeldPinIsLoggedWithItsAgeAndHowManyVersionsItHoldsBack() {
    ZVerseStore store =
        kit.open(fastTicks().withRetentionVersions(1).withLongPinWarning(Duration.ofMillis(300)));
    putVersions(store, 1, 1);
    AtomicReference<ReadTransaction> tx = new AtomicReference<>();

    LoggingTestKit.warn("has pinned version [1]")
        .withMessageRegex(".*\\[" + store.name() + "\\].*pinned version \\[1\\] for \\[\\d+\\] ms, holding back \\[5\\] versions.*")
        .expect(
            kit.testKit.system(),
            () -> {
              tx.set(store.readTransaction());
              putVersions(store, 2, 6);
              return null;
            });

    tx.get().close();
    await(store.close());
  }

  @Test
  void pinsAreHonouredWhilePruningRacesWithNewReadTransactions() throws Exception {
    ZVerseStore store = kit.open(kit.settings().withEpochTick(Duration.ofMillis(1)).withRetentionVersions(1));
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicReference<Throwable> problem = new AtomicReference<>();
    AtomicLong checks = new AtomicLong();
    Thread writer =
        new Thread(
            () -> {
              for (int i = 0; running.get(); i++) {
                await(store.put("k" + (i % 8), Integer.toString(i)));
              }
            });
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 3; r++) {
      readers.add(
          new Thread(
              () -> {
                try {
                  while (running.get()) {
                    try (ReadTransaction tx = store.readTransaction()) {
                      long v = tx.version();
                      for (int i = 0; i < 8; i++) {
                        // The latest snapshot, which the writer keeps pruning, must still read v.
                        String latest = store.snapshot().get("k" + i, v);
                        String own = tx.get("k" + i);
                        if (latest == null ? own != null : !latest.equals(own)) {
                          throw new AssertionError("at " + v + ": " + latest + " != " + own);
                        }
                      }
                      checks.incrementAndGet();
                    }
                  }
                } catch (Throwable e) {
                  problem.compareAndSet(null, e);
                }
              }));
    }
    writer.start();
    readers.forEach(Thread::start);
    StoreTestKit.sleep(500);
    running.set(false);
    writer.join();
    for (Thread r : readers) {
      r.join();
    }

    if (problem.get() != null) {
      throw new AssertionError("a pinned version was pruned", problem.get());
    }
    assertTrue(checks.get() > 100, checks.get() + " checks");
    EpochStats stats = awaitStats(store, s -> s.pins() == 0 && s.watermark() == s.version(), "pruned");
    assertTrue(stats.version() > 10, stats.toString());
    await(store.close());
  }

  /**
   * An EpochActor that (re)starts after a tick died between its proposal and its decision (a
   * restart keeps the Pins) decides from what was decided before, not from the proposal: a pin
   * validated before that proposal still holds its version.
   */
  @Test
  void aRestartAfterAProposalDecidesNoHigherThanAPinValidatedBeforeIt() {
    Snapshot s = Snapshot.empty(kit.settings().limits(), ZIndexOptions.defaults());
    for (int v = 1; v <= 10; v++) {
      s = s.apply(WriteBatch.ofPut("k", "v" + v));
    }
    Pins pins = new Pins();
    assertTrue(pins.tryPin(new Pins.Pin(5, System.nanoTime(), "reader")));
    pins.propose(8); // the tick that proposed 8 died before it scanned and decided
    EpochActor.Setup setup =
        new EpochActor.Setup(
            "restarted",
            kit.settings().withEpochTick(Duration.ofHours(1)).withRetentionVersions(1),
            new Root(s),
            pins,
            new WriteGate(1),
            new CompletableFuture<>());
    ActorRef<EpochActor.Command> epoch = kit.testKit.spawn(EpochActor.create(setup));
    TestProbe<EpochStats> stats = kit.testKit.createTestProbe();
    epoch.tell(new EpochActor.GetStats(stats.ref()));
    stats.receiveMessage();
    assertTrue(
        pins.decidedWatermark() <= 5,
        "decided " + pins.decidedWatermark() + " above the pin at 5");
    assertTrue(pins.proposedWatermark() <= 5, "proposal " + pins.proposedWatermark());
    epoch.tell(new EpochActor.Stop(null));
  }
}
