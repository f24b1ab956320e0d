package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.DoubleRange;

/**
 * Commit times against a model written with {@link Instant} arithmetic only: a batch applied at a
 * clock reading {@code r} commits at the first microsecond after {@code r}, or one microsecond
 * after the previous commit if that is later, both capped at the last instant a {@code long} of
 * microseconds holds; {@link Snapshot#versionAt} of an instant is the number of commits at or
 * before it. Clock readings come from anywhere in {@link Instant}'s range, from around the ends of
 * the microsecond range, and from a few microseconds around one instant, where ties and clocks that
 * step back are common.
 */
class CommitTimeProperties {
  /** The first and last instants a long of microseconds since the epoch holds. */
  static final Instant START = Instant.EPOCH.plus(Long.MIN_VALUE, ChronoUnit.MICROS);

  static final Instant END = Instant.EPOCH.plus(Long.MAX_VALUE, ChronoUnit.MICROS);

  private static final Instant NOW = Instant.parse("2026-11-29T12:00:00.000000500Z");

  @Provide
  Arbitrary<Instant> instants() {
    Arbitrary<Instant> anywhere =
        Combinators.combine(
                Arbitraries.longs()
                    .between(Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond()),
                Arbitraries.longs().between(0, 999_999_999))
            .as(Instant::ofEpochSecond);
    Arbitrary<Long> nanos = Arbitraries.longs().between(-3_000, 3_000);
    Arbitrary<Instant> nearNow = nanos.map(NOW::plusNanos);
    Arbitrary<Instant> nearStart = nanos.map(START::plusNanos);
    Arbitrary<Instant> nearEnd = nanos.map(END::plusNanos);
    Arbitrary<Instant> ends = Arbitraries.of(Instant.MIN, Instant.MAX, Instant.EPOCH, START, END);
    return Arbitraries.frequencyOf(
        Tuple.of(2, anywhere),
        Tuple.of(6, nearNow),
        Tuple.of(1, nearStart),
        Tuple.of(1, nearEnd),
        Tuple.of(1, ends));
  }

  @Provide
  Arbitrary<List<Instant>> readings() {
    return instants().list().ofMinSize(1).ofMaxSize(40);
  }

  /** The first microsecond after {@code reading}, in the microsecond range. */
  static Instant firstMicroAfter(Instant reading) {
    if (!reading.isBefore(END)) {
      return END;
    }
    Instant floor = reading.isBefore(START) ? START : reading.truncatedTo(ChronoUnit.MICROS);
    return floor.plusNanos(1_000);
  }

  @Property(tries = 500)
  void commitTimesFollowTheClockAndVersionAtFollowsThem(
      @ForAll("readings") List<Instant> readings,
      @ForAll("readings") List<Instant> probes,
      @ForAll @DoubleRange(min = 0, max = 1) double pruneAt) {
    Transient t = Snapshot.empty().asTransient();
    for (Instant r : readings) {
      t.apply(WriteBatch.ofPut("k", "v"), r);
    }
    Snapshot s = t.persistent();
    int n = readings.size();
    List<Instant> times = new ArrayList<>();
    Instant previous = null;
    for (int v = 1; v <= n; v++) {
      Instant reading = readings.get(v - 1);
      Instant expected = firstMicroAfter(reading);
      if (previous != null && !expected.isAfter(previous)) {
        expected = firstMicroAfter(previous);
      }
      Instant c = s.commitTime(v);
      assertEquals(expected, c, "commit time of version " + v + " read at " + reading);
      assertTrue(c.isAfter(reading) || !reading.isBefore(END), "after its reading");
      assertTrue(previous == null || c.isAfter(previous) || c.equals(END), "after the previous");
      times.add(c);
      previous = c;
    }

    List<Instant> all = new ArrayList<>(probes);
    all.addAll(readings);
    for (Instant c : times) {
      all.add(c);
      all.add(c.minusNanos(1));
      all.add(c.plusNanos(999));
    }
    long watermark = (long) (pruneAt * n);
    Snapshot pruned = s.prune(watermark);
    for (Instant p : all) {
      long model = times.stream().filter(c -> !c.isAfter(p)).count();
      assertEquals(model, s.versionAt(p), "versionAt " + p + " over " + times);
      if (model >= watermark) {
        assertEquals(model, pruned.versionAt(p), "pruned to " + watermark + ", versionAt " + p);
      } else {
        assertThrows(VersionCompactedException.class, () -> pruned.versionAt(p));
      }
    }
    // An instant read before a write never reaches it, unless the clock went back below it since.
    for (int u = 1; u <= n; u++) {
      for (int v = u; v <= n; v++) {
        Instant early = readings.get(u - 1);
        Instant late = readings.get(v - 1);
        if (!early.isAfter(late) && late.isBefore(END)) {
          assertTrue(s.versionAt(early) < v, "reading " + u + " reaches version " + v);
        }
      }
    }
  }

  @Property(tries = 2_000)
  void everyInstantHasItsMicrosecondSaturatedToALong(@ForAll("instants") Instant t) {
    BigInteger exact =
        BigInteger.valueOf(t.getEpochSecond())
            .multiply(BigInteger.valueOf(1_000_000))
            .add(BigInteger.valueOf(t.getNano() / 1_000));
    BigInteger clamped =
        exact.max(BigInteger.valueOf(Long.MIN_VALUE)).min(BigInteger.valueOf(Long.MAX_VALUE));
    long micros = Commit.micros(t);
    assertEquals(clamped.longValueExact(), micros);
    if (!t.isBefore(START) && t.isBefore(END.plusNanos(1_000))) {
      assertEquals(t.truncatedTo(ChronoUnit.MICROS), Commit.instant(micros));
    }
    long millis = t.getEpochSecond() % 1_000_000_000_000_000L;
    assertEquals(
        BigInteger.valueOf(millis)
            .multiply(BigInteger.valueOf(1_000))
            .max(BigInteger.valueOf(Long.MIN_VALUE))
            .min(BigInteger.valueOf(Long.MAX_VALUE))
            .longValueExact(),
        Commit.microsOfMillis(millis));
  }
}
