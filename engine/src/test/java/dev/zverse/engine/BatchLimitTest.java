package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch too big for the log is refused before it changes anything, and a group of batches too big
 * for one record is logged as several (issue 14: one batch of 129 values of 16 MiB failed a durable
 * store for good).
 */
class BatchLimitTest {
  private static byte[] bytes(int n) {
    return new byte[n];
  }

  @Test
  void aBatchOverMaxBatchBytesIsRefusedNamingTheLimitAndChangesNothing() {
    Limits limits = Limits.defaults().withMaxBatchBytes(1000);
    Snapshot s = Snapshot.empty(limits).apply(WriteBatch.ofPut("a", "1"));
    // Two puts of 8 + 1 + 492 bytes: 1002 bytes, two over the limit; one byte less fits exactly.
    WriteBatch over =
        WriteBatch.builder()
            .put("k".getBytes(), bytes(492))
            .put("l".getBytes(), bytes(492))
            .build();
    WriteBatch exact =
        WriteBatch.builder()
            .put("k".getBytes(), bytes(492))
            .put("l".getBytes(), bytes(490))
            .build();
    Transient t = s.asTransient();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.apply(over));
    assertTrue(e.getMessage().contains("batch is 1002 bytes"), e.getMessage());
    assertTrue(e.getMessage().contains("maxBatchBytes = 1000"), e.getMessage());
    assertEquals(1, t.version(), "nothing applied");
    assertEquals(2, t.apply(exact), "the transient stays usable, and a batch at the limit fits");
    assertNull(s.get("k"), "the snapshot is unchanged");
  }

  @Test
  void theBatchLimitIsBounded() {
    assertEquals(1 << 30, Limits.defaults().maxBatchBytes());
    for (int bad : new int[] {0, -1, Limits.CEILING_BATCH_BYTES + 1}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> Limits.defaults().withMaxBatchBytes(bad));
      assertTrue(
          e.getMessage().contains("maxBatchBytes must be in [1, 1610612736]"), e.getMessage());
    }
    // The largest batch, with its record's own fields, fits the largest record.
    assertTrue(
        (long) Limits.CEILING_BATCH_BYTES
                + CommitRecordCodec.MIN_PAYLOAD_BYTES
                + CommitRecordCodec.COMMIT_BYTES
            <= CommitRecordCodec.MAX_PAYLOAD_BYTES);
  }

  @Test
  void aGroupTooBigForOneRecordIsLoggedAsSeveral(@TempDir Path dir) throws IOException {
    Snapshot s;
    try (DurableLog log = RecoveryTest.open(dir, false)) {
      log.recordLimit = 1000;
      s = log.recovered();
      Transient t = s.asTransient();
      for (int v = 1; v <= 10; v++) {
        t.apply(WriteBatch.ofPut(("key" + v).getBytes(), bytes(300 + v)));
      }
      Snapshot next = t.persistent();
      log.append(s, next); // one group of 10 versions, about 3,200 bytes
      s = next;
    }
    assertTrue(LogFiles.records(LogFiles.lastSegment(dir)).size() >= 4, "split into records");
    try (DurableLog log = RecoveryTest.open(dir, false)) {
      Snapshot r = log.recovered();
      assertEquals(10, r.version(), log.recoveryReport());
      for (int v = 1; v <= 10; v++) {
        assertArrayEquals(bytes(300 + v), r.get(("key" + v).getBytes(StandardCharsets.UTF_8), v));
      }
    }
  }

  @Test
  void aVersionTooBigForARecordIsRefusedAndTheLogGoesOn(@TempDir Path dir) throws IOException {
    try (DurableLog log = RecoveryTest.open(dir, false)) {
      log.recordLimit = 1000;
      Snapshot s = log.recovered().apply(WriteBatch.ofPut("a", "1"));
      log.append(log.recovered(), s);
      Snapshot big = s.apply(WriteBatch.ofPut("b".getBytes(), bytes(2000)));
      Snapshot base = s;
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> log.append(base, big));
      assertTrue(e.getMessage().contains("over the largest record of 1000 bytes"), e.getMessage());
      assertEquals(1, log.loggedVersion(), "nothing logged");
      log.append(s, s.apply(WriteBatch.ofPut("c", "3")));
    }
    try (DurableLog log = RecoveryTest.open(dir, false)) {
      assertEquals(2, log.recovered().version(), log.recoveryReport());
      assertEquals("3", log.recovered().get("c"));
      assertNull(log.recovered().get("b"));
    }
  }

  /**
   * What the log holds was acknowledged: replay applies it whatever the limits are now. A range
   * delete logs every key it removed, which may add up to more than a batch may hold, and the
   * limits may have been lowered since.
   */
  @Test
  void replayAppliesWhatWasLoggedWhateverTheLimitsAreNow(@TempDir Path dir) throws IOException {
    Limits small = Limits.defaults().withMaxBatchBytes(1000);
    DurabilityOptions options = DurabilityOptions.in(dir);
    try (DurableLog log = DurableLog.open(options, small, ZIndexOptions.defaults())) {
      Snapshot s = log.recovered();
      for (int i = 0; i < 100; i++) {
        Snapshot next = s.apply(WriteBatch.ofPut("key-" + "x".repeat(40) + i, "v"));
        log.append(s, next);
        s = next;
      }
      Snapshot cleared = s.apply(WriteBatch.builder().deleteRange(KeyRange.all()).build());
      log.append(s, cleared); // about 5,000 bytes of tombstones logged in one version
      Snapshot longKey = cleared.apply(WriteBatch.ofPut("k".repeat(100), "v"));
      log.append(cleared, longKey);
    }
    Limits smaller = small.withMaxKeyBytes(10);
    try (DurableLog log = DurableLog.open(options, smaller, ZIndexOptions.defaults())) {
      Snapshot r = log.recovered();
      assertEquals(102, r.version(), log.recoveryReport());
      assertEquals(0, r.count(KeyRange.prefix("key-"), 101));
      assertEquals(100, r.count(KeyRange.prefix("key-"), 100));
    }
  }
}
