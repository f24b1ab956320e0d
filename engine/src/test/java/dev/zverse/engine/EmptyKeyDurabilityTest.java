package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The empty key is a key like any other (the model properties write it too): here it goes through
 * the write-ahead log and a checkpoint, which store a key's length before its bytes.
 */
class EmptyKeyDurabilityTest {
  private static DurableLog open(Path dir) throws Exception {
    return DurableLog.open(DurabilityOptions.in(dir), Limits.defaults(), ZIndexOptions.defaults());
  }

  @Test
  void theEmptyKeyIsReplayedFromTheLogAndLoadedFromACheckpoint(@TempDir Path dir) throws Exception {
    try (DurableLog log = open(dir)) {
      Snapshot s0 = log.recovered();
      Snapshot s1 = s0.apply(WriteBatch.builder().put("", "first").put("a", "1").build());
      log.append(s0, s1);
      Snapshot s2 = s1.apply(WriteBatch.ofPut("", "second"));
      log.append(s1, s2);
    }
    try (DurableLog log = open(dir)) { // from the log alone
      Snapshot s = log.recovered();
      assertEquals("second", s.get(""));
      assertEquals("first", s.get("", 1));
      assertEquals(List.of("", "a"), s.scan(KeyRange.all()).stream().map(Entry::keyUtf8).toList());
      Snapshot s3 = s.apply(WriteBatch.ofDelete(""));
      log.append(s, s3);
      log.checkpoint(s3);
    }
    try (DurableLog log = open(dir)) { // from the checkpoint
      Snapshot s = log.recovered();
      assertNull(s.get(""));
      assertEquals(List.of(1L, 2L, 3L), s.history("").stream().map(Change::version).toList());
    }
  }
}
