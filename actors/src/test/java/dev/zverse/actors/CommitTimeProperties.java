package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Commit times of a store driven by a manual clock, against a model: every write of a group reads
 * the same clock (ties), the clock moves between groups by a few nanoseconds either way or jumps,
 * and each write commits at the first microsecond after the clock's reading, or one microsecond
 * after the previous commit if that is later. An instant read just before a write is sent never
 * reaches the write's version, whatever the clock did before.
 */
class CommitTimeProperties {
  private static final Instant START = Instant.parse("2026-11-29T12:00:00.000000300Z");
  private static StoreTestKit kit;

  @BeforeContainer
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterContainer
  static void stop() {
    kit.shutdown();
  }

  /** Move the clock by {@code nanos} (back if negative), then send {@code writes} writes. */
  record Group(long nanos, int writes) {}

  @Provide
  Arbitrary<List<Group>> scripts() {
    Arbitrary<Long> moves =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just(0L)),
            Tuple.of(4, Arbitraries.longs().between(-3_000, 3_000)),
            Tuple.of(1, Arbitraries.longs().between(-60_000_000_000L, 60_000_000_000L)));
    return Combinators.combine(moves, Arbitraries.integers().between(1, 6))
        .as(Group::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(30);
  }

  @Property(tries = 30)
  void commitTimesFollowTheStoresClock(@ForAll("scripts") List<Group> script) {
    ManualClock clock = new ManualClock(START);
    ZVerseStore store =
        kit.open(kit.settings().withRetentionVersions(Long.MAX_VALUE).withClock(clock));
    List<Instant> readBefore = new ArrayList<>();
    List<Instant> expected = new ArrayList<>();
    Instant last = Instant.MIN;
    for (Group g : script) {
      Instant now = clock.move(Duration.ofNanos(g.nanos()));
      List<CompletionStage<Long>> sent = new ArrayList<>();
      for (int i = 0; i < g.writes(); i++) {
        readBefore.add(clock.instant());
        sent.add(store.put("k", Integer.toString(readBefore.size())));
        Instant stamp = now.truncatedTo(ChronoUnit.MICROS).plusNanos(1_000);
        last = stamp.isAfter(last) ? stamp : last.plusNanos(1_000);
        expected.add(last);
      }
      // The clock moves only while no write is in flight: the writer reads it as each came.
      for (int i = 0; i < sent.size(); i++) {
        assertEquals(expected.size() - sent.size() + i + 1, await(sent.get(i)));
      }
    }
    Snapshot s = store.snapshot();
    for (int v = 1; v <= expected.size(); v++) {
      assertEquals(expected.get(v - 1), s.commitTime(v), "commit time of version " + v);
      assertTrue(s.versionAt(readBefore.get(v - 1)) < v, "read before " + v + " reaches it");
      assertEquals(v, s.versionAt(s.commitTime(v)));
    }
    await(store.close());
  }
}
