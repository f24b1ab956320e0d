package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Turns the files of a data directory into format 1, what ZVerse wrote before file and record
 * headers had their own checksums and commit times had microseconds: 12-byte file headers, records
 * of payload length, payload CRC32C and payload, and every commit time in milliseconds (rounded
 * down), each record and checkpoint body checksummed again. What an old directory looks like, for
 * the tests that open one.
 */
final class Format1 {
  private Format1() {}

  /** Rewrites every log segment and checkpoint of {@code dir} in format 1. */
  static void rewrite(Path dir) throws IOException {
    for (long v : DataDirectory.segmentVersions(dir)) {
      rewriteSegment(dir.resolve(DataDirectory.segmentName(v)));
    }
    for (long v : DataDirectory.checkpointVersions(dir)) {
      rewriteCheckpoint(dir.resolve(DataDirectory.checkpointName(v)));
    }
  }

  private static long millis(long micros) {
    return Math.floorDiv(micros, 1_000L);
  }

  /** Rewrites one segment of the current format in format 1 (see {@link DurableLog}). */
  static void rewriteSegment(Path file) throws IOException {
    byte[] b = Files.readAllBytes(file);
    int header = CommitRecordCodec.HEADER_BYTES;
    ByteBuffer out = ByteBuffer.allocate(b.length).put(b, 0, 8).putInt(1);
    for (long record : LogFiles.records(file)) {
      int at = (int) record;
      int length = ByteBuffer.wrap(b).getInt(at);
      ByteBuffer payload =
          ByteBuffer.wrap(Arrays.copyOfRange(b, at + header, at + header + length));
      int p = 1 + 8; // type, first version
      int count = payload.getInt(p);
      p += 4 + 8; // count, watermark
      for (int i = 0; i < count; i++) {
        payload.putLong(p, millis(payload.getLong(p)));
        p += 8;
        int changes = payload.getInt(p);
        p += 4;
        for (int c = 0; c < changes; c++) {
          p += 4 + payload.getInt(p); // key
          int n = payload.getInt(p);
          p += 4 + Math.max(0, n); // value, or -1 for a delete
        }
      }
      CRC32C crc = new CRC32C();
      crc.update(payload.array());
      out.putInt(length).putInt((int) crc.getValue()).put(payload.array());
    }
    Files.write(file, Arrays.copyOf(out.array(), out.position()));
  }

  /**
   * Rewrites one checkpoint in format 1. Body: version, watermark, last commit time, first retained
   * version, commit count, the commit times, the chains; then the body's CRC32C and the end magic.
   */
  static void rewriteCheckpoint(Path file) throws IOException {
    byte[] in = Files.readAllBytes(file);
    int dropped = FileHeader.CHECKED_BYTES - FileHeader.LEGACY_BYTES;
    ByteBuffer b = ByteBuffer.allocate(in.length - dropped).put(in, 0, 8).putInt(1);
    b.put(in, FileHeader.CHECKED_BYTES, in.length - FileHeader.CHECKED_BYTES);
    int body = FileHeader.LEGACY_BYTES;
    b.putLong(body + 16, millis(b.getLong(body + 16)));
    long count = b.getLong(body + 32);
    for (int i = 0; i < count; i++) {
      int at = body + 40 + 8 * i;
      b.putLong(at, millis(b.getLong(at)));
    }
    int end = b.limit() - 12;
    CRC32C crc = new CRC32C();
    crc.update(b.array(), body, end - body);
    b.putInt(end, (int) crc.getValue());
    Files.write(file, b.array());
  }
}
