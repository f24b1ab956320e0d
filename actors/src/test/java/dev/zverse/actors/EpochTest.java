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
import java.time.Instant;
import java.time.InstantSource;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The EpochActor's watermark and pin reports. Time is driven, never waited for: the store's clock
 * (commit times, retention by time, pin ages) is a {@link ManualClock}, and the epoch's tick runs
 * only when a test moves Pekko's {@code ManualTime} ({@link ManualTicks}), so "after a tick" and
 * "before the window ends" are facts of the test, whatever the machine's load.
 */
@ExtendWith(LogCapturingExtension.class)
class EpochTest {
  private static final Instant T = Instant.parse("2026-11-29T12:00:00Z");

  @RegisterExtension static final ManualTicks TICKS = new ManualTicks();

  /** Its scheduler moves only with {@link ManualTicks#tick}. */
  private static final StoreTestKit kit = TICKS.kit;

  /** Real time, for the race of pins with pruning that needs a busy epoch. */
  private static final StoreTestKit realTime = TICKS.realTime;

  /**
   * The stage {@code epochStats()} returns runs its callbacks on the store's dispatcher (or, once
   * complete, on the caller's thread), never on the JDK's default executor: Pekko's ask stage runs
   * even a plain {@code handle} there, which on 2 cores or fewer starts a thread per callback.
   */
  @Test
  void epochStatsCompletesOnTheStoresDispatcher() {
    ZVerseStore store = realTime.open(realTime.settings());
    String caller = Thread.currentThread().getName();
    for (int i = 0; i < 20; i++) {
      String thread = await(store.epochStats().handle((s, e) -> Thread.currentThread().getName()));
      assertTrue(
          thread.equals(caller) || thread.contains("-pekko.actor.default-dispatcher-"), thread);
    }
    await(store.close());
  }

