package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jspecify.annotations.Nullable;

/**
 * Reading the records of one open log segment for {@link Recovery}: their frames at an offset,
 * their payloads if whole, the next whole record past damage, and whether damage is a torn write.
 * The records themselves are {@link CommitRecordCodec}'s; what is here is what only a file has: an
 * end that a crash may have cut, and bytes after the damage to scan.
 *
 * <p>Used by one thread, while the file is open.
 */
final class LogSegment {
  /** Where the unwritten part of a torn write may start: a disk sector. */
  private static final int SECTOR = 512;

  /** The format of a log segment's header; see {@link FileHeader#check}. */
  static int format(FileChannel ch, Path file, long size) throws IOException {
    return FileHeader.check(
        ch,
        file,
        size,
        DurableLog.MAGIC,
        DurableLog.FORMAT,
        DurableLog.LEGACY_FORMATS,
        "log segment");
  }

  /** The newest version a whole record of {@code file} holds, or -1; for the report only. */
  static long lastVersionIn(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      int format;
      try {
        format = format(ch, file, size);
      } catch (CorruptLogException | UnsupportedFormatException e) {
        return -1;
      }
      LogSegment seg = new LogSegment(file, ch, size, format);
      return seg.lastVersionFrom(seg.headerBytes(), 0);
    }
  }

  /** One record's frame as read at an offset: header fields, and whether they can be trusted. */
  static final class Frame {
    final long pos;

    /** The file ends inside the record header. */
    boolean cutShort;

    /** The header is whole and holds (format 3: its checksum; format 1: a possible length). */
    boolean headerOk;

    int length;

    /** Format 3 only; -1 in format 1, whose header does not say. */
    long first = -1;

    int count;
    int payloadCrc;

    Frame(long pos) {
      this.pos = pos;
    }

    long end(int headerBytes) {
      return pos + headerBytes + length;
    }

    long last() {
      return first + count - 1;
    }
  }

  final Path file;
  final FileChannel ch;
  final long size;
  final int format;
  final boolean checked;
  final int rh;

  LogSegment(Path file, FileChannel ch, long size, int format) {
    this.file = file;
    this.ch = ch;
    this.size = size;
    this.format = format;
    this.checked = FileHeader.checked(format);
    this.rh = checked ? CommitRecordCodec.HEADER_BYTES : CommitRecordCodec.LEGACY_HEADER_BYTES;
  }

  int headerBytes() {
    return checked ? FileHeader.CHECKED_BYTES : FileHeader.LEGACY_BYTES;
  }

  Frame frame(long pos) throws IOException {
    Frame f = new Frame(pos);
    if (size - pos < rh) {
      f.cutShort = true;
      return f;
    }
    ByteBuffer h = readAt(pos, rh);
    f.length = h.getInt(0);
    if (checked) {
      f.first = CommitRecordCodec.headerFirst(h, 0);
      f.count = CommitRecordCodec.headerCount(h, 0);
      f.payloadCrc = CommitRecordCodec.headerPayloadCrc(h, 0);
      f.headerOk = CommitRecordCodec.headerHolds(h, 0);
    } else {
      f.payloadCrc = CommitRecordCodec.legacyPayloadCrc(h, 0);
      f.headerOk = CommitRecordCodec.lengthHolds(f.length);
    }
    return f;
  }

  /** The payload of {@code f} if whole and its checksum holds, else null. */
  @Nullable ByteBuffer payload(Frame f) throws IOException {
    if (!f.headerOk || f.end(rh) > size) {
      return null;
    }
    ByteBuffer p = readAt(f.pos + rh, f.length);
    return CommitRecordCodec.crc(p) == f.payloadCrc ? p : null;
  }

  /**
   * The first whole format-3 record at or after {@code from} whose versions start after {@code
   * after}: header and payload checksums hold. Null if none, or in format 1.
   */
  @Nullable Frame nextWhole(long from, long after) throws IOException {
    if (!checked) {
      return null;
    }
    int window = 1 << 20;
    for (long base = from; base + rh <= size; base += window - rh + 1) {
      int n = (int) Math.min(window, size - base);
      ByteBuffer b = readAt(base, n);
      for (int i = 0; i + rh <= n; i++) {
        int length = b.getInt(i);
        // Cheap tests first: at most offsets inside data the length alone is impossible.
        if (length < CommitRecordCodec.MIN_PAYLOAD_BYTES
            || base + i + rh + length > size
            || CommitRecordCodec.headerCount(b, i) < 1
            || CommitRecordCodec.headerFirst(b, i) <= after
            || !CommitRecordCodec.headerHolds(b, i)) {
          continue;
        }
        Frame f = frame(base + i);
        if (f.headerOk && payload(f) != null) {
          return f;
        }
      }
    }
    return null;
  }

  /**
   * For a format-3 frame whose header is damaged: if its payload, ending where the header says or
   * at {@code next}, still matches the payload checksum of the header, the end, first and last
   * version it holds; else null.
   */
  long @Nullable [] intactPayload(Frame f, long next) throws IOException {
    long start = f.pos + rh;
    long claimed = start + f.length; // before next, if the length is not the damaged field
    for (long end : new long[] {claimed, next}) {
      long n = end - start;
      if (n < CommitRecordCodec.MIN_PAYLOAD_BYTES
          || n > CommitRecordCodec.MAX_PAYLOAD_BYTES
          || end > size) {
        continue;
      }
      ByteBuffer p = readAt(start, (int) (end - start));
      if (CommitRecordCodec.crc(p) == f.payloadCrc && CommitRecordCodec.payloadPlausible(p)) {
        return new long[] {
          end, CommitRecordCodec.payloadFirst(p), CommitRecordCodec.payloadLast(p)
        };
      }
    }
    return null;
  }

  /** The newest version of the whole records from {@code from} on, or -1 if none is readable. */
  long lastVersionFrom(long from, long after) throws IOException {
    long last = -1;
    long pos = from;
    while (pos < size) {
      Frame f = frame(pos);
      ByteBuffer p = payload(f);
      long fl;
      if (p != null) {
        fl = checked ? f.last() : CommitRecordCodec.payloadLast(p);
      } else {
        // Only format 3 finds a next whole record, and its checked header names its last version.
        f = nextWhole(pos + 1, after);
        if (f == null) {
          return last;
        }
        fl = f.last();
      }
      last = Math.max(last, fl);
      pos = f.end(rh);
    }
    return last;
  }

  /** Offset of the last non-zero byte in [{@code from}, size), or {@code from - 1}. */
  long lastNonZero(long from) throws IOException {
    int chunk = 1 << 16;
    for (long end = size; end > from; ) {
      long start = Math.max(from, end - chunk);
      ByteBuffer b = readAt(start, (int) (end - start));
      for (int i = (int) (end - start) - 1; i >= 0; i--) {
        if (b.get(i) != 0) {
          return start + i;
        }
      }
      end = start;
    }
    return from - 1;
  }

  /** Whether the damaged frame {@code f} is a torn write at the physical end of the file. */
  boolean torn(Frame f) throws IOException {
    long lnz = lastNonZero(f.pos);
    if (lnz < f.pos || f.cutShort) {
      return true; // zeros only, or the file ends inside a record header
    }
    long zeroFrom = (lnz + SECTOR) / SECTOR * SECTOR; // first sector boundary after the data
    if (f.headerOk) {
      long end = f.end(rh);
      // A prefix of the record, or the record with its unwritten end zeroed and nothing after.
      return end > size || zeroFrom < end;
    }
    // A header written only in part: zeros from inside it, nothing after.
    return zeroFrom < f.pos + rh;
  }

  ByteBuffer readAt(long at, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) {
        break;
      }
    }
    return b.flip();
  }
}
