package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitStats;
import static dev.zverse.actors.StoreTestKit.putVersions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Read transactions at older versions, their owners, the handover of a transaction's pin to a
 * follower, and the non-blocking pin a stream stage takes.
 */
@ExtendWith(LogCapturingExtension.class)
class PinHandoverTest {

  @RegisterExtension static final ManualTicks TICKS = new ManualTicks();

  /** Its scheduler moves only with {@link ManualTicks#tick}. */
  private static final StoreTestKit kit = TICKS.kit;

  /** Real time, for the race of handovers with pruning that needs a busy epoch. */
  private static final StoreTestKit realTime = TICKS.realTime;

  @Test
  void aReadTransactionAtAnOlderRetainedVersionReadsThatStateAndPinsIt() {
    ZVerseStore store = kit.open(TICKS.settings().withRetentionVersions(5));
    putVersions(store, 1, 10);
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 6, "retention of five versions");
    try (ReadTransaction tx = store.readTransaction(7, "audit")) {
      assertEquals(7, tx.version());
      assertEquals("audit", tx.owner());
      // The snapshot handed out is the one taken when the transaction opened, at 10: reads of it
      // pass the transaction's version.
      Snapshot opened = tx.snapshot();
      assertEquals(10, opened.version());
      assertEquals("v7", opened.get("k", tx.version()));
      Entry e = opened.entry("k", tx.version());
      assertEquals(7, e.modVersion());
      assertEquals(List.of(e), opened.scan(KeyRange.all(), tx.version()));
      assertEquals(1, opened.count(KeyRange.all(), tx.version()));
      assertThrows(IllegalArgumentException.class, () -> opened.history("k", 7, 11));
      assertEquals(2, opened.history("k", 6, tx.version()).size());
      putVersions(store, 11, 30);
      EpochStats held = awaitStats(store, s -> s.version() == 30, "the writes");
      TICKS.tick(store); // the only tick since 6 was decided: what it decides stays
      assertEquals(7, store.pins().decidedWatermark(), "the tick decided it (it was 6)");
      awaitStats(store, s -> s.watermark() == 7, "held at the transaction's version");
      assertEquals(1, held.pins());
      assertEquals("v7", store.snapshot().get("k", 7));
    }
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 26 && s.pins() == 0, "pruned once closed");
    await(store.close());
  }

  @Test
  void aReadTransactionBelowTheWatermarkOrAfterTheLatestIsRefused() {
    ZVerseStore store = kit.open(TICKS.settings().withRetentionVersions(2));
    putVersions(store, 1, 10);
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 9, "retention of two versions");
    VersionCompactedException e =
        assertThrows(VersionCompactedException.class, () -> store.readTransaction(8, "late"));
    assertEquals(8, e.requestedVersion());
    assertEquals(9, e.watermark());
    IllegalArgumentException after =
        assertThrows(IllegalArgumentException.class, () -> store.readTransaction(11, "early"));
    assertTrue(after.getMessage().contains("[9, 10], was 11"), after.getMessage());
    assertThrows(NullPointerException.class, () -> store.readTransaction(9, null));
    assertEquals(0, await(store.epochStats()).pins(), "no pin left behind");
    await(store.close());
  }

  @Test
  void theOwnerOfAReadTransactionIsNamedInTheLongPinWarning() {
    ManualClock clock = new ManualClock(Instant.parse("2026-11-29T12:00:00Z"));
    ZVerseStore store =
        kit.open(
            TICKS
                .settings(clock)
                .withRetentionVersions(1)
                .withLongPinWarning(Duration.ofMillis(100)));
    putVersions(store, 1, 1);
    AtomicReference<ReadTransaction> tx = new AtomicReference<>();
    LoggingTestKit.warn("a pin held by [nightly order export]")
        .expect(
            kit.testKit.system(),
            () -> {
              tx.set(store.readTransaction("nightly order export"));
              putVersions(store, 2, 4);
              clock.move(Duration.ofMillis(100));
              return TICKS.tick(store);
            });
    tx.get().close();
    try (ReadTransaction unnamed = store.readTransaction()) {
      assertEquals(Thread.currentThread().getName(), unnamed.owner(), "the thread, by default");
    }
    await(store.close());
  }

  @Test
  void aPinTakenFromAReadTransactionHoldsItsVersionUntilBothAreClosed() {
    ManualClock clock = new ManualClock(Instant.parse("2026-11-29T12:00:00Z"));
    ZVerseStore store =
        kit.open(
            TICKS
                .settings(clock)
                .withRetentionVersions(1)
                .withLongPinWarning(Duration.ofMinutes(1)));
    putVersions(store, 1, 3);
    ReadTransaction tx = store.readTransaction("lister");
    VersionPin pin = store.advanced().pin(tx, "follower");
    assertEquals(3, pin.version());
    tx.close();
    putVersions(store, 4, 10);
    TICKS.tick(store); // the only tick so far: what it decides stays
    assertEquals(3, store.pins().decidedWatermark(), "a tick decided (from 0) at the pin");
    EpochStats held =
        awaitStats(store, s -> s.watermark() == 3, "the shared pin outlives the transaction");
    assertEquals(1, held.pins(), "one pin, two holders");
    assertEquals("v3", store.snapshot().get("k", 3));
    assertTrue(pin.moveTo(8));
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 8, "the follower moved on");
    pin.close();
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 10 && s.pins() == 0, "both let go");

    ReadTransaction second = store.readTransaction();
    VersionPin shared = store.advanced().pin(second, "follower");
    shared.close();
    putVersions(store, 11, 12);
    clock.move(Duration.ofMinutes(1));
    // The tick ran, and saw the transaction's pin hold back the target: it warns about it.
    EpochStats stillHeld =
        LoggingTestKit.warn("pinned version [10]")
            .withMessageRegex(".*holding back \\[2\\] versions.*")
            .expect(kit.testKit.system(), () -> TICKS.tick(store));
    assertEquals(10, stillHeld.watermark(), "the transaction still holds it");
    second.close();
    TICKS.tick(store);
    awaitStats(store, s -> s.watermark() == 12 && s.pins() == 0, "both let go");
    await(store.close());
  }

  @Test
  void aPinIsNotTakenFromAClosedTransactionOrOneOfAnotherStore() {
    ZVerseStore store = kit.open(TICKS.settings());
    ZVerseStore other = kit.open(TICKS.settings());
    putVersions(store, 1, 1);
    ReadTransaction tx = store.readTransaction();
    IllegalArgumentException foreign =
        assertThrows(IllegalArgumentException.class, () -> other.advanced().pin(tx, "follower"));
    assertTrue(
        foreign.getMessage().contains("belongs to store [" + store.name() + "]"),
        foreign.getMessage());
    tx.close();
    IllegalStateException closed =
        assertThrows(IllegalStateException.class, () -> store.advanced().pin(tx, "follower"));
    assertTrue(closed.getMessage().contains("is closed"), closed.getMessage());
    assertEquals(0, await(store.epochStats()).pins());
    await(store.close());
    await(other.close());
  }

  /**
   * The EpochActor's side of the race played by hand (its own tick set to an hour): while a
   * watermark above the version is proposed but not decided, tryPin answers at once that the
   * decision is pending; once decided, it refuses for good, naming the decided watermark.
   */
  @Test
  void tryPinAnswersAPendingDecisionAtOnceAndADecidedOneForGood() {
    ZVerseStore store = kit.open(kit.settings().withEpochTick(Duration.ofHours(1)));
    putVersions(store, 1, 10);
    await(store.epochStats()); // the EpochActor has started: it decides nothing before an hour
    Pins pins = store.pins();
    pins.propose(8);
    // "At once" is the answer itself: a tryPin that waited out the pending decision would end in
    // the spin's VersionCompactedException (no decision comes for an hour), not in an empty answer.
    assertEquals(
        Optional.empty(), store.advanced().tryPin(5, "feed"), "pending: the decision may keep 5");
    assertFalse(pins.iterator().hasNext(), "the losing pin is gone");
    VersionPin at8 = store.advanced().tryPin(8, "feed").orElseThrow();
    at8.close();
    pins.decide(6);
    VersionPin at6 = store.advanced().tryPin(6, "feed").orElseThrow();
    VersionCompactedException e =
        assertThrows(VersionCompactedException.class, () -> store.advanced().tryPin(5, "feed"));
    assertEquals(6, e.watermark());
    assertEquals(
        11,
        store.advanced().tryPin(11, "caught-up feed").orElseThrow().version(),
        "the next commit");
    assertThrows(IllegalArgumentException.class, () -> store.advanced().tryPin(12, "feed"));
    // The waiting form refuses, after its short wait, a version whose decision stays pending.
    pins.propose(9);
    assertThrows(VersionCompactedException.class, () -> store.advanced().pin(7, "impatient"));
    pins.decide(6);
    store.advanced().pin(7, "patient").close();
    at6.close();
    await(store.close());
  }

  @Test
  void theRetentionWatermarkIgnoresPins() {
    ZVerseStore store = kit.open(TICKS.settings().withRetentionVersions(3));
    putVersions(store, 1, 2);
    try (ReadTransaction tx = store.readTransaction()) {
      putVersions(store, 3, 10);
      TICKS.tick(store);
      awaitStats(store, s -> s.version() == 10 && s.watermark() == 2, "the pin holding it at 2");
      assertEquals(2, tx.version());
      assertEquals(8, store.retentionWatermark());
    }
    await(store.close());
    assertEquals(8, store.retentionWatermark(), "also once closed");
  }

  /**
   * Handovers racing the EpochActor at retention 1 with a 1 ms tick and a writer flat out: after a
   * transaction hands its pin over and closes, the latest snapshot still reads its version for as
   * long as the taken pin is open. 2,000 handovers.
   */
  @Test
  void aHandedOverPinIsHonouredWhilePruningRaces() throws Exception {
    ZVerseStore store =
        realTime.open(
            realTime.settings().withEpochTick(Duration.ofMillis(1)).withRetentionVersions(1));
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicReference<Throwable> problem = new AtomicReference<>();
    AtomicLong checks = new AtomicLong();
    Thread writer =
        new Thread(
            () -> {
              for (int i = 0; running.get(); i++) {
                await(store.put("k" + (i % 4), Integer.toString(i)));
              }
            });
    Thread follower =
        new Thread(
            () -> {
              try {
                for (int n = 0; n < 2_000; n++) {
                  VersionPin pin;
                  String[] listed = new String[4];
                  long v;
                  try (ReadTransaction tx = store.readTransaction("lister")) {
                    v = tx.version();
                    for (int i = 0; i < 4; i++) {
                      listed[i] = tx.snapshot().get("k" + i);
                    }
                    pin = store.advanced().pin(tx, "follower");
                  }
                  for (int i = 0; i < 4; i++) {
                    String latest = store.snapshot().get("k" + i, v);
                    if (latest == null ? listed[i] != null : !latest.equals(listed[i])) {
                      throw new AssertionError("at " + v + ": " + latest + " != " + listed[i]);
                    }
                  }
                  pin.close();
                  checks.incrementAndGet();
                }
              } catch (Throwable e) {
                problem.compareAndSet(null, e);
              } finally {
                running.set(false);
              }
            });
    writer.start();
    follower.start();
    follower.join();
    writer.join();
    if (problem.get() != null) {
      throw new AssertionError("a handed-over pin was pruned past", problem.get());
    }
    assertEquals(2_000, checks.get());
    awaitStats(store, s -> s.pins() == 0 && s.watermark() == s.version(), "pruned");
    await(store.close());
  }
}