  @Test
  void retentionByCountKeepsTheNewestVersionsReadable() {
    ZVerseStore store = kit.open(TICKS.settings(new ManualClock(T)).withRetentionVersions(3));
    putVersions(store, 1, 10);

    assertEquals(0, await(store.epochStats()).watermark(), "no tick, no pruning");
    TICKS.tick(store);
    EpochStats stats = awaitStats(store, s -> s.watermark() == 8, "watermark 10 - 3 + 1");
    assertEquals(3, stats.retainedVersions());
    assertEquals("v8", store.snapshot().get("k", 8));
    VersionCompactedException e =
        assertThrows(VersionCompactedException.class, () -> store.snapshot().get("k", 7));
    assertEquals(8, e.watermark());
    putVersions(store, 11, 12);
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 10, "the watermark follows new versions");
    await(store.close());
  }

  @Test
  void retentionByTimeKeepsVersionsYoungerThanTheDuration() {
    Duration window = Duration.ofMinutes(1);
    ManualClock clock = new ManualClock(T);
    ZVerseStore store =
        kit.open(TICKS.settings(clock).withRetentionVersions(1).withRetentionDuration(window));
    putVersions(store, 1, 2); // committed at T
    clock.set(T.plusSeconds(30));
    putVersions(store, 3, 5); // committed at T + 30 s

    clock.set(T.plus(window).minusMillis(1));
    EpochStats young = TICKS.tick(store);
    assertEquals(0, young.watermark(), "everything is younger than the window: " + young);
    assertEquals(0, store.snapshot().watermark());

    clock.set(T.plus(window).plusSeconds(1)); // as of T + 1 s a read needs version 2
    TICKS.tick(store);
    EpochStats partly =
        awaitStats(store, s -> s.watermark() == 2, "version 1 older than the window");
    assertEquals(4, partly.retainedVersions());

    // Commit times strictly increase: versions 4 and 5 are a nanosecond or two after T + 30 s.
    clock.set(T.plusSeconds(31).plus(window)); // as of T + 31 s a read needs version 5
    TICKS.tick(store);
    EpochStats old =
        awaitStats(store, s -> s.watermark() == 5, "versions 1..4 older than the window");
    assertEquals(1, old.retainedVersions());
    assertEquals(
        "v5", store.snapshot().get("k", 5), "the version a read as of now minus the window needs");
    assertThrows(VersionCompactedException.class, () -> store.snapshot().get("k", 4));
    await(store.close());
  }

  @Test
  void anOpenReadTransactionHoldsBackPruningUntilClosed() {
    ManualClock clock = new ManualClock(T);
    ZVerseStore store =
        kit.open(
            TICKS
                .settings(clock)
                .withRetentionVersions(1)
                .withLongPinWarning(Duration.ofMinutes(1)));
    putVersions(store, 1, 3);
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 3, "retention alone");
    ReadTransaction tx = store.readTransaction("pinning reader");
    assertEquals(3, tx.version());
    putVersions(store, 4, 10);

    // A tick runs (its long-pin warning proves it: it saw the target 10 held back by the pin) and
    // the watermark stays at the pinned version.
    clock.move(Duration.ofMinutes(2));
    EpochStats pinned =
        LoggingTestKit.warn("has pinned version [3]")
            .withMessageRegex(
                ".*\\[pinning reader\\].*pinned version \\[3\\] for \\[120000\\] ms,"
                    + " holding back \\[7\\] versions.*")
            .expect(kit.testKit.system(), () -> TICKS.tick(store));
    assertEquals(3, pinned.watermark(), pinned.toString());
    assertEquals(3, store.pins().decidedWatermark(), "the tick decided the pinned version");
    assertEquals(1, pinned.pins());
    assertEquals(8, pinned.retainedVersions());
    assertEquals(
        "v3", store.snapshot().get("k", 3), "later snapshots still read the pinned version");
    assertEquals("v3", tx.snapshot().get("k"));

    tx.close();
    TICKS.tick(store);
    EpochStats released =
        awaitStats(store, s -> s.watermark() == 10, "pruning after the pin is gone");
    assertEquals(0, released.pins());
    assertEquals(Duration.ZERO, released.oldestPinAge());
    assertThrows(VersionCompactedException.class, () -> store.snapshot().get("k", 3));
    await(store.close());
  }

  @Test
  void theOldestOfSeveralPinsBoundsTheWatermark() {
    ZVerseStore store = kit.open(TICKS.settings(new ManualClock(T)).withRetentionVersions(1));
    putVersions(store, 1, 2);
    ReadTransaction older = store.readTransaction();
    putVersions(store, 3, 5);
    ReadTransaction newer = store.readTransaction();
    putVersions(store, 6, 8);

    TICKS.tick(store);
    EpochStats both = awaitStats(store, s -> s.watermark() == 2, "bounded by the older pin");
    assertEquals(2, both.pins());
    older.close();
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 5, "bounded by the newer pin");
    newer.close();
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 8, "retention alone");
    await(store.close());
  }

  @Test
  void epochStatsReportThePinsAndTheAgeOfTheOldest() {
    ManualClock clock = new ManualClock(T);
    ZVerseStore store = kit.open(TICKS.settings(clock));
    putVersions(store, 1, 4);
    try (ReadTransaction a = store.readTransaction()) {
      clock.move(Duration.ofMillis(30));
      try (ReadTransaction b = store.readTransaction()) {
        clock.move(Duration.ofMillis(20));
        EpochStats stats = await(store.epochStats());
        assertEquals(2, stats.pins());
        assertEquals(Duration.ofMillis(50), stats.oldestPinAge(), stats.toString());
        assertEquals(4, stats.version());
        assertEquals(0, stats.watermark());
        assertEquals(5, stats.retainedVersions());
        assertEquals(4, stats.publishes());
        assertEquals(a.version(), b.version());
      }
      clock.move(Duration.ofMillis(-80)); // stepped back past the pin: an age is never negative
      assertEquals(Duration.ZERO, await(store.epochStats()).oldestPinAge());
    }
    assertEquals(0, await(store.epochStats()).pins());
    await(store.close());
  }

  @Test
  void aLongHeldPinIsLoggedWithItsAgeAndHowManyVersionsItHoldsBack() {
    ManualClock clock = new ManualClock(T);
    ZVerseStore store =
        kit.open(
            TICKS
                .settings(clock)
                .withRetentionVersions(1)
                .withLongPinWarning(Duration.ofMillis(300)));
    putVersions(store, 1, 1);
    ReadTransaction tx = store.readTransaction();
    putVersions(store, 2, 6);

    clock.move(Duration.ofMillis(299));
    LoggingTestKit.warn("has pinned version [1]")
        .withOccurrences(0)
        .expect(kit.testKit.system(), () -> TICKS.tick(store));
    clock.move(Duration.ofMillis(1));
    LoggingTestKit.warn("has pinned version [1]")
        .withMessageRegex(
            ".*\\["
                + store.name()
                + "\\].*pinned version \\[1\\] for \\[300\\] ms,"
                + " holding back \\[5\\] versions.*")
        .expect(kit.testKit.system(), () -> TICKS.tick(store));
    // Repeated once per warning interval while the pin stays, not on every tick.
    LoggingTestKit.warn("has pinned version [1]")
        .withOccurrences(0)
        .expect(kit.testKit.system(), () -> TICKS.tick(store));
    clock.move(Duration.ofMillis(300));
    LoggingTestKit.warn("has pinned version [1]")
        .withMessageRegex(".*pinned version \\[1\\] for \\[600\\] ms.*")
        .expect(kit.testKit.system(), () -> TICKS.tick(store));

    tx.close();
    await(store.close());
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES) // a guard against a hang, not a speed claim
  void pinsAreHonouredWhilePruningRacesWithNewReadTransactions() throws Exception {
    ZVerseStore store =
        realTime.open(
            realTime.settings().withEpochTick(Duration.ofMillis(1)).withRetentionVersions(1));
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicReference<Throwable> problem = new AtomicReference<>();
    AtomicLong checks = new AtomicLong();
    // The race runs for an amount of work, not of time: until the readers made enough checks and
    // the epoch pruned often enough under them (or a reader failed).
    Thread writer =
        new Thread(
            () -> {
              for (int i = 0;
                  problem.get() == null
                      && (checks.get() < 2_000 || store.snapshot().watermark() < 500);
                  i++) {
                await(store.put("k" + (i % 8), Integer.toString(i)));
              }
              running.set(false);
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
                        String own = tx.snapshot().get("k" + i);
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
    writer.join();
    for (Thread r : readers) {
      r.join();
    }

    if (problem.get() != null) {
      throw new AssertionError("a pinned version was pruned", problem.get());
    }
    assertTrue(checks.get() > 100, checks.get() + " checks");
    EpochStats stats =
        awaitStats(store, s -> s.pins() == 0 && s.watermark() == s.version(), "pruned");
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
    Pins pins = new Pins(InstantSource.system());
    assertTrue(pins.tryPin(pins.newPin(5, "reader")));
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
        pins.decidedWatermark() <= 5, "decided " + pins.decidedWatermark() + " above the pin at 5");
    assertTrue(pins.proposedWatermark() <= 5, "proposal " + pins.proposedWatermark());
    epoch.tell(new EpochActor.Stop(null));
  }
}
