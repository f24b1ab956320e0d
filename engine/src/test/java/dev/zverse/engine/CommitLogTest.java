package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class CommitLogTest {
  @Test
  void aLogStartingAtAnyVersionAppendsGetsAndDrops() {
    long[] starts = {1, 2, 31, 32, 33, 64, 65, 1_000, 1_024, 1_025, 32_768, 32_769, 1_048_577, 40_000_001};
    for (long start : starts) {
      CommitLog log = CommitLog.startingAt(start);
      assertEquals(start, log.firstVersion(), "empty log from " + start);
      for (long v = start; v < start + 3_000; v++) {
        log = log.append(new Commit(v, v * 10, new byte[0][], new byte[0][]));
      }
      for (long v = start; v < start + 3_000; v++) {
        assertEquals(v, log.get(v).version, "from " + start);
      }
      assertEquals(start + 2_999, log.lastVersion());
      assertEquals(start + 1_500, log.versionAt((start + 1_500) * 10));
      log = log.dropBefore(start + 1_000);
      assertEquals(start + 1_000, log.firstVersion());
      for (long v = start + 1_000; v < start + 3_000; v++) {
        assertEquals(v, log.get(v).version, "after drop, from " + start);
      }
    }
  }

  @Test
  void aCommitMadeWithoutTrimMarksMarksEveryChangeForTrimming() {
    // What recovery rebuilds from a checkpoint: the first prune past it visits every change.
    assertNull(new Commit(1, 0, new byte[0][], new byte[0][]).trims);
    for (int n : new int[] {1, 63, 64, 65, 128, 130}) {
      Commit c = new Commit(1, 0, new byte[n][], new byte[n][]);
      long[] expected = new long[(n + 63) / 64];
      for (int i = 0; i < n; i++) {
        expected[i / 64] |= 1L << (i % 64);
      }
      assertArrayEquals(expected, c.trims, n + " changes");
    }
  }
}
