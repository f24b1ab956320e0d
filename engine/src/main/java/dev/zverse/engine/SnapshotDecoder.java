package dev.zverse.engine;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * Reads the bytes of a checkpoint ({@link Checkpoint} describes the format) as they arrive, in
 * pieces of any size, and builds the snapshot they hold: the one reader of that format, for a
 * checkpoint file and for the chunks of a {@link SnapshotImport}.
 *
 * <p>A state machine over the format's fields, so that it never needs the whole input at once: a
 * field cut by the end of a piece waits in a small buffer for the next piece, and a value is copied
 * straight into the array the snapshot keeps. It checks the body's CRC32C as it goes and refuses,
 * naming the byte offset, whatever is not a whole checkpoint: a bad field, a body that fails its
 * checksum, bytes after the end, or (at {@link #finish()}) an input cut short.
 *
 * <p>Not thread-safe: confined to one caller at a time. Unusable after it refused its input.
 *
 * <p>One class of about 500 lines, because it is one resumable state machine over the format: its
 * states share the position, the checksum and the partly read key and chain.
 */
final class SnapshotDecoder {
  private enum Step {
    HEADER,
    PREAMBLE,
    TIMES,
    KEY_COUNT,
    KEY_LENGTH,
    KEY,
    CHAIN_LENGTH,
    NODE,
    PUT,
    VALUE,
    TAIL,
    DONE
  }

  private static final int PREAMBLE_BYTES = 5 * 8;
  private static final byte[] NONE = new byte[0];

  private final int format;
  private final int maxKeyBytes;
  private final int maxValueBytes;
  private final CRC32C crc = new CRC32C();

  /** Gathers a fixed-size field cut by the end of a piece; holds at most one key. */
  private ByteBuffer field = ByteBuffer.allocate(64);

  private Step step;
  private long position;

  /** Where the field or value being read starts, for messages. */
  private long fieldAt;

  private boolean failed;

  /** Where the checksummed body starts, and how far the checksum has counted it. */
  private final long bodyStart;

  private long crcPosition;

  /** Where the body ends, once known: the tail after it is not checksummed. */
  private long bodyEnd = Long.MAX_VALUE;

  /** The piece being fed, its position and the offset of that position, while feeding. */
  private ByteBuffer piece = ByteBuffer.allocate(0);

  private int pieceStart;
  private long pieceOffset;

  private long version;
  private long watermark;
  private long lastCommitTime;
  private long first;
  private long commitCount;
  private long[] times = new long[0];
  private int timesRead;
  private List<byte[]>[] commitKeys;
  private List<byte[]>[] commitValues;

  private long keyCount;
  private long keysRead;
  private final Transient building;
  private byte @Nullable [] previousKey;

  /** The key being read; empty between keys. */
  private byte[] key = NONE;

  private int chainLength;
  private int nodesRead;
  private long[] versions = new long[4];
  private long[] created = new long[4];
  private byte[][] values = new byte[4][];

  /** The value being read; empty between values. */
  private byte[] value = NONE;

  private int valueAt;
  private @Nullable Snapshot result;

  /**
   * A decoder of a whole checkpoint, header first: only the current, checked format.
   *
   * @param maxKeyBytes the longest key it accepts
   * @param maxValueBytes the longest value it accepts
   */
  static SnapshotDecoder withHeader(
      Limits limits, ZIndexOptions index, int maxKeyBytes, int maxValueBytes) {
    return new SnapshotDecoder(
        limits, index, Checkpoint.FORMAT, 0, Step.HEADER, maxKeyBytes, maxValueBytes);
  }

  /**
   * A decoder of a checkpoint's body and tail, its header of {@code format} already read.
   *
   * @param headerBytes the header's size, where the body starts
   */
  static SnapshotDecoder afterHeader(
      Limits limits,
      ZIndexOptions index,
      int format,
      int headerBytes,
      int maxKeyBytes,
      int maxValueBytes) {
    return new SnapshotDecoder(
        limits, index, format, headerBytes, Step.PREAMBLE, maxKeyBytes, maxValueBytes);
  }

  @SuppressWarnings("unchecked")
  private SnapshotDecoder(
      Limits limits,
      ZIndexOptions index,
      int format,
      long position,
      Step step,
      int maxKeyBytes,
      int maxValueBytes) {
    this.format = format;
    this.position = position;
    this.bodyStart = step == Step.HEADER ? FileHeader.CHECKED_BYTES : position;
    this.crcPosition = bodyStart;
    this.step = step;
    this.maxKeyBytes = maxKeyBytes;
    this.maxValueBytes = maxValueBytes;
    this.building = Snapshot.empty(limits, index).asTransient();
    this.commitKeys = (List<byte[]>[]) new List<?>[0];
    this.commitValues = (List<byte[]>[]) new List<?>[0];
  }

  /** The offset of the next byte expected, counted from the checkpoint's first byte. */
  long position() {
    return position;
  }

  /** Whether the whole checkpoint, tail included, has been read. */
  boolean finished() {
    return step == Step.DONE;
  }

  /**
   * Reads the bytes remaining in {@code src}, leaving it empty.
   *
   * @throws CorruptSnapshotException if they are not what a checkpoint holds there
   * @throws IllegalStateException if this decoder refused earlier input
   */
  void feed(ByteBuffer src) throws CorruptSnapshotException {
    if (failed) {
      throw new IllegalStateException("the snapshot was refused earlier; start a new import");
    }
    assert src.hasArray() : "a heap buffer";
    piece = src;
    pieceStart = src.position();
    pieceOffset = position;
    try {
      while (src.hasRemaining()) {
        if (step == Step.DONE) {
          throw new CorruptSnapshotException(
              position, src.remaining() + " bytes after the end of the snapshot");
        }
        if (step == Step.VALUE) {
          int n = Math.min(src.remaining(), value.length - valueAt);
          src.get(value, valueAt, n);
          valueAt += n;
          position += n;
          if (valueAt == value.length) {
            endOfNode();
          }
        } else if (gather(src)) {
          field.flip();
          onField(field);
          field.clear();
        }
      }
      checksumTo(position);
    } catch (CorruptSnapshotException | RuntimeException | Error e) {
      failed = true;
      throw e;
    }
  }

  /**
   * The snapshot read.
   *
   * @throws CorruptSnapshotException if the input ended before the checkpoint's end
   */
  Snapshot finish() throws CorruptSnapshotException {
    if (failed) {
      throw new IllegalStateException("the snapshot was refused earlier; start a new import");
    }
    Snapshot done = result;
    if (step != Step.DONE || done == null) {
      failed = true;
      throw new CorruptSnapshotException(
          position, "the snapshot ends early, in its " + describe(step) + " (cut short?)");
    }
    return done;
  }

  private static String describe(Step step) {
    return switch (step) {
      case HEADER -> "header";
      case PREAMBLE, TIMES, KEY_COUNT -> "versions and commit times";
      case TAIL -> "checksum and end marker";
      default -> "keys and version chains";
    };
  }

  /** The size of the fixed-size field {@link #step} reads next. */
  private int fieldBytes() {
    return switch (step) {
      case HEADER -> FileHeader.CHECKED_BYTES;
      case PREAMBLE -> PREAMBLE_BYTES;
      case TIMES, KEY_COUNT -> 8;
      case KEY_LENGTH, CHAIN_LENGTH -> 4;
      case KEY -> key.length;
      case NODE -> 9;
      case PUT -> 12;
      case TAIL -> 12;
      case VALUE, DONE -> throw new AssertionError(step + " has no fixed-size field");
    };
  }

  /** Moves bytes of the next field from {@code src} into {@link #field}; true once it is whole. */
  private boolean gather(ByteBuffer src) {
    int need = fieldBytes();
    if (field.position() == 0) {
      fieldAt = position;
      if (field.capacity() < need) {
        field = ByteBuffer.allocate(need);
      }
      field.limit(need);
    }
    int n = Math.min(src.remaining(), field.remaining());
    int at = field.position();
    src.get(field.array(), at, n);
    field.position(at + n);
    position += n;
    return !field.hasRemaining();
  }

  /**
   * Counts the body's bytes up to offset {@code end} into the checksum, from the piece being fed,
   * in one bulk update per piece: a CRC fed field by field costs more than the parse itself. Every
   * byte before the piece was counted when its own piece was fed.
   */
  private void checksumTo(long upTo) {
    long end = Math.min(upTo, bodyEnd);
    long from = Math.max(crcPosition, bodyStart);
    if (end > from) {
      assert from >= pieceOffset : from + " < " + pieceOffset;
      int at = piece.arrayOffset() + pieceStart + (int) (from - pieceOffset);
      crc.update(piece.array(), at, (int) (end - from));
      crcPosition = end;
    }
  }

  private void onField(ByteBuffer f) throws CorruptSnapshotException {
    Step now = step;
    switch (now) {
      case HEADER -> header(f);
      case PREAMBLE -> preamble(f);
      case TIMES -> time(f.getLong());
      case KEY_COUNT -> {
        keyCount = f.getLong();
        if (keyCount < 0) {
          throw new CorruptSnapshotException(fieldAt, "negative key count " + keyCount);
        }
        step = keyCount == 0 ? Step.TAIL : Step.KEY_LENGTH;
        if (keyCount == 0) {
          endOfKeys();
        }
      }
      case KEY_LENGTH -> {
        int n = f.getInt();
        if (n < 0 || n > maxKeyBytes) {
          throw new CorruptSnapshotException(
              fieldAt, "key length " + n + " is not in [0, " + maxKeyBytes + "]");
        }
        key = new byte[n];
        step = Step.KEY;
        if (n == 0) {
          onKey();
        }
      }
      case KEY -> {
        f.get(key);
        onKey();
      }
      case CHAIN_LENGTH -> {
        int n = f.getInt();
        if (n < 1 || n - 1 > version) {
          throw new CorruptSnapshotException(
              fieldAt, "version chain length " + n + " is not in [1, " + (version + 1) + "]");
        }
        chainLength = n;
        nodesRead = 0;
        if (versions.length < n) {
          int size = Math.max(n, versions.length * 2);
          versions = Arrays.copyOf(versions, size);
          created = Arrays.copyOf(created, size);
          values = Arrays.copyOf(values, size);
        }
        step = Step.NODE;
      }
      case NODE -> {
        long v = f.getLong();
        long newer = nodesRead == 0 ? version + 1 : versions[nodesRead - 1];
        if (v < 0 || v >= newer) {
          throw new CorruptSnapshotException(
              fieldAt,
              "chain node version " + v + " is not in [0, " + newer + "): not newest first");
        }
        versions[nodesRead] = v;
        byte kind = f.get();
        if (kind == 0) {
          values[nodesRead] = null;
          endOfNode();
        } else if (kind == 1) {
          step = Step.PUT;
        } else {
          throw new CorruptSnapshotException(fieldAt + 8, "unknown chain node kind " + kind);
        }
      }
      case PUT -> {
        long c = f.getLong();
        if (c < 0 || c > versions[nodesRead]) {
          throw new CorruptSnapshotException(
              fieldAt, "create version " + c + " is not in [0, " + versions[nodesRead] + "]");
        }
        created[nodesRead] = c;
        int n = f.getInt();
        if (n < 0 || n > maxValueBytes) {
          throw new CorruptSnapshotException(
              fieldAt + 8, "value length " + n + " is not in [0, " + maxValueBytes + "]");
        }
        value = new byte[n];
        valueAt = 0;
        values[nodesRead] = value;
        step = Step.VALUE;
        if (n == 0) {
          endOfNode();
        }
      }
      case TAIL -> tail(f);
      case VALUE, DONE -> throw new AssertionError(now + " is not read as a field");
    }
  }

  private void header(ByteBuffer f) throws CorruptSnapshotException {
    byte[] checked = new byte[FileHeader.LEGACY_BYTES];
    f.get(0, checked);
    long magic = f.getLong();
    int found = f.getInt();
    int check = f.getInt();
    if (magic != Checkpoint.MAGIC) {
      throw new CorruptSnapshotException(
          0, "not a ZVerse snapshot: magic " + Long.toHexString(magic));
    }
    if (check != FileHeader.crc(checked, 0, checked.length)) {
      throw new CorruptSnapshotException(8, "header damaged: its checksum does not hold");
    }
    if (found != Checkpoint.FORMAT) {
      throw new CorruptSnapshotException(
          8,
          "snapshot format "
              + found
              + " is not format "
              + Checkpoint.FORMAT
              + ", the one this version reads; sender and receiver must run the same ZVerse");
    }
    step = Step.PREAMBLE;
  }

  @SuppressWarnings("unchecked")
  private void preamble(ByteBuffer f) throws CorruptSnapshotException {
    version = f.getLong();
    watermark = f.getLong();
    lastCommitTime = time(f.getLong(), format);
    first = f.getLong();
    commitCount = f.getLong();
    if (version < 0
        || watermark < 0
        || watermark > version
        || first < 1
        || commitCount < 0
        || first + commitCount - 1 != version
        || commitCount > Integer.MAX_VALUE) {
      throw new CorruptSnapshotException(fieldAt, "inconsistent snapshot header");
    }
    // Grown as the times arrive rather than sized by a count the bytes claim.
    int initial = (int) Math.min(commitCount, 1024);
    times = new long[initial];
    commitKeys = (List<byte[]>[]) new List<?>[initial];
    commitValues = (List<byte[]>[]) new List<?>[initial];
    step = commitCount == 0 ? Step.KEY_COUNT : Step.TIMES;
  }

  private void time(long stored) {
    long t = time(stored, format);
    if (timesRead > 0 && t <= times[timesRead - 1]) {
      t = Commit.after(times[timesRead - 1]);
    }
    if (timesRead == times.length) {
      int size = (int) Math.min(commitCount, Math.max(16L, 2L * times.length));
      times = Arrays.copyOf(times, size);
      commitKeys = Arrays.copyOf(commitKeys, size);
      commitValues = Arrays.copyOf(commitValues, size);
    }
    times[timesRead++] = t;
    if (timesRead == commitCount) {
      step = Step.KEY_COUNT;
    }
  }

  private void onKey() throws CorruptSnapshotException {
    if (previousKey != null && KeyOrder.compare(previousKey, key) >= 0) {
      throw new CorruptSnapshotException(fieldAt, "snapshot keys out of order");
    }
    step = Step.CHAIN_LENGTH;
  }

  private void endOfNode() {
    int i = nodesRead++;
    long v = versions[i];
    if (v >= first && v <= version) {
      int slot = (int) (v - first);
      if (commitKeys[slot] == null) {
        commitKeys[slot] = new ArrayList<>(4);
        commitValues[slot] = new ArrayList<>(4);
      }
      commitKeys[slot].add(key);
      commitValues[slot].add(values[i]);
    }
    value = NONE;
    if (nodesRead < chainLength) {
      step = Step.NODE;
      return;
    }
    // The oldest node starts the chain (chainLength >= 1 was checked), so head is never null.
    Version head = chainNode(chainLength - 1, null);
    for (int j = chainLength - 2; j >= 0; j--) {
      head = chainNode(j, head);
    }
    Arrays.fill(values, 0, chainLength, null);
    building.restoreChain(key, head);
    previousKey = key;
    key = NONE;
    if (++keysRead < keyCount) {
      step = Step.KEY_LENGTH;
    } else {
      endOfKeys();
    }
  }

  private Version chainNode(int j, @Nullable Version next) {
    byte[] v = values[j];
    return v == null
        ? Version.tombstone(versions[j], next)
        : Version.put(versions[j], v, next, created[j]);
  }

  @SuppressWarnings("unchecked")
  private void endOfKeys() {
    CommitLog log = CommitLog.startingAt(first);
    for (int i = 0; i < commitCount; i++) {
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
    if (commitCount > 0) {
      lastCommitTime = Math.max(lastCommitTime, times[(int) commitCount - 1]);
    }
    building.restoreLog(log, version, watermark, lastCommitTime);
    commitKeys = (List<byte[]>[]) new List<?>[0];
    commitValues = (List<byte[]>[]) new List<?>[0];
    // The body ends here: the tail that follows holds its checksum.
    checksumTo(position);
    bodyEnd = position;
    step = Step.TAIL;
  }

  private void tail(ByteBuffer f) throws CorruptSnapshotException {
    int stored = f.getInt();
    long end = f.getLong();
    assert crcPosition == fieldAt : crcPosition + " != " + fieldAt;
    if (stored != (int) crc.getValue()) {
      throw new CorruptSnapshotException(
          fieldAt,
          "the snapshot's body, to byte " + fieldAt + ", fails the checksum stored at that byte");
    }
    if (end != Checkpoint.END) {
      throw new CorruptSnapshotException(fieldAt + 4, "end marker missing or damaged");
    }
    result = building.persistent();
    step = Step.DONE;
  }

  /** A commit time as {@code format} stored it, in microseconds since the epoch. */
  private static long time(long stored, int format) {
    return format == 1 ? Commit.microsOfMillis(stored) : stored;
  }
}
