package dev.zverse.engine;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * The bytes of a {@link WriteBatch}, for a batch that travels to a writer on another node: every
 * mutation and condition, in order, so the decoded batch commits exactly as the original would.
 *
 * <h2>Format</h2>
 *
 * <pre>
 * mutation count (int), per mutation: kind (byte: 1 put, 2 delete, 3 range delete), then
 *   put: key length (int), key, value length (int), value; delete: key length (int), key;
 *   range delete: flags (byte: 1 has start, 2 start inclusive, 4 has end, 8 end inclusive),
 *   then the start and the end that are present, each as length (int) and bytes
 * condition count (int), per condition: kind (byte: 1 absent, 2 mod version, 3 value equals),
 *   key length (int), key, then a mod version (long) or a value length (int) and value
 * </pre>
 *
 * Integers are big-endian. A decoded batch holds copies of nothing but its own arrays. No limit is
 * checked here beyond the structure: the writer checks its {@link Limits} as for a local batch.
 *
 * <p>The static methods are stateless and safe for concurrent use.
 */
public final class WriteBatchCodec {
  private static final byte PUT = 1;
  private static final byte DELETE = 2;
  private static final byte DELETE_RANGE = 3;
  private static final byte ABSENT = 1;
  private static final byte MOD_VERSION = 2;
  private static final byte VALUE_EQUALS = 3;
  private static final int HAS_START = 1;
  private static final int START_INCLUSIVE = 2;
  private static final int HAS_END = 4;
  private static final int END_INCLUSIVE = 8;

  private WriteBatchCodec() {}

