package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CommitLogTest {
  @Test
  void aLogStartingAtAnyVersionAppendsGetsAndDrops() {
    long[] starts = {
      1, 2, 31, 32, 33, 64, 65, 1_000, 1_024, 1_025, 32_768, 32_769, 1_048_577, 40_000_001
    };
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
    Commit all = new Commit(1, 0, new byte[130][], new byte[130][]);
    assertSame(Commit.ALL, all.trims);
    for (int i = 0; i < 130; i++) {
      assertTrue(all.trims(i));
    }
    long[] bits = new long[3];
    bits[1] = 1L << 2; // change 66
    Commit some = new Commit(1, 0, new byte[130][], new byte[130][], bits);
    for (int i = 0; i < 130; i++) {
      assertEquals(i == 66, some.trims(i), "change " + i);
    }
  }
}
