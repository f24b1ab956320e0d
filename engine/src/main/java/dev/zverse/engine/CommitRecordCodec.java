package dev.zverse.engine;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * The record that carries commits, in the write-ahead log and, for replication, between nodes: one
 * encoding, one decoding, on plain bytes. A log segment is its {@link FileHeader} followed by these
 * records back to back ({@link DurableLog}); a record needs nothing around it to be read.
 *
 * <h2>Format</h2>
 *
 * <pre>
 * header (24 bytes): payload length (int), first version (long), version count (int),
 *                    CRC32C of the payload (int), CRC32C of the 20 header bytes before it (int)
 * payload: type {@value #COMMITS} (byte), first version (long), count (int), watermark (long),
 *          then per version: commit time in microseconds (long), change count (int),
 *          per change: key length (int), key, value length (int, -1 for a delete), value
 * </pre>
 *
 * Integers are big-endian. The header has its own checksum, so a damaged length is seen as damage
 * and never read as a record running past its end, and a damaged record's versions are known from
 * its header without its payload. Any single damaged byte fails one of the two checksums: {@link
 * #decode} refuses it with a {@link CorruptRecordException} naming offset 0 for the header and
 * offset {@value #HEADER_BYTES} for the payload (a checksum cannot say which byte). Bytes that end
 * inside the record are refused as cut short, naming where they end.
 *
 * <p>Whether a cut-short or damaged record at the end of a log segment is a torn write, which
 * recovery cuts off, or damage, which it refuses, is a question of the file, not of the record: see
 * {@link Recovery}. Log segments of format 1 framed the same payload with an 8-byte header (payload
 * length, CRC32C of the payload) and kept commit times in milliseconds; recovery still reads them.
 *
 * <p>One class, because the encoder and the decoder of one format must change together: the layout
 * above is written and read here and nowhere else.
 *
 * <p>The static methods are stateless and safe for concurrent use.
 */
public final class CommitRecordCodec {
  /** The record type of a group of consecutive commits, the first payload byte. */
  public static final byte COMMITS = 1;

  /** Bytes of a record header: length, first version, count, payload CRC32C, header CRC32C. */
  public static final int HEADER_BYTES = 24;

  /** Smallest payload: type, first version, count, watermark. A length 0 never validates. */
  public static final int MIN_PAYLOAD_BYTES = 21;

  /** Largest payload, written or read: guards against a damaged length. */
  public static final int MAX_PAYLOAD_BYTES = Integer.MAX_VALUE - 64;

  /** Bytes of a format-1 record header: length, payload CRC32C. */
  static final int LEGACY_HEADER_BYTES = 8;

  /** Bytes of a version in a payload besides its changes: commit time, change count. */
  static final int COMMIT_BYTES = 12;

  private static final int FIRST_AT = 4;
  private static final int COUNT_AT = 12;
  private static final int PAYLOAD_CRC_AT = 16;
  private static final int HEADER_CRC_AT = 20;
  private static final int PAYLOAD_FIRST_AT = 1;
  private static final int PAYLOAD_COUNT_AT = 9;

  private CommitRecordCodec() {}

  /**
   * Consecutive commits as one record carries them, with the retention watermark the writer had
   * when it logged them.
   *
   * @param watermark the oldest version the writer kept readable when logging, at least 0
   * @param commits the commits, of consecutive versions, at least one, without previous values
   */
  public record Group(long watermark, List<CommitRecord> commits) {
    /**
     * Holds an unmodifiable copy of {@code commits}; {@link #encode} checks what a record needs.
     *
     * @throws NullPointerException if {@code commits} or one of them is null
     */
    public Group {
      commits = List.copyOf(commits);
    }

    /** The version of the first commit, or 0 if there is none. */
    public long firstVersion() {
      return commits.isEmpty() ? 0 : commits.get(0).version();
    }
  }

  /**
   * The record of {@code group}: header and payload, as {@link #decode(byte[])} reads it back.
   *
   * @param group the commits to encode and their watermark
   * @return a new array holding exactly the record
   * @throws IllegalArgumentException if the group holds no commit, its first version is below 1,
   *     its versions are not consecutive, a commit carries previous values (a record does not), the
   *     watermark is negative, or the payload would exceed {@link #MAX_PAYLOAD_BYTES}
   */
  // The Writer's buffer comes from ByteBuffer.allocate, sized to the record: its array is the
  // record from offset 0.
  @SuppressWarnings("ByteBufferBackingArray")
  public static byte[] encode(Group group) {
    Objects.requireNonNull(group, "group");
    List<CommitRecord> commits = group.commits();
    if (commits.isEmpty()) {
      throw new IllegalArgumentException("group.commits must hold at least 1 commit, held 0");
    }
    if (group.watermark() < 0) {
      throw new IllegalArgumentException(
          "group.watermark must be at least 0, was " + group.watermark());
    }
    long first = commits.get(0).version();
    if (first < 1) {
      throw new IllegalArgumentException(
          "the first commit's version must be at least 1, was " + first);
    }
    long total = MIN_PAYLOAD_BYTES;
    for (int i = 0; i < commits.size(); i++) {
      CommitRecord c = commits.get(i);
      if (c.version() != first + i) {
        throw new IllegalArgumentException(
            "commits["
                + i
                + "] has version "
                + c.version()
                + ", must be "
                + (first + i)
                + ": the versions of a group follow each other");
      }
      if (c.hasPreviousValues()) {
        throw new IllegalArgumentException(
            "commits[" + i + "] carries previous values, which a record does not hold");
      }
      total += COMMIT_BYTES;
      for (Change ch : c.changesRef()) {
        ByteBuffer value = ch.valueBuffer();
        total += 8L + ch.key.length + (value == null ? 0 : value.remaining());
      }
    }
    if (total > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "the group needs a payload of "
              + total
              + " bytes, over the largest of "
              + MAX_PAYLOAD_BYTES);
    }
    Writer w = new Writer((int) total + HEADER_BYTES);
    w.begin(first, group.watermark());
    for (CommitRecord c : commits) {
      Change[] changes = c.changesRef();
      w.putInt8(c.timeMicros());
      w.putInt4(changes.length);
      for (Change ch : changes) {
        w.putBytes(ch.key);
        ByteBuffer value = ch.valueBuffer();
        if (value == null) {
          w.putInt4(-1);
        } else {
          w.putBytes(value);
        }
      }
    }
    ByteBuffer b = w.finish(first, commits.size());
    assert b.limit() == b.array().length : b.limit() + " bytes written, " + total + " counted";
    return b.array();
  }

  /**
   * Reads the record that {@code record} holds, all of it and nothing after it.
   *
   * @param record the bytes of one record
   * @return the commits and watermark it holds, equal to the group it was encoded from
   * @throws CorruptRecordException if the bytes are cut short, damaged, or run on past the record,
   *     naming the offset
   */
  public static Group decode(byte[] record) throws CorruptRecordException {
    Objects.requireNonNull(record, "record");
    ByteBuffer b = ByteBuffer.wrap(record);
    Group g = decode(b);
    if (b.hasRemaining()) {
      throw new CorruptRecordException(
          b.position(), b.remaining() + " bytes after the end of the record");
    }
    return g;
  }

  /**
   * Reads one record from {@code buffer} at its position and moves the position past it; on a
   * refusal the position is left where it was. Offsets in a refusal count from that position.
   *
   * @param buffer holding a record from its position on; bytes after the record are left unread
   * @return the commits and watermark the record holds
   * @throws CorruptRecordException if the record is cut short or damaged, naming the offset
   */
  public static Group decode(ByteBuffer buffer) throws CorruptRecordException {
    Objects.requireNonNull(buffer, "buffer");
    int at = buffer.position();
    int available = buffer.remaining();
    if (available < HEADER_BYTES) {
      throw new CorruptRecordException(
          available, "record header cut short: " + available + " of " + HEADER_BYTES + " bytes");
    }
    ByteBuffer h = buffer.slice(at, HEADER_BYTES);
    if (!headerHolds(h, 0)) {
      throw new CorruptRecordException(
          0,
          "record header damaged (its checksum does not hold, or its length or versions are"
              + " impossible)");
    }
    int length = h.getInt(0);
    if ((long) available - HEADER_BYTES < length) {
      throw new CorruptRecordException(
          available,
          "record cut short: " + available + " of " + (HEADER_BYTES + length) + " bytes");
    }
    ByteBuffer p = buffer.slice(at + HEADER_BYTES, length);
    if (crc(p) != h.getInt(PAYLOAD_CRC_AT)) {
      throw new CorruptRecordException(HEADER_BYTES, "record payload fails its checksum");
    }
    long first = h.getLong(FIRST_AT);
    int count = h.getInt(COUNT_AT);
    List<CommitRecord> commits = new ArrayList<>(Math.min(count, 1 << 10));
    long watermark =
        decodePayload(
            p,
            HEADER_BYTES,
            false,
            (version, time, keys, values) -> {
              Change[] changes = new Change[keys.length];
              for (int i = 0; i < keys.length; i++) {
                changes[i] = new Change(keys[i], version, values[i]);
              }
              commits.add(CommitRecord.of(version, time, changes));
            });
    if (commits.get(0).version() != first || commits.size() != count) {
      throw new CorruptRecordException(
          HEADER_BYTES + PAYLOAD_FIRST_AT,
          "record header says versions "
              + first
              + " to "
              + (first + count - 1)
              + ", its payload "
              + commits.get(0).version()
              + " to "
              + (commits.get(0).version() + commits.size() - 1));
    }
    buffer.position(at + HEADER_BYTES + length);
    return new Group(watermark, commits);
  }

  // ------------------------------------------------------------ for the log and its recovery

  /**
   * Receives the commits of a payload, in version order.
   *
   * @param <X> what the receiver may throw
   */
  interface Sink<X extends Exception> {
    /**
     * One commit: {@code keys[i]} was set to {@code values[i]} ({@code null} for a delete). The
     * arrays are fresh and handed over.
     */
    void commit(long version, long timeMicros, byte[][] keys, byte[][] values) throws X;
  }

  /** Whether {@code length} may be a payload's. */
  static boolean lengthHolds(int length) {
    return length >= MIN_PAYLOAD_BYTES && length <= MAX_PAYLOAD_BYTES;
  }

  /**
   * Whether the {@value #HEADER_BYTES} bytes of {@code b} at {@code at} are a whole record header:
   * its checksum holds, and its length, first version and count are possible.
   */
  static boolean headerHolds(ByteBuffer b, int at) {
    return lengthHolds(b.getInt(at))
        && versionsHold(b.getLong(at + FIRST_AT), b.getInt(at + COUNT_AT))
        && b.getInt(at + HEADER_CRC_AT) == crc(b.slice(at, HEADER_CRC_AT));
  }

  /**
   * Whether {@code count} versions from {@code first} are possible: both at least 1, and the last
   * of them not past {@code Long.MAX_VALUE} (a record whose versions wrapped around was never
   * written by {@link #encode}).
   */
  private static boolean versionsHold(long first, int count) {
    return first >= 1 && count >= 1 && first - 1 <= Long.MAX_VALUE - count;
  }

  /** The first version a record header at {@code at} claims; check it with {@link #headerHolds}. */
  static long headerFirst(ByteBuffer h, int at) {
    return h.getLong(at + FIRST_AT);
  }

  /** The version count a record header at {@code at} claims. */
  static int headerCount(ByteBuffer h, int at) {
    return h.getInt(at + COUNT_AT);
  }

  /** The payload checksum a record header at {@code at} claims. */
  static int headerPayloadCrc(ByteBuffer h, int at) {
    return h.getInt(at + PAYLOAD_CRC_AT);
  }

  /** The payload checksum of a format-1 record header at {@code at}. */
  static int legacyPayloadCrc(ByteBuffer h, int at) {
    return h.getInt(at + 4);
  }

  /** The CRC32C of the bytes of {@code p} from its position to its limit. */
  static int crc(ByteBuffer p) {
    CRC32C crc = new CRC32C();
    crc.update(p.duplicate());
    return (int) crc.getValue();
  }

  /** Whether payload {@code p} (absolute indexes from 0) opens as one of commits does. */
  static boolean payloadPlausible(ByteBuffer p) {
    return p.limit() >= MIN_PAYLOAD_BYTES
        && p.get(0) == COMMITS
        && versionsHold(p.getLong(PAYLOAD_FIRST_AT), p.getInt(PAYLOAD_COUNT_AT));
  }

  /** The first version payload {@code p} holds; see {@link #payloadPlausible}. */
  static long payloadFirst(ByteBuffer p) {
    return p.getLong(PAYLOAD_FIRST_AT);
  }

  /** The last version payload {@code p} holds; see {@link #payloadPlausible}. */
  static long payloadLast(ByteBuffer p) {
    return p.getLong(PAYLOAD_FIRST_AT) + p.getInt(PAYLOAD_COUNT_AT) - 1;
  }

  /**
   * Decodes payload {@code p} (from index 0 to its limit) into {@code sink}.
   *
   * @param base the offset of the payload's first byte, for refusals
   * @param millis whether commit times are in milliseconds (format 1)
   * @return the watermark the payload holds
   * @throws CorruptRecordException if a field cannot be, naming its offset plus {@code base}
   */
  static <X extends Exception> long decodePayload(
      ByteBuffer p, long base, boolean millis, Sink<X> sink) throws CorruptRecordException, X {
    p.position(0);
    try {
      if (p.get() != COMMITS) {
        throw new CorruptRecordException(base, "unknown record type " + p.get(0));
      }
      long first = p.getLong();
      int count = p.getInt();
      if (!versionsHold(first, count)) {
        throw new CorruptRecordException(
            base + PAYLOAD_FIRST_AT, "impossible versions: first " + first + ", count " + count);
      }
      long watermark = p.getLong();
      if (watermark < 0) {
        throw new CorruptRecordException(
            base + p.position() - 8, "impossible watermark " + watermark);
      }
      for (int i = 0; i < count; i++) {
        long stored = p.getLong();
        // Format 1 kept milliseconds; applying raises the ties they leave to increasing times.
        long time = millis ? Commit.microsOfMillis(stored) : stored;
        int n = p.getInt();
        if (n < 0 || (long) n * 8 > p.remaining()) {
          throw new CorruptRecordException(base + p.position() - 4, "impossible change count " + n);
        }
        byte[][] keys = new byte[n][];
        byte[][] values = new byte[n][];
        for (int c = 0; c < n; c++) {
          keys[c] = bytes(p, base, false);
          values[c] = bytes(p, base, true);
        }
        sink.commit(first + i, time, keys, values);
      }
      if (p.hasRemaining()) {
        throw new CorruptRecordException(
            base + p.position(), p.remaining() + " bytes after the last commit of the payload");
      }
      return watermark;
    } catch (BufferUnderflowException e) {
      throw new CorruptRecordException(base + p.limit(), "record payload ends inside a commit");
    }
  }

  private static byte @Nullable [] bytes(ByteBuffer p, long base, boolean value)
      throws CorruptRecordException {
    int n = p.getInt();
    if (value && n == -1) {
      return null;
    }
    if (n < 0 || n > p.remaining()) {
      throw new CorruptRecordException(
          base + p.position() - 4,
          (value ? "value" : "key") + " length " + n + " runs past the payload's end");
    }
    byte[] b = new byte[n];
    p.get(b);
    return b;
  }

  /** Bytes of commit {@code c} in a payload. */
  static long commitBytes(Commit c) {
    long n = COMMIT_BYTES;
    for (int i = 0; i < c.keys.length; i++) {
      n += 8L + c.keys[i].length + (c.values[i] == null ? 0 : c.values[i].length);
    }
    return n;
  }

  /**
   * Encodes records into one buffer it keeps between them, grown as needed: the writer's. Not
   * thread-safe: confined to the thread that appends.
   */
  static final class Writer {
    /** The buffer is dropped after a record bigger than this, not kept for the next one. */
    private static final int KEPT_BUFFER_BYTES = 16 << 20;

    private ByteBuffer buffer;
    private final CRC32C crc = new CRC32C();

    Writer(int capacity) {
      buffer = ByteBuffer.allocate(capacity);
    }

    /**
     * The record of the commits of {@code log} from {@code from} on, up to {@code to} or, if {@code
     * split}, as many as fit {@code limit} payload bytes (one at least). The buffer returned is
     * valid until the next call.
     */
    ByteBuffer encode(CommitLog log, long watermark, long from, long to, int limit, boolean split) {
      begin(from, watermark);
      long u = from;
      for (; u <= to; u++) {
        Commit c = log.get(u);
        if (split && u > from && buffer.position() - HEADER_BYTES + commitBytes(c) > limit) {
          break;
        }
        putInt8(c.timeMicros);
        putInt4(c.keys.length);
        for (int i = 0; i < c.keys.length; i++) {
          putBytes(c.keys[i]);
          if (c.values[i] == null) {
            putInt4(-1);
          } else {
            putBytes(c.values[i]);
          }
        }
      }
      return finish(from, (int) (u - from));
    }

    /** Drops a buffer grown for one huge group, so that it is not pinned for good. */
    void shrink() {
      if (buffer.capacity() > KEPT_BUFFER_BYTES) {
        buffer = ByteBuffer.allocate(1 << 16);
      }
    }

    private void begin(long first, long watermark) {
      buffer.clear();
      buffer.position(HEADER_BYTES);
      ensure(MIN_PAYLOAD_BYTES);
      buffer.put(COMMITS);
      buffer.putLong(first);
      buffer.putInt(0);
      buffer.putLong(watermark);
    }

    private ByteBuffer finish(long first, int count) {
      buffer.putInt(HEADER_BYTES + PAYLOAD_COUNT_AT, count);
      int end = buffer.position();
      crc.reset();
      crc.update(buffer.array(), HEADER_BYTES, end - HEADER_BYTES);
      buffer.putInt(0, end - HEADER_BYTES);
      buffer.putLong(FIRST_AT, first);
      buffer.putInt(COUNT_AT, count);
      buffer.putInt(PAYLOAD_CRC_AT, (int) crc.getValue());
      buffer.putInt(HEADER_CRC_AT, FileHeader.crc(buffer.array(), 0, HEADER_CRC_AT));
      buffer.flip();
      return buffer;
    }

    private void ensure(int n) {
      if (buffer.remaining() < n) {
        long need = (long) buffer.position() + n;
        long most = (long) MAX_PAYLOAD_BYTES + HEADER_BYTES;
        assert need <= most : "the caller checks every version's size first";
        ByteBuffer bigger =
            ByteBuffer.allocate((int) Math.min(most, Math.max(need, 2L * buffer.capacity())));
        buffer.flip();
        bigger.put(buffer);
        buffer = bigger;
      }
    }

    private void putInt4(int i) {
      ensure(4);
      buffer.putInt(i);
    }

    private void putInt8(long l) {
      ensure(8);
      buffer.putLong(l);
    }

    private void putBytes(byte[] b) {
      ensure(4 + b.length);
      buffer.putInt(b.length);
      buffer.put(b);
    }

    private void putBytes(ByteBuffer b) {
      ensure(4 + b.remaining());
      buffer.putInt(b.remaining());
      buffer.put(b);
    }
  }
}
