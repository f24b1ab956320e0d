package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commit times through the durable log and checkpoints, of this format and of format 1. */
class CommitTimeDurabilityTest {
  private static final Instant BASE = Instant.parse("2026-11-29T12:00:00Z");

  private static DurableLog open(Path dir) throws IOException {
    return DurableLog.open(
        DurabilityOptions.in(dir).withSegmentBytes(4096),
        Limits.defaults(),
        ZIndexOptions.defaults().withSegmentEntries(64).withExecutor(Runnable::run));
  }

  /** Appends versions up to {@code to}, version {@code v} read by the clock at {@code clock(v)}. */
  private static Snapshot write(DurableLog log, Snapshot s, long to) throws IOException {
    while (s.version() < to) {
      Transient t = s.asTransient();
      t.apply(CrashWriter.batch(s.version() + 1), clock(s.version() + 1));
      Snapshot next = t.persistent();
      log.append(s, next);
      s = next;
    }
    return s;
  }

  /** Four versions in each millisecond, a few microseconds apart; version 13 at the end of time. */
  private static Instant clock(long v) {
    return v == 13 ? Instant.MAX : BASE.plusMillis(v / 4).plusNanos(1_500 * (v % 4));
  }

  private static List<Instant> times(Snapshot s) {
    List<Instant> out = new ArrayList<>();
    for (long v = 1; v <= s.version(); v++) {
      out.add(s.commitTime(v));
    }
    return out;
  }

  private static void checkVersions(Snapshot s) {
    for (long v = 1; v <= s.version(); v++) {
      assertEquals(
          CrashWriter.expected(v),
          s.changes(KeyRange.all(), v, v, QueryPath.COMMIT_WALK),
          "version " + v);
    }
  }

  @Test
  void microsecondCommitTimesSurviveTheLogAndCheckpoints(@TempDir Path dir) throws IOException {
    Snapshot s;
    try (DurableLog log = open(dir)) {
      s = write(log, log.recovered(), 12);
      log.checkpoint(s);
      s = write(log, s, 20);
    }
    List<Instant> written = times(s);
    assertEquals(BASE.plusNanos(2_000), written.get(0), "version 1, read at 1.5 us");
    assertEquals(BASE.plusNanos(4_000), written.get(1), "version 2, read at 3 us");
    assertEquals(CommitTimeProperties.END, written.get(12), "version 13, at the end of time");
    try (DurableLog log = open(dir)) {
      Snapshot r = log.recovered();
      assertTrue(log.recoveryReport().startsWith("checkpoint"), log.recoveryReport());
      assertEquals(written, times(r));
      checkVersions(r);
      for (Instant t : written) {
        assertEquals(s.versionAt(t.minusNanos(1)), r.versionAt(t.minusNanos(1)));
      }
      // The clock reached the end of time at version 13: later versions keep its last microsecond.
      Transient t = r.asTransient();
      t.apply(CrashWriter.batch(21), BASE);
      assertEquals(written.get(12), t.persistent().commitTime(21));
    }
  }

  @Test
  void aFormat1DirectoryOpensWithItsMillisecondsRaisedToIncreasingMicroseconds(@TempDir Path dir)
      throws IOException {
    Snapshot s;
    try (DurableLog log = open(dir)) {
      s = write(log, log.recovered(), 12);
      log.checkpoint(s);
      s = write(log, s, 20);
    }
    Format1.rewrite(dir);
    // Format 1 kept each time in milliseconds; opening reads it in microseconds, each raised to one
    // after the previous where the milliseconds tie.
    List<Instant> expected = new ArrayList<>();
    long previous = Long.MIN_VALUE;
    for (Instant t : times(s)) {
      long micros = Math.max(Math.floorDiv(Commit.micros(t), 1_000L) * 1_000L, previous + 1);
      expected.add(Commit.instant(micros));
      previous = micros;
    }
    assertEquals(BASE, expected.get(0));
    assertEquals(BASE.plusNanos(1_000), expected.get(1));
    Snapshot r;
    try (DurableLog log = open(dir)) {
      r = log.recovered();
      assertTrue(log.recoveryReport().startsWith("checkpoint"), log.recoveryReport());
      assertEquals(20, r.version());
      checkVersions(r);
      assertEquals(expected, times(r));
      // New versions go to a segment of the new format, after the old ones.
      r = write(log, r, 25);
    }
    try (DurableLog log = open(dir)) {
      assertEquals(times(r), times(log.recovered()));
      checkVersions(log.recovered());
    }
  }

  @Test
  void aFormat1LogWithoutCheckpointReplaysWithTheSameTimes(@TempDir Path dir) throws IOException {
    Snapshot s;
    try (DurableLog log = open(dir)) {
      s = write(log, log.recovered(), 12);
    }
    Format1.rewrite(dir);
    try (DurableLog log = open(dir)) {
      Snapshot r = log.recovered();
      assertEquals(12, r.version(), log.recoveryReport());
      checkVersions(r);
      for (long v = 1; v <= 12; v++) {
        long millis = Math.floorDiv(Commit.micros(s.commitTime(v)), 1_000L);
        Instant t = r.commitTime(v);
        assertTrue(!t.isBefore(Instant.ofEpochMilli(millis)), "version " + v + " at " + t);
        assertTrue(v == 1 || t.isAfter(r.commitTime(v - 1)), "version " + v + " after " + (v - 1));
      }
    }
  }
}
