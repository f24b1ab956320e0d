package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery tells a torn tail from damage (issue 14, section 4): each case found by damaging a data
 * directory by hand, kept here as the case that showed it. {@link CorruptionTableTest} sweeps them.
 */
class RecoveryTest {
  static DurableLog open(Path dir, boolean pastCorruption) throws IOException {
    return open(dir, pastCorruption, 1 << 20);
  }

  static DurableLog open(Path dir, boolean pastCorruption, long segmentBytes) throws IOException {
    return DurableLog.open(
        DurabilityOptions.in(dir)
            .withSegmentBytes(segmentBytes)
            .withRecoverPastCorruption(pastCorruption),
        Limits.defaults(),
        ZIndexOptions.defaults().withSegmentEntries(64).withExecutor(Runnable::run));
  }

  /**
   * Commits versions up to {@code to}, one record per version, checkpointing at {@code
   * checkpoints}.
   */
  static Snapshot write(DurableLog log, Snapshot s, long to, long... checkpoints)
      throws IOException {
    while (s.version() < to) {
      Snapshot next = s.apply(CrashWriter.batch(s.version() + 1));
      log.append(s, next);
      s = next;
      for (long c : checkpoints) {
        if (c == s.version()) {
          log.checkpoint(s);
        }
      }
    }
    return s;
  }

  /** Every version of {@code s} holds exactly what {@link CrashWriter} wrote at it. */
  static void checkHistory(Snapshot s, String report) {
    for (long v = Math.max(1, s.watermark()); v <= s.version(); v++) {
      assertEquals(
          CrashWriter.expected(v),
          s.changes(KeyRange.all(), v, v, QueryPath.COMMIT_WALK),
          "version " + v + ": " + report);
    }
  }

  private static void writeAndClose(Path dir, long to, long... checkpoints) throws IOException {
    try (DurableLog log = open(dir, false)) {
      write(log, log.recovered(), to, checkpoints);
    }
  }

  private static void assertNamesFileAndOffset(CorruptLogException e, Path file) {
    assertEquals(file, e.file(), e.getMessage());
    assertTrue(e.offset() >= 0, e.getMessage());
    assertTrue(
        e.getMessage().contains(file.toString()) && e.getMessage().contains("byte " + e.offset()),
        e.getMessage());
  }

  @Test
  void aFlippedLengthBitInTheMiddleOfTheLastSegmentIsDamageNotATornTail(@TempDir Path dir)
      throws IOException {
    writeAndClose(dir, 30);
    Path seg = LogFiles.lastSegment(dir);
    long at = LogFiles.records(seg).get(15);
    Path pristine = dir.resolveSibling(dir.getFileName() + "-pristine");
    LogFiles.copy(dir, pristine);
    for (int bit = 0; bit < 32; bit++) {
      LogFiles.delete(dir);
      LogFiles.copy(pristine, dir);
      LogFiles.flipBit(seg, at + 3 - bit / 8, bit % 8);
      CorruptLogException e =
          assertThrows(CorruptLogException.class, () -> open(dir, false), "bit " + bit);
      assertNamesFileAndOffset(e, seg);
      assertEquals(at, e.offset(), e.getMessage());
      try (DurableLog log = open(dir, true)) {
        assertEquals(15, log.recovered().version(), log.recoveryReport());
        checkHistory(log.recovered(), log.recoveryReport());
        assertTrue(
            log.recoveryReport().contains("dropped versions 16 to 30"), log.recoveryReport());
      }
    }
  }

