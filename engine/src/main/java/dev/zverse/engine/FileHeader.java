package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The header that opens every log segment and checkpoint: magic number (8 bytes), format version
 * (int), and, from format {@value #FIRST_CHECKED_FORMAT} on, the CRC32C of those 12 bytes (int).
 *
 * <p>The checksum is what tells a newer format from a damaged header. A header whose checksum holds
 * was written as it reads: a format newer than this code knows is refused ({@link
 * UnsupportedFormatException}), since guessing its layout could lose data. A header whose checksum
 * fails (a flipped bit in the magic number or the format) is damage ({@link CorruptLogException} at
 * the damaged field), which recovery may pass: an older checkpoint, or segments that a checkpoint
 * covers. Formats before {@value #FIRST_CHECKED_FORMAT} carry no checksum and are recognised by
 * their exact magic and format only. Every later format promises to begin with these 16 bytes.
 *
 * <p>Stateless.
 */
final class FileHeader {
  /** The first format whose header carries its own checksum. */
  static final int FIRST_CHECKED_FORMAT = 3;

  /** Bytes of a checked header: magic, format, CRC32C. */
  static final int CHECKED_BYTES = 16;

  /** Bytes of a header before {@value #FIRST_CHECKED_FORMAT}: magic, format. */
  static final int LEGACY_BYTES = 12;

  private FileHeader() {}

  /** Whether files of {@code format} have a checked header and checked record frames. */
  static boolean checked(int format) {
    return format >= FIRST_CHECKED_FORMAT;
  }

  /** The checked header of {@code format}, ready to write. */
  static ByteBuffer encode(long magic, int format) {
    assert checked(format) : "format " + format + " has no checked header";
    ByteBuffer b = ByteBuffer.allocate(CHECKED_BYTES).putLong(magic).putInt(format);
    b.putInt(crc(b.array(), 0, LEGACY_BYTES));
    return b.flip();
  }

  static int crc(byte[] bytes, int from, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, from, length);
    return (int) crc.getValue();
  }

  /**
   * Reads and checks the header of {@code file}.
   *
   * @param size the file's size in bytes
   * @param magic the magic number files of this kind start with
   * @param newest the newest format this code writes and reads
   * @param legacy the formats before {@value #FIRST_CHECKED_FORMAT} still read (no header checksum)
   * @param what what the file is, for messages ("log segment", "checkpoint")
   * @return the format of the file
   * @throws UnsupportedFormatException if the header is whole but of a newer format or not ours
   * @throws CorruptLogException if the header is cut short or damaged, naming the offset
   */
  static int check(
      FileChannel ch, Path file, long size, long magic, int newest, int[] legacy, String what)
      throws IOException {
    if (size < LEGACY_BYTES) {
      throw new CorruptLogException(
          file, size, what + " header cut short: the file has " + size + " bytes");
    }
    ByteBuffer b = ByteBuffer.allocate((int) Math.min(size, CHECKED_BYTES));
    while (b.hasRemaining()) {
      if (ch.read(b, b.position()) < 0) {
        throw new CorruptLogException(file, b.position(), what + " header cut short");
      }
    }
    long foundMagic = b.getLong(0);
    int format = b.getInt(8);
    boolean sealed = size >= CHECKED_BYTES && b.getInt(12) == crc(b.array(), 0, LEGACY_BYTES);
    if (sealed) {
      if (foundMagic != magic) {
        throw new UnsupportedFormatException(
            file,
            "not a ZVerse " + what + ": magic " + Long.toHexString(foundMagic) + " at byte 0");
      }
      if (format > newest) {
        throw new UnsupportedFormatException(
            file,
            what
                + " format "
                + format
                + " at byte 8 is newer than format "
                + newest
                + ", the newest this version reads; open it with the ZVerse that wrote it");
      }
      if (checked(format)) {
        return format;
      }
    }
    if (foundMagic == magic) {
      for (int f : legacy) {
        // A checked header whose format was flipped to a legacy number still has its checksum in
        // bytes 12 to 15, which a legacy file holds record or body bytes in: refuse it as damage.
        if (format == f && !(size >= CHECKED_BYTES && b.getInt(12) == checkedCrc(magic, newest))) {
          return format;
        }
      }
    }
    // The first field that is not what a whole header of a known format holds.
    long at = foundMagic != magic ? 0 : format == newest ? 12 : 8;
    throw new CorruptLogException(
        file,
        at,
        what
            + " header damaged: magic "
            + Long.toHexString(foundMagic)
            + ", format "
            + format
            + (size >= CHECKED_BYTES ? ", and its checksum does not hold" : ""));
  }

  private static int checkedCrc(long magic, int format) {
    ByteBuffer b = ByteBuffer.allocate(LEGACY_BYTES).putLong(magic).putInt(format);
    return crc(b.array(), 0, LEGACY_BYTES);
  }
}
