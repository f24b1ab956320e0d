package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableLogTest {
  private static DurableLog open(Path dir) throws IOException {
    return open(DurabilityOptions.in(dir).withSegmentBytes(4096));
  }

  private static DurableLog open(DurabilityOptions options) throws IOException {
    return DurableLog.open(
        options,
        Limits.defaults(),
        ZIndexOptions.defaults().withSegmentEntries(64).withExecutor(Runnable::run));
  }

  /** Commits versions up to {@code to} through the log, one group per version. */
  private static Snapshot write(DurableLog log, Snapshot s, long to) throws IOException {
    while (s.version() < to) {
      Snapshot next = s.apply(CrashWriter.batch(s.version() + 1));
      log.append(s, next);
      s = next;
    }
    return s;
  }

  private static void checkVersions(Snapshot s, long from) {
    for (long v = from; v <= s.version(); v++) {
      assertEquals(
          CrashWriter.expected(v),
          s.changes(KeyRange.all(), v, v, QueryPath.COMMIT_WALK),
          "version " + v);
    }
  }

  @Test
  void recoveryAgreesWithTheModelAcrossCheckpointsPrunesAndReopens(@TempDir Path dir)
      throws IOException {
    Random rnd = new Random(5);
    ReferenceModel model = new ReferenceModel();
    List<byte[]> keys = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      keys.add(("key/" + (i % 7) + "/" + i).getBytes(StandardCharsets.UTF_8));
    }
    DurableLog log = open(dir);
    Snapshot s = log.recovered();
    for (int round = 0; round < 12; round++) {
      for (int g = 0; g < 40; g++) {
        Transient t = s.asTransient();
        int batches = 1 + rnd.nextInt(3);
        for (int b = 0; b < batches; b++) {
          WriteBatch.Builder batch = WriteBatch.builder();
          List<ReferenceModel.Op> ops = new ArrayList<>();
          for (int o = rnd.nextInt(5); o > 0; o--) {
            byte[] k = keys.get(rnd.nextInt(keys.size()));
            int kind = rnd.nextInt(10);
            if (kind < 6) {
              byte[] v = ("v" + rnd.nextInt(1000)).getBytes(StandardCharsets.UTF_8);
              batch.put(k, v);
              ops.add(new ReferenceModel.Put(k, v));
            } else if (kind < 9) {
              batch.delete(k);
              ops.add(new ReferenceModel.Delete(k));
            } else {
              KeyRange r = KeyRange.prefix("key/" + rnd.nextInt(7));
              batch.deleteRange(r);
              ops.add(new ReferenceModel.DeleteRange(r));
            }
          }
          t.apply(batch.build(), Instant.ofEpochMilli(1_000L * (model.version + 1)));
          model.apply(ops);
        }
        Snapshot next = t.persistent();
        log.append(s, next);
        s = next;
        if (rnd.nextInt(10) == 0) {
          s = s.prune(s.watermark() + rnd.nextInt((int) (s.version() - s.watermark()) + 1));
        }
      }
      if (rnd.nextBoolean()) {
        log.checkpoint(s);
      }
      if (round % 3 == 2) {
        log.close();
        log = open(dir);
        Snapshot r = log.recovered();
        assertEquals(s.version(), r.version(), log.recoveryReport());
        assertTrue(r.watermark() <= s.watermark());
        SnapshotModelProperties.checkEverything(r.prune(s.watermark()), model);
        Instant mid = Instant.ofEpochMilli(500 + 1_000 * ((s.watermark() + s.version()) / 2));
        assertEquals(s.versionAt(mid), r.versionAt(mid), "commit times survive");
        s = r.prune(s.watermark());
      }
    }
    log.close();
    assertTrue(DataDirectory.segmentVersions(dir).size() < 40, "checkpoints let old segments go");
  }

  @Test
  void aTornLastRecordIsCutOffAndVersionsGoOn(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      write(log, log.recovered(), 30);
    }
    Path last = lastSegment(dir);
    try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
      f.setLength(f.length() - 3);
    }
    try (DurableLog log = open(dir)) {
      Snapshot s = log.recovered();
      assertEquals(29, s.version(), log.recoveryReport());
      assertTrue(log.recoveryReport().contains("torn"), log.recoveryReport());
      checkVersions(write(log, s, 40), 1);
    }
    try (DurableLog log = open(dir)) {
      assertEquals(40, log.recovered().version());
      checkVersions(log.recovered(), 1);
    }
  }

  @Test
  void aDamagedRecordWithWholeRecordsAfterItStopsTheOpen(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(DurabilityOptions.in(dir).withSegmentBytes(1 << 20))) {
      write(log, log.recovered(), 30);
    }
    Path seg = lastSegment(dir);
    long size = Files.size(seg);
    long at = size / 2;
    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x10);
    }
    CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(dir));
    assertEquals(seg, e.file());
    assertTrue(e.offset() <= at && e.offset() >= 12, e.getMessage());
    assertTrue(
        e.getMessage().contains(seg.toString()) && e.getMessage().contains("byte " + e.offset()),
        e.getMessage());

    try (DurableLog log =
        open(DurabilityOptions.in(dir).withSegmentBytes(1 << 20).withRecoverPastCorruption(true))) {
      Snapshot s = log.recovered();
      assertTrue(s.version() > 0 && s.version() < 30, log.recoveryReport());
      checkVersions(s, 1);
      checkVersions(write(log, s, 35), 1);
    }
  }

  @Test
  void aTruncatedCheckpointFallsBackToTheOlderOneAndTheLog(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      Snapshot s = write(log, log.recovered(), 100);
      log.checkpoint(s);
      s = write(log, s, 200);
      log.checkpoint(s);
      s = write(log, s, 300);
      log.checkpoint(s);
      write(log, s, 320);
    }
    List<Long> cps = DataDirectory.checkpointVersions(dir);
    assertEquals(List.of(200L, 300L), cps, "the newest two checkpoints are kept");
    Path newest = dir.resolve(DataDirectory.checkpointName(300));
    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    try (DurableLog log = open(dir)) {
      assertEquals(320, log.recovered().version());
      assertTrue(log.recoveryReport().contains("skipped damaged"), log.recoveryReport());
      checkVersions(log.recovered(), 1);
    }
  }

  @Test
  void aMissingSegmentIsAGapThatStopsTheOpen(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      write(log, log.recovered(), 200);
    }
    List<Long> segs = DataDirectory.segmentVersions(dir);
    assertTrue(segs.size() >= 3, "segments: " + segs);
    Files.delete(dir.resolve(DataDirectory.segmentName(segs.get(1))));
    CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(dir));
    assertTrue(e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void newerFormatsAreRefused(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      log.checkpoint(write(log, log.recovered(), 10));
    }
    Path cp = dir.resolve(DataDirectory.checkpointName(10));
    patchFormat(cp, 99);
    UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class, () -> open(dir));
    assertTrue(e.getMessage().contains("format 99 at byte 8"), e.getMessage());
    patchFormat(cp, Checkpoint.FORMAT);
    patchFormat(lastSegment(dir), 7);
    e = assertThrows(UnsupportedFormatException.class, () -> open(dir));
    assertTrue(e.getMessage().contains("log segment format 7 at byte 8"), e.getMessage());
  }

  @Test
  void theDirectoryTakesOneStoreAtATime(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> open(dir));
      assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }
    open(dir).close(); // free again after close
  }

  @Test
  void anIoErrorFailsTheAppendAndEveryLaterOneButKeepsWhatWasAcknowledged(@TempDir Path dir)
      throws IOException {
    Snapshot s;
    try (DurableLog log = open(dir)) {
      s = write(log, log.recovered(), 20);
      log.fault =
          () -> {
            throw new IOException("No space left on device");
          };
      Snapshot base = s;
      Snapshot next = s.apply(CrashWriter.batch(21));
      IOException e = assertThrows(IOException.class, () -> log.append(base, next));
      assertEquals("No space left on device", e.getMessage());
      log.fault = null;
      IllegalStateException later =
          assertThrows(IllegalStateException.class, () -> log.append(base, next));
      assertTrue(later.getMessage().contains("No space left on device"), later.getMessage());
      // The published snapshot still reads.
      assertEquals(
          "on19",
          new String(s.get("toggle".getBytes(StandardCharsets.UTF_8), 19), StandardCharsets.UTF_8));
    }
    try (DurableLog log = open(dir)) {
      assertEquals(20, log.recovered().version());
      checkVersions(log.recovered(), 1);
    }
  }

  @Test
  void appendChecksItsArguments(@TempDir Path dir) throws IOException {
    try (DurableLog log = open(dir)) {
      Snapshot s = write(log, log.recovered(), 5);
      Snapshot skipped = s.apply(CrashWriter.batch(6));
      Snapshot next = skipped.apply(CrashWriter.batch(7));
      assertThrows(IllegalArgumentException.class, () -> log.append(skipped, next));
      log.close();
      assertThrows(IllegalStateException.class, () -> log.append(s, skipped));
    }
  }

  private static Path lastSegment(Path dir) throws IOException {
    List<Long> segs = DataDirectory.segmentVersions(dir);
    return dir.resolve(DataDirectory.segmentName(segs.get(segs.size() - 1)));
  }

  /** Rewrites the header as a newer ZVerse would: its checksum holds, so it is no damage. */
  private static void patchFormat(Path file, int format) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(8);
      f.writeInt(format);
      byte[] header = new byte[FileHeader.LEGACY_BYTES];
      f.seek(0);
      f.readFully(header);
      f.writeInt(FileHeader.crc(header, 0, header.length));
    }
  }
}
