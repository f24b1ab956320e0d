package dev.zverse.engine;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

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
 * chain node at its version, so reading rebuilds them from the chains. Stateless.
 */
final class Checkpoint {
  static final long MAGIC = 0x5A56_4552_5343_4B50L; // "ZVERSCKP"
  static final long END = 0x5A56_434B_5045_4E44L; // "ZVCKPEND"
  static final int FORMAT = 3;

  /** The older formats still read: their header has no checksum. */
  static final int[] LEGACY_FORMATS = {1};

  /** The body's CRC32C and {@link #END}. */
  private static final int TAIL_BYTES = 12;

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
      OutputStream raw = Channels.newOutputStream(ch);
      raw.write(FileHeader.encode(MAGIC, FORMAT).array());
      CRC32C crc = new CRC32C();
      DataOutputStream out =
          new DataOutputStream(
              new BufferedOutputStream(new CheckedOutputStream(raw, crc), 1 << 16));
      CommitLog commits = s.commits;
      long first = commits.firstVersion();
      out.writeLong(s.version);
      out.writeLong(s.watermark);
      out.writeLong(s.lastCommitMicros);
      out.writeLong(first);
      out.writeLong(s.version - first + 1);
      for (long u = first; u <= s.version; u++) {
        out.writeLong(commits.get(u).timeMicros);
      }
      out.writeLong(s.keys);
      TreeCursor c = new TreeCursor(s.root, s.height);
      long written = 0;
      for (c.seekFirst(); c.valid(); c.next()) {
        byte[] key = c.key();
        out.writeInt(key.length);
        out.write(key);
        // Only what reads at or above the watermark need: not the superseded version a write may
        // have left below them (see Transient#prune).
        int length = Math.max(1, c.head().retainedLength(s.watermark));
        out.writeInt(length);
        Version n = c.head();
        for (int i = 0; i < length; i++, n = n.next()) {
          out.writeLong(n.version);
          if (n.value == null) {
            out.writeByte(0);
          } else {
            out.writeByte(1);
            out.writeLong(n.created());
            out.writeInt(n.value.length);
            out.write(n.value);
          }
        }
        written++;
      }
      assert written == s.keys : written + " keys written, " + s.keys + " counted";
      out.flush();
      DataOutputStream tail = new DataOutputStream(raw);
      tail.writeInt((int) crc.getValue());
      tail.writeLong(END);
      tail.flush();
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
      ch.position(headerBytes);
      Position in =
          new Position(new BufferedInputStream(Channels.newInputStream(ch), 1 << 16), headerBytes);
      try {
        return readBody(new DataInputStream(in), in, format, file, limits, index);
      } catch (EOFException e) {
        throw new CorruptLogException(file, in.at, "checkpoint body ends early");
      }
    }
  }

  /** Counts the bytes read, so that a body that does not parse is reported at its offset. */
  private static final class Position extends FilterInputStream {
    long at;

    Position(InputStream in, long at) {
      super(in);
      this.at = at;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        at++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        at += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long k = super.skip(n);
      at += k;
      return k;
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

  private static Snapshot readBody(
      DataInputStream in, Position at, int format, Path file, Limits limits, ZIndexOptions index)
      throws IOException {
    long start = at.at;
    long version = in.readLong();
    long watermark = in.readLong();
    long lastCommitTime = time(in.readLong(), format);
    long first = in.readLong();
    long commitCount = in.readLong();
    if (version < 0
        || watermark < 0
        || watermark > version
        || first < 1
        || commitCount < 0
        || first + commitCount - 1 != version
        || commitCount > Integer.MAX_VALUE) {
      throw new CorruptLogException(file, start, "inconsistent checkpoint header");
    }
    long[] times = new long[(int) commitCount];
    for (int i = 0; i < times.length; i++) {
      times[i] = time(in.readLong(), format);
      if (i > 0 && times[i] <= times[i - 1]) {
        times[i] = Commit.after(times[i - 1]);
      }
    }
    @SuppressWarnings("unchecked")
    List<byte[]>[] commitKeys = new List[times.length];
    @SuppressWarnings("unchecked")
    List<byte[]>[] commitValues = new List[times.length];
    Transient t = Snapshot.empty(limits, index).asTransient();
    long keyCount = in.readLong();
    byte[] previous = null;
    for (long k = 0; k < keyCount; k++) {
      long keyAt = at.at;
      byte[] key = readBytes(in, at, file);
      if (previous != null && KeyOrder.compare(previous, key) >= 0) {
        throw new CorruptLogException(file, keyAt, "checkpoint keys out of order");
      }
      previous = key;
      int length = in.readInt();
      if (length < 1) {
        throw new CorruptLogException(file, at.at - 4, "empty version chain in checkpoint");
      }
      long[] versions = new long[length];
      long[] created = new long[length];
      byte[][] values = new byte[length][];
      for (int i = 0; i < length; i++) {
        versions[i] = in.readLong();
        byte kind = in.readByte();
        if (kind == 1) {
          created[i] = in.readLong();
          values[i] = readBytes(in, at, file);
        } else if (kind != 0) {
          throw new CorruptLogException(file, at.at - 1, "unknown chain node kind " + kind);
        }
        if (versions[i] >= first && versions[i] <= version) {
          int slot = (int) (versions[i] - first);
          if (commitKeys[slot] == null) {
            commitKeys[slot] = new ArrayList<>(4);
            commitValues[slot] = new ArrayList<>(4);
          }
          commitKeys[slot].add(key);
          commitValues[slot].add(values[i]);
        }
      }
      Version head = null;
      for (int i = length - 1; i >= 0; i--) {
        head =
            values[i] == null
                ? Version.tombstone(versions[i], head)
                : Version.put(versions[i], values[i], head, created[i]);
      }
      t.restoreChain(key, head);
    }
    CommitLog log = CommitLog.startingAt(first);
    for (int i = 0; i < times.length; i++) {
      List<byte[]> ks = commitKeys[i];
      log =
          log.append(
              ks == null
                  ? new Commit(first + i, times[i], new byte[0][], new byte[0][])
                  : new Commit(
                      first + i,
                      times[i],
                      ks.toArray(new byte[0][]),
                      commitValues[i].toArray(new byte[0][])));
    }
    if (times.length > 0) {
      lastCommitTime = Math.max(lastCommitTime, times[times.length - 1]);
    }
    t.restoreLog(log, version, watermark, lastCommitTime);
    return t.persistent();
  }

  /** A commit time as {@code format} stored it, in microseconds since the epoch. */
  private static long time(long stored, int format) {
    return format == 1 ? Commit.microsOfMillis(stored) : stored;
  }

  private static byte[] readBytes(DataInputStream in, Position at, Path file) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > Limits.CEILING_VALUE_BYTES) {
      throw new CorruptLogException(file, at.at - 4, "impossible length " + n);
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return b;
  }
}
