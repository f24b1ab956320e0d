package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fault hook the tests above the engine use: what each fault does, and its bounds. */
class LogFaultsTest {
  private static DurableLog open(Path dir) throws IOException {
    return DurableLog.open(DurabilityOptions.in(dir), Limits.defaults(), ZIndexOptions.disabled());
  }

  /** {@code s} with the versions after it up to {@code to}, one {@link CrashWriter#batch} each. */
  private static Snapshot next(Snapshot s, long to) {
    Transient t = s.asTransient();
    while (t.version() < to) {
      t.apply(CrashWriter.batch(t.version() + 1));
    }
    return t.persistent();
  }

  @Test
  void anInjectedWriteErrorFailsTheAppendAndTheLogKeepsWhatCameBefore(@TempDir Path dir)
      throws IOException {
    try (DurableLog log = open(dir)) {
      Snapshot one = next(log.recovered(), 1);
      log.append(log.recovered(), one);
      IOException diskFull = new IOException("disk full, for the test");
      LogFaults.failWrites(log, diskFull);
      assertSame(diskFull, assertThrows(IOException.class, () -> log.append(one, next(one, 2))));
      IllegalStateException later =
          assertThrows(IllegalStateException.class, () -> log.append(one, next(one, 2)));
      assertSame(diskFull, later.getCause(), "a failed log refuses later appends with the error");
      LogFaults.clear(log);
      assertThrows(
          IllegalStateException.class,
          () -> log.append(one, next(one, 2)),
          "clearing the fault does not heal a failed log");
    }
    try (DurableLog reopened = open(dir)) {
      assertEquals(1, reopened.recovered().version(), reopened.recoveryReport());
    }
  }

  @Test
  void aRecordLimitSplitsAGroupAndRefusesAVersionOverIt(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      LogFaults.limitRecords(log, 150);
      Snapshot group = next(log.recovered(), 3);
      log.append(log.recovered(), group);
      assertEquals(
          3,
          LogFiles.records(LogFiles.lastSegment(dir)).size(),
          "a group of three versions of about 90 bytes each is three records under 150 bytes");

      LogFaults.limitRecords(log, CommitRecordCodec.MIN_PAYLOAD_BYTES);
      IllegalArgumentException tooBig =
          assertThrows(IllegalArgumentException.class, () -> log.append(group, next(group, 4)));
      assertTrue(
          tooBig.getMessage().contains("over the largest record of 21 bytes"), tooBig.getMessage());
      LogFaults.clear(log);
      log.append(group, next(group, 4));
      assertEquals(4, log.loggedVersion(), "a refused version leaves the log usable");
    }
  }

  @Test
  void aRecordLimitOutOfBoundsIsRefusedNamingTheBounds(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> LogFaults.limitRecords(log, 20));
      assertEquals(
          "bytes must be in [21, " + CommitRecordCodec.MAX_PAYLOAD_BYTES + "], was 20",
          e.getMessage());
      assertThrows(NullPointerException.class, () -> LogFaults.failWrites(log, null));
      Snapshot one = next(log.recovered(), 1);
      log.append(log.recovered(), one);
      assertEquals(1, log.loggedVersion(), "a refused limit leaves the log as it was");
    }
  }
}
