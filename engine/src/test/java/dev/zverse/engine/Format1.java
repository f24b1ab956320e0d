package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Turns the files of a data directory into format 1, what ZVerse wrote before commit times had
 * microseconds: the same layout with every commit time in milliseconds (rounded down), each record
 * and checkpoint body checksummed again. What an old directory looks like, for the tests that open
 * one.
 */
final class Format1 {
  private Format1() {}

  /** Rewrites every log segment and checkpoint of {@code dir} in format 1. */
  static void rewrite(Path dir) throws IOException {
    for (long v : DurableLog.segmentVersions(dir)) {
      rewriteSegment(dir.resolve(DurableLog.segmentName(v)));
    }
    for (long v : DurableLog.checkpointVersions(dir)) {
      rewriteCheckpoint(dir.resolve(DurableLog.checkpointName(v)));
    }
  }

  private static long millis(long micros) {
    return Math.floorDiv(micros, 1_000L);
  }

  /** Header (magic, format), then records: length, CRC32C, payload (see DurableLog#encode). */
  static void rewriteSegment(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
    b.putInt(8, 1);
    int pos = DurableLog.HEADER_BYTES;
    while (pos < b.limit()) {
      int length = b.getInt(pos);
      int payload = pos + 8;
      int at = payload + 1 + 8; // type, first version
      int count = b.getInt(at);
      at += 4 + 8; // count, watermark
      for (int i = 0; i < count; i++) {
        b.putLong(at, millis(b.getLong(at)));
        at += 8;
        int changes = b.getInt(at);
        at += 4;
        for (int c = 0; c < changes; c++) {
          at += 4 + b.getInt(at); // key
          int n = b.getInt(at);
          at += 4 + Math.max(0, n); // value, or -1 for a delete
        }
      }
      CRC32C crc = new CRC32C();
      crc.update(b.array(), payload, length);
      b.putInt(pos + 4, (int) crc.getValue());
      pos = payload + length;
    }
    Files.write(file, b.array());
  }

  /**
   * Header (magic, format); body: version, watermark, last commit time, first retained version,
   * commit count, the commit times, the chains; then the body's CRC32C and the end magic.
   */
  static void rewriteCheckpoint(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
    b.putInt(8, 1);
    int body = 12;
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