  @Test
  void aFullLengthLastRecordWithABadChecksumIsDamageNotATornTail(@TempDir Path dir)
      throws IOException {
    writeAndClose(dir, 30);
    Path seg = LogFiles.lastSegment(dir);
    long at = LogFiles.records(seg).get(29);
    LogFiles.flipBit(seg, Files.size(seg) - 5, 2);
    CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(dir, false));
    assertNamesFileAndOffset(e, seg);
    assertEquals(at, e.offset(), e.getMessage());
    long bytes = Files.size(seg) - at;
    try (DurableLog log = open(dir, true)) {
      assertEquals(29, log.recovered().version(), log.recoveryReport());
      assertTrue(
          log.recoveryReport().contains("dropped version 30, " + bytes + " bytes"),
          log.recoveryReport());
    }
  }

  @Test
  void aTornLastRecordIsCutAndTheReportSaysWhatWasDropped(@TempDir Path dir) throws IOException {
    writeAndClose(dir, 30);
    Path seg = LogFiles.lastSegment(dir);
    long at = LogFiles.records(seg).get(29);
    long size = Files.size(seg);
    // The unwritten end of a record, from a sector boundary, reads as zeros.
    long sector = (at + 513) / 512 * 512;
    if (sector >= size) {
      LogFiles.truncate(seg, size - 7);
    } else {
      LogFiles.overwrite(seg, sector, new byte[(int) (size - sector)]);
    }
    long dropped = Files.size(seg) - at;
    try (DurableLog log = open(dir, false)) {
      assertEquals(29, log.recovered().version(), log.recoveryReport());
      String report = log.recoveryReport();
      assertTrue(report.contains("torn last record"), report);
      assertTrue(report.contains("dropped version 30, " + dropped + " bytes"), report);
    }
  }

  @Test
  void zerosAtTheEndOfTheLogAreATornTailWhateverTheSetting(@TempDir Path dir) throws IOException {
    writeAndClose(dir, 30);
    Path seg = LogFiles.lastSegment(dir);
    Path pristine = dir.resolveSibling(dir.getFileName() + "-pristine");
    LogFiles.copy(dir, pristine);
    for (boolean past : new boolean[] {false, true}) {
      for (int zeros : new int[] {8, 100, 5000}) {
        LogFiles.delete(dir);
        LogFiles.copy(pristine, dir);
        LogFiles.append(seg, new byte[zeros]);
        try (DurableLog log = open(dir, past)) {
          assertEquals(30, log.recovered().version(), log.recoveryReport());
          assertTrue(
              log.recoveryReport().contains("dropped no version, " + zeros + " zero bytes"),
              log.recoveryReport());
        }
      }
      // A zeroed last record: a zero length must never validate.
      LogFiles.delete(dir);
      LogFiles.copy(pristine, dir);
      long at = LogFiles.records(seg).get(29);
      LogFiles.overwrite(seg, at, new byte[(int) (Files.size(seg) - at)]);
      try (DurableLog log = open(dir, past)) {
        assertEquals(29, log.recovered().version(), log.recoveryReport());
        checkHistory(log.recovered(), log.recoveryReport());
      }
    }
  }

  @Test
  void damageInRecordsTheCheckpointHoldsIsSkipped(@TempDir Path dir) throws IOException {
    writeAndClose(dir, 400, 300);
    assertEquals(List.of(300L), DataDirectory.checkpointVersions(dir));
    Path seg = LogFiles.lastSegment(dir);
    List<Long> records = LogFiles.records(seg);
    Path pristine = dir.resolveSibling(dir.getFileName() + "-pristine");
    LogFiles.copy(dir, pristine);
    // The payload of version 150, then the length of version 150's record.
    long[] damage = {records.get(149) + 40, records.get(149) + 3};
    for (long at : damage) {
      for (boolean past : new boolean[] {false, true}) {
        LogFiles.delete(dir);
        LogFiles.copy(pristine, dir);
        LogFiles.flipBit(seg, at, 5);
        try (DurableLog log = open(dir, past)) {
          assertEquals(400, log.recovered().version(), log.recoveryReport());
          checkHistory(log.recovered(), log.recoveryReport());
          if (at == records.get(149) + 3) {
            // A damaged header is found while walking to version 301; a damaged payload is not
            // even read, since the header says the checkpoint holds its versions.
            assertTrue(
                log.recoveryReport().contains("version 150, which the checkpoint already holds"),
                log.recoveryReport());
          }
        }
      }
    }
  }

  @Test
  void aDamagedLastHeaderIsSkippedWhenItsPayloadShowsTheCheckpointHoldsIt(@TempDir Path dir)
      throws IOException {
    writeAndClose(dir, 30, 30); // as a clean close leaves it: a checkpoint of the last version
    Path seg = LogFiles.lastSegment(dir);
    long at = LogFiles.records(seg).get(29);
    Path pristine = dir.resolveSibling(dir.getFileName() + "-pristine");
    LogFiles.copy(dir, pristine);
    for (int bit = 0; bit < 24 * 8; bit++) {
      LogFiles.delete(dir);
      LogFiles.copy(pristine, dir);
      LogFiles.flipBit(seg, at + bit / 8, bit % 8);
      boolean payloadCrcField = bit / 8 >= 16 && bit / 8 < 20;
      if (payloadCrcField) {
        // Then nothing tells which versions the record held: refused, saying why.
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(dir, false));
        assertEquals(at, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains("cannot be shown to hold them"), e.getMessage());
      } else {
        try (DurableLog log = open(dir, false)) {
          assertEquals(30, log.recovered().version(), "bit " + bit + ": " + log.recoveryReport());
          assertTrue(
              log.recoveryReport().contains("version 30, which the checkpoint already holds"),
              log.recoveryReport());
        }
      }
    }
  }

  @Test
  void aFlippedBitInTheNewestCheckpointsHeaderFallsBackToTheOlderOne(@TempDir Path dir)
      throws IOException {
    writeAndClose(dir, 250, 100, 200);
    Path newest = dir.resolve(DataDirectory.checkpointName(200));
    Path pristine = dir.resolveSibling(dir.getFileName() + "-pristine");
    LogFiles.copy(dir, pristine);
    // A bit of the magic number, of the format, and of the header's checksum (the corruption
    // table flips every one).
    for (int bit : new int[] {0, 62, 64 + 24, 64 + 31, 96, 127}) {
      for (boolean past : new boolean[] {false, true}) {
        LogFiles.delete(dir);
        LogFiles.copy(pristine, dir);
        LogFiles.flipBit(newest, bit / 8, bit % 8);
        try (DurableLog log = open(dir, past)) {
          assertEquals(250, log.recovered().version(), "bit " + bit + ": " + log.recoveryReport());
          assertTrue(
              log.recoveryReport().contains("skipped damaged " + newest.getFileName()),
              log.recoveryReport());
          checkHistory(log.recovered(), log.recoveryReport());
        }
      }
    }
  }

  @Test
  void unfinishedCheckpointFilesAreRemovedOnOpen(@TempDir Path dir) throws IOException {
    writeAndClose(dir, 20, 10);
    Path tmp = dir.resolve(String.format("checkpoint-%020d.tmp", 15));
    Files.write(tmp, new byte[1000]);
    try (DurableLog log = open(dir, false)) {
      assertEquals(20, log.recovered().version());
      assertFalse(Files.exists(tmp), "unfinished checkpoint removed");
      assertTrue(
          log.recoveryReport().contains("removed 1 unfinished checkpoint file(s) of 1000 bytes"),
          log.recoveryReport());
    }
  }

  @Test
  void aCheckpointThatFailsItsChecksumNamesAnOffset(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir, false, 4096)) {
      write(log, log.recovered(), 320, 100, 200, 300);
    }
    assertTrue(
        DataDirectory.segmentVersions(dir).get(0) > 1, "the log no longer starts at version 1");
    for (long v : DataDirectory.checkpointVersions(dir)) {
      Path cp = dir.resolve(DataDirectory.checkpointName(v));
      LogFiles.flipBit(cp, Files.size(cp) / 2, 0);
    }
    CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(dir, false));
    assertTrue(e.offset() >= 0 && e.getMessage().contains("byte " + e.offset()), e.getMessage());
    assertTrue(e.getMessage().contains(".zvc"), e.getMessage());
  }

  @Test
  void aDataDirectoryThatIsAFileIsNamedAsNotADirectory(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("data");
    Files.write(file, new byte[1]);
    IOException e = assertThrows(IOException.class, () -> open(file, false));
    assertTrue(
        e.getMessage().contains(file.toString()) && e.getMessage().contains("not a directory"),
        e.getMessage());
  }

  @Test
  void format1FilesAreStillRead(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir, false, 4096)) {
      write(log, log.recovered(), 60, 20, 40);
    }
    Format1.rewrite(dir);
    Path last = LogFiles.lastSegment(dir);
    assertEquals(1, LogFiles.format(last));
    LogFiles.truncate(last, Files.size(last) - 3); // a torn format-1 record
    try (DurableLog log = open(dir, false, 4096)) {
      assertEquals(59, log.recovered().version(), log.recoveryReport());
      assertTrue(
          log.recoveryReport().contains("dropped the versions from 60 on"), log.recoveryReport());
      checkHistory(write(log, log.recovered(), 70), log.recoveryReport());
    }
    try (DurableLog log = open(dir, false, 4096)) {
      assertEquals(70, log.recovered().version(), log.recoveryReport());
      checkHistory(log.recovered(), log.recoveryReport());
      assertEquals(DurableLog.FORMAT, LogFiles.format(LogFiles.lastSegment(dir)));
    }
  }
}
