package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LogCapturingExtension.class)
class CommitTimeTest {
  private static final Instant T = Instant.parse("2026-11-29T12:00:00Z");
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  @Test
  void theClockIsTheSystemClockUnlessSetAndCopiesKeepIt() {
    assertSame(InstantSource.system(), kit.settings().clock());
    ManualClock clock = new ManualClock(T);
    assertSame(clock, kit.settings().withClock(clock).withRetentionVersions(5).clock());
    NullPointerException e =
        assertThrows(NullPointerException.class, () -> kit.settings().withClock(null));
    assertEquals("clock", e.getMessage());
  }

  @Test
  void anInstantReadBeforeAWriteNeverReachesIt() {
    ZVerseStore store = kit.open(kit.settings());
    int reached = 0;
    for (int i = 0; i < 2_000; i++) {
      Instant before = Instant.now();
      long v = await(store.put("k", Integer.toString(i)));
      if (store.snapshot().versionAt(before) >= v) {
        reached++;
      }
    }
    assertEquals(0, reached, "writes reached by an instant read before they were sent");
    await(store.close());
  }

  @Test
  void versionAtTakesTheEndsOfTime() {
    ZVerseStore store = kit.open(kit.settings());
    assertEquals(0, store.snapshot().versionAt(Instant.MIN));
    assertEquals(0, store.snapshot().versionAt(Instant.MAX));
    long v = await(store.put("k", "v"));
    assertEquals(0, store.snapshot().versionAt(Instant.MIN));
    assertEquals(v, store.snapshot().versionAt(Instant.MAX));
    await(store.close());
  }

  @Test
  void retentionByDurationMeasuresTheStoresClock() {
    ManualClock clock = new ManualClock(T);
    ZVerseStore store =
        kit.open(
            kit.settings()
                .withRetentionVersions(1)
                .withRetentionDuration(Duration.ofMinutes(1))
                .withEpochTick(Duration.ofMillis(5))
                .withClock(clock));
    await(store.put("k", "1"));
    await(store.put("k", "2"));
    await(store.put("k", "3")); // versions 1 to 3 at T
    clock.set(T.plusSeconds(30));
    await(store.put("k", "4"));
    await(store.put("k", "5")); // versions 4 and 5 at T + 30 s

    clock.set(T.plusSeconds(61)); // a read as of T + 1 s needs version 3
    StoreTestKit.awaitStats(store, s -> s.watermark() >= 3, "watermark 3");
    assertEquals(3, store.snapshot().watermark());
    clock.set(T.plusSeconds(91)); // as of T + 31 s: version 5
    StoreTestKit.awaitStats(store, s -> s.watermark() >= 5, "watermark 5");
    assertEquals(5, store.snapshot().watermark());
    await(store.close());
  }

  @Test
  void commitTimesGoOnIncreasingAcrossAReopenWithAClockBehind(@TempDir Path dir) {
    ManualClock clock = new ManualClock(T.plusNanos(123_456_789));
    StoreSettings settings = kit.settings().withDataDirectory(dir).withClock(clock);
    ZVerseStore store = kit.open(settings);
    await(store.put("k", "1"));
    await(store.put("k", "2"));
    Instant second = store.snapshot().commitTime(2);
    assertEquals(T.plusNanos(123_458_000), second, "microseconds, the second a tie raised by one");
    await(store.close());

    clock.set(T.minusSeconds(3_600)); // the clock stepped back an hour while the store was closed
    store = kit.open(settings);
    assertEquals(second, store.snapshot().commitTime(2), "recovered to the microsecond");
    long v = await(store.put("k", "3"));
    assertEquals(second.plusNanos(1_000), store.snapshot().commitTime(v));
    await(store.close());
  }

  @Test
  void aClockThatFailsRefusesTheWriteAndNothingElse() {
    AtomicBoolean broken = new AtomicBoolean();
    IllegalStateException failure = new IllegalStateException("injected: the clock is broken");
    InstantSource clock =
        () -> {
          if (broken.get()) {
            throw failure;
          }
          return T;
        };
    ZVerseStore store = kit.open(kit.settings().withClock(clock));
    assertEquals(1, await(store.put("k", "1")));
    broken.set(true);
    assertSame(failure, awaitFailure(store.put("k", "2")));
    broken.set(false);
    assertEquals(2, await(store.put("k", "3")));
    assertEquals("3", store.get("k"));
    assertTrue(store.snapshot().commitTime(2).isAfter(store.snapshot().commitTime(1)));
    await(store.close());
  }
}