  /**
   * The bytes of {@code batch}, as {@link #decode} reads them back.
   *
   * @param batch the batch to encode
   * @return a new array holding exactly the batch
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalArgumentException if the batch needs more than {@link
   *     CommitRecordCodec#MAX_PAYLOAD_BYTES} bytes
   */
  public static byte[] encode(WriteBatch batch) {
    Objects.requireNonNull(batch, "batch");
    long total = 8;
    for (WriteBatch.Op op : batch.ops()) {
      total += 1 + 8 + op.bytes();
    }
    for (Condition c : batch.conditions()) {
      byte[] v = c.valueBytes();
      total += 1 + 4 + c.keyBytes().length + 8 + (v == null ? 0 : v.length);
    }
    if (total > CommitRecordCodec.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "the batch needs up to "
              + total
              + " bytes, over the largest of "
              + CommitRecordCodec.MAX_PAYLOAD_BYTES);
    }
    ByteBuffer b = ByteBuffer.allocate((int) total);
    List<WriteBatch.Op> ops = batch.ops();
    b.putInt(ops.size());
    for (WriteBatch.Op op : ops) {
      if (op instanceof WriteBatch.Put p) {
        b.put(PUT);
        putBytes(b, p.key());
        putBytes(b, p.value());
      } else if (op instanceof WriteBatch.Delete d) {
        b.put(DELETE);
        putBytes(b, d.key());
      } else {
        KeyRange r = ((WriteBatch.DeleteRange) op).range();
        int flags =
            (r.start == null ? 0 : HAS_START)
                | (r.startInclusive ? START_INCLUSIVE : 0)
                | (r.end == null ? 0 : HAS_END)
                | (r.endInclusive ? END_INCLUSIVE : 0);
        b.put(DELETE_RANGE);
        b.put((byte) flags);
        if (r.start != null) {
          putBytes(b, r.start);
        }
        if (r.end != null) {
          putBytes(b, r.end);
        }
      }
    }
    List<Condition> conditions = batch.conditions();
    b.putInt(conditions.size());
    for (Condition c : conditions) {
      switch (c.kind()) {
        case ABSENT -> {
          b.put(ABSENT);
          putBytes(b, c.keyBytes());
        }
        case MOD_VERSION -> {
          b.put(MOD_VERSION);
          putBytes(b, c.keyBytes());
          b.putLong(c.modVersion());
        }
        case VALUE_EQUALS -> {
          b.put(VALUE_EQUALS);
          putBytes(b, c.keyBytes());
          putBytes(b, Objects.requireNonNull(c.valueBytes()));
        }
      }
    }
    byte[] out = new byte[b.position()];
    System.arraycopy(b.array(), 0, out, 0, out.length);
    return out;
  }

  /**
   * Reads the batch that {@code bytes} holds, all of it and nothing after it.
   *
   * @param bytes the bytes of one batch, as {@link #encode} wrote them
   * @return a batch equal in its mutations and conditions to the one encoded
   * @throws CorruptRecordException if the bytes are cut short, hold an unknown kind, a negative
   *     length, a range whose start is after its end, or run on past the batch, naming the offset
   */
  public static WriteBatch decode(byte[] bytes) throws CorruptRecordException {
    Objects.requireNonNull(bytes, "bytes");
    ByteBuffer b = ByteBuffer.wrap(bytes);
    WriteBatch.Builder builder = WriteBatch.builder();
    try {
      int ops = count(b, "mutation count");
      for (int i = 0; i < ops; i++) {
        int at = b.position();
        byte kind = b.get();
        switch (kind) {
          case PUT -> builder.put(getBytes(b), getBytes(b));
          case DELETE -> builder.delete(getBytes(b));
          case DELETE_RANGE -> builder.deleteRange(range(b, at));
          default -> throw new CorruptRecordException(at, "unknown mutation kind " + kind);
        }
      }
      int conditions = count(b, "condition count");
      for (int i = 0; i < conditions; i++) {
        int at = b.position();
        byte kind = b.get();
        switch (kind) {
          case ABSENT -> builder.require(Condition.absent(getBytes(b)));
          case MOD_VERSION -> builder.require(Condition.modVersion(getBytes(b), b.getLong()));
          case VALUE_EQUALS -> builder.require(Condition.valueEquals(getBytes(b), getBytes(b)));
          default -> throw new CorruptRecordException(at, "unknown condition kind " + kind);
        }
      }
    } catch (BufferUnderflowException e) {
      throw new CorruptRecordException(bytes.length, "batch cut short at " + bytes.length);
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException(b.position(), String.valueOf(e.getMessage()));
    }
    if (b.hasRemaining()) {
      throw new CorruptRecordException(
          b.position(), b.remaining() + " bytes after the end of the batch");
    }
    return builder.build();
  }

  private static KeyRange range(ByteBuffer b, int at) throws CorruptRecordException {
    int flags = b.get();
    if ((flags & ~(HAS_START | START_INCLUSIVE | HAS_END | END_INCLUSIVE)) != 0) {
      throw new CorruptRecordException(at + 1, "unknown range flags " + flags);
    }
    byte[] start = (flags & HAS_START) != 0 ? getBytes(b) : null;
    byte[] end = (flags & HAS_END) != 0 ? getBytes(b) : null;
    boolean si = (flags & START_INCLUSIVE) != 0;
    boolean ei = (flags & END_INCLUSIVE) != 0;
    if (start == null) {
      if (end == null) {
        return KeyRange.all();
      }
      return ei ? KeyRange.atMost(end) : KeyRange.lessThan(end);
    }
    if (end == null) {
      return si ? KeyRange.atLeast(start) : KeyRange.greaterThan(start);
    }
    if (si) {
      return ei ? KeyRange.closed(start, end) : KeyRange.closedOpen(start, end);
    }
    return ei ? KeyRange.openClosed(start, end) : KeyRange.open(start, end);
  }

  private static int count(ByteBuffer b, String what) throws CorruptRecordException {
    int at = b.position();
    int n = b.getInt();
    if (n < 0 || n > b.remaining()) {
      throw new CorruptRecordException(at, what + " " + n + " is negative or past the end");
    }
    return n;
  }

  private static void putBytes(ByteBuffer b, byte[] bytes) {
    b.putInt(bytes.length);
    b.put(bytes);
  }

  private static byte[] getBytes(ByteBuffer b) throws CorruptRecordException {
    int at = b.position();
    int n = b.getInt();
    if (n < 0 || n > b.remaining()) {
      throw new CorruptRecordException(at, "length " + n + " is negative or past the end");
    }
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }
}
