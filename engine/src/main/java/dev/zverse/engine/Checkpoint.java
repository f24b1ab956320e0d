package dev.zverse.engine;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A snapshot with its retained history in one file: what recovery loads before replaying the log.
 *
 * <h2>Format (version {@value #FORMAT})</h2>
 *
 * <pre>
 * magic "ZVERSCKP" (8 bytes), format version (int), CRC32C of those 12 bytes (int)
 * body:
 *   version, watermark, last commit time, first retained commit version (longs)
 *   commit count (long), then each retained commit's time (long)
 *   key count (long), then per key in key order:
 *     key length (int), key bytes, chain length (int), then per chain node, newest first:
 *       version (long), kind (byte: 0 delete, 1 put), for a put: create version (long),
 *       value length (int), value bytes
 * CRC32C of the body (int), end magic "ZVCKPEND" (8 bytes)
 * </pre>
 *
 * A damaged header (its checksum fails) is damage, and recovery falls back to the older checkpoint;
 * a whole header of a newer format is refused (see {@link FileHeader}). Times are in microseconds
 * since the epoch. Format 1 is still read: it differs in the header, which has no checksum, and in
 * the times, which it kept in milliseconds (reading raises the ties they leave to increasing
 * times).
 *
 * <p>The commits' key lists are not written: a retained commit's keys are exactly the keys with a
 * chain node at its version, so reading rebuilds them from the chains. The same bytes, cut into
 * framed chunks, are what {@link SnapshotExport} sends and {@link SnapshotImport} reads: {@link
 * SnapshotEncoder} and {@link SnapshotDecoder} are the one writer and reader of the format, for
 * files and streams alike. Stateless.
 */
final class Checkpoint {
  static final long MAGIC = 0x5A56_4552_5343_4B50L; // "ZVERSCKP"
  static final long END = 0x5A56_434B_5045_4E44L; // "ZVCKPEND"
  static final int FORMAT = 3;

  /** The older formats still read: their header has no checksum. */
  static final int[] LEGACY_FORMATS = {1};

  /** The body's CRC32C and {@link #END}. */
  private static final int TAIL_BYTES = 12;

  /** The size of the buffer a checkpoint is written from and read into. */
  private static final int IO_BYTES = 1 << 16;

  private Checkpoint() {}

  /**
   * Writes {@code s} as the checkpoint of its version in {@code dir}: to the temporary file first,
   * forced, then renamed into place atomically and the rename forced, so that a crash leaves either
   * no checkpoint of that version or a whole one.
   */
  static void writeInto(DataDirectory dir, Snapshot s) throws IOException {
    Path tmp = dir.checkpointTemp(s.version);
    write(s, tmp);
    Files.move(tmp, dir.checkpoint(s.version), StandardCopyOption.ATOMIC_MOVE);
    dir.force();
  }

  /** Writes {@code s} to {@code file} and forces it to the disk. */
  static void write(Snapshot s, Path file) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      SnapshotEncoder encoder = new SnapshotEncoder(s);
      ByteBuffer buffer = ByteBuffer.allocate(IO_BYTES);
      while (!encoder.finished()) {
        buffer.clear();
        encoder.fill(buffer);
        buffer.flip();
        while (buffer.hasRemaining()) {
          ch.write(buffer);
        }
      }
      ch.force(true);
    }
  }

  /**
   * The snapshot in {@code file}, with the given limits and index options.
   *
   * @throws UnsupportedFormatException if the file is not a checkpoint, or of a newer format
   * @throws CorruptLogException if its header is damaged, it is cut short or fails its checksum,
   *     naming the offset
   */
  static Snapshot read(Path file, Limits limits, ZIndexOptions index) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      int format = FileHeader.check(ch, file, size, MAGIC, FORMAT, LEGACY_FORMATS, "checkpoint");
      int headerBytes =
          FileHeader.checked(format) ? FileHeader.CHECKED_BYTES : FileHeader.LEGACY_BYTES;
      // The whole body is checked before anything is built from it, in one bulk pass: a CRC fed
      // byte by byte through the stream that parses it cost more than the parse itself.
      if (size < headerBytes + TAIL_BYTES) {
        throw new CorruptLogException(
            file, size, "checkpoint cut short: " + size + " bytes, fewer than its header and tail");
      }
      ByteBuffer tail = readAt(ch, size - TAIL_BYTES, TAIL_BYTES);
      int stored = tail.getInt();
      long end = tail.getLong();
      if (end != END) {
        throw new CorruptLogException(
            file, size - 8, "checkpoint end marker missing or damaged (a checkpoint cut short?)");
      }
      if (stored != checksum(ch, headerBytes, size - TAIL_BYTES)) {
        throw new CorruptLogException(
            file,
            headerBytes,
            "checkpoint body, bytes "
                + headerBytes
                + " to "
                + (size - TAIL_BYTES)
                + ", fails the checksum stored at byte "
                + (size - TAIL_BYTES));
      }
      // Limited by the ceilings, not the store's limits: a checkpoint holds what the store held
      // when it was written, and a store may be reopened with smaller limits.
      SnapshotDecoder decoder =
          SnapshotDecoder.afterHeader(
              limits,
              index,
              format,
              headerBytes,
              Limits.CEILING_VALUE_BYTES,
              Limits.CEILING_VALUE_BYTES);
      ByteBuffer buffer = ByteBuffer.allocate(IO_BYTES);
      try {
        for (long at = headerBytes; at < size; ) {
          buffer.clear();
          int n = ch.read(buffer, at);
          if (n < 0) {
            break;
          }
          at += n;
          decoder.feed(buffer.flip());
        }
        return decoder.finish();
      } catch (CorruptSnapshotException e) {
        throw new CorruptLogException(file, e.offset(), "checkpoint " + e.problem());
      }
    }
  }

  /** CRC32C of the bytes of {@code ch} in [{@code from}, {@code to}). */
  private static int checksum(FileChannel ch, long from, long to) throws IOException {
    CRC32C crc = new CRC32C();
    // No bigger than the body: direct memory is freed only by a collection, and a small store
    // opened often (tests, tools) would otherwise wait on the collections it forces.
    ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.max(1, Math.min(1 << 20, to - from)));
    for (long at = from; at < to; ) {
      buffer.clear().limit((int) Math.min(buffer.capacity(), to - at));
      int n = ch.read(buffer, at);
      if (n < 0) {
        throw new EOFException();
      }
      buffer.flip();
      crc.update(buffer);
      at += n;
    }
    return (int) crc.getValue();
  }

  private static ByteBuffer readAt(FileChannel ch, long at, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) {
        throw new EOFException();
      }
    }
    return b.flip();
  }
}
