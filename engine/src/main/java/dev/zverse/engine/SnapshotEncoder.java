package dev.zverse.engine;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * Writes a snapshot with its retained history as the bytes of a checkpoint ({@link Checkpoint}
 * describes the format), lazily, into whatever buffers the caller hands it: a file's write buffer
 * or the chunks of a {@link SnapshotExport}. The one writer of that format.
 *
 * <p>It walks the snapshot's tree with a cursor and copies each value straight from the tree into
 * the caller's buffer, in as many pieces as the buffer needs, so what it holds beyond the snapshot
 * itself is one key and a few fixed fields ({@link #heldBytes()}), whatever the store's size and
 * however large a value. The snapshot is immutable, so nothing it reads can change under it.
 *
 * <p>Not thread-safe: confined to one caller at a time (handing it on needs a happens-before edge,
 * as a stream stage's successive calls have).
 */
final class SnapshotEncoder {
  private enum Step {
    HEADER,
    PREAMBLE,
    TIMES,
    KEY_COUNT,
    KEY,
    NODE,
    DONE
  }

  /** Commit times written per piece: bounds the scratch buffer. */
  private static final int TIMES_PER_PIECE = 256;

  private final Snapshot snapshot;
  private final TreeCursor cursor;
  private final CRC32C crc = new CRC32C();

  /** The piece being copied out; its remaining bytes are what is still to copy. */
  private ByteBuffer scratch = ByteBuffer.allocate(TIMES_PER_PIECE * 8);

  /** Whether the piece in {@link #scratch} is part of the checksummed body. */
  private boolean scratchInBody;

  /** A value being copied straight out of the tree after its node's fields; null if none. */
  private byte @Nullable [] value;

  private int valueAt;
  private Step step = Step.HEADER;
  private long nextTime;

  /** The chain node to write next, and how many of its chain are still to write. */
  private @Nullable Version node;

  private int nodesLeft;
  private long keysWritten;
  private long position;

  SnapshotEncoder(Snapshot snapshot) {
    this.snapshot = snapshot;
    this.cursor = new TreeCursor(snapshot.root, snapshot.height);
    scratch.limit(0);
  }

  /**
   * Writes the next bytes into {@code dst}, until it is full or everything is written.
   *
   * @return the number of bytes written, 0 only if {@code dst} has no room or all is written
   */
  int fill(ByteBuffer dst) {
    int start = dst.position();
    while (dst.hasRemaining()) {
      if (scratch.hasRemaining()) {
        int n = Math.min(scratch.remaining(), dst.remaining());
        if (scratchInBody) {
          crc.update(scratch.array(), scratch.position(), n);
        }
        dst.put(scratch.array(), scratch.position(), n);
        scratch.position(scratch.position() + n);
      } else if (value != null) {
        byte[] v = value;
        int n = Math.min(v.length - valueAt, dst.remaining());
        crc.update(v, valueAt, n);
        dst.put(v, valueAt, n);
        valueAt += n;
        if (valueAt == v.length) {
          value = null;
        }
      } else if (!nextPiece()) {
        break;
      }
    }
    int written = dst.position() - start;
    position += written;
    return written;
  }

  /** Whether every byte has been written. */
  boolean finished() {
    return step == Step.DONE && !scratch.hasRemaining() && value == null;
  }

  /** Bytes written so far. */
  long position() {
    return position;
  }

  /** Bytes this encoder holds beyond the snapshot: its scratch buffer. */
  int heldBytes() {
    return scratch.capacity();
  }

  /** Prepares the next piece in {@link #scratch} (and maybe {@link #value}); false at the end. */
  private boolean nextPiece() {
    Snapshot s = snapshot;
    scratch.clear();
    scratchInBody = true;
    switch (step) {
      case HEADER -> {
        scratch.put(FileHeader.encode(Checkpoint.MAGIC, Checkpoint.FORMAT));
        scratchInBody = false;
        step = Step.PREAMBLE;
      }
      case PREAMBLE -> {
        long first = s.commits.firstVersion();
        scratch.putLong(s.version).putLong(s.watermark).putLong(s.lastCommitMicros);
        scratch.putLong(first).putLong(s.version - first + 1);
        nextTime = first;
        step = Step.TIMES;
      }
      case TIMES -> {
        for (int i = 0; i < TIMES_PER_PIECE && nextTime <= s.version; i++, nextTime++) {
          scratch.putLong(s.commits.get(nextTime).timeMicros);
        }
        if (nextTime > s.version) {
          step = Step.KEY_COUNT;
        }
      }
      case KEY_COUNT -> {
        scratch.putLong(s.keys);
        cursor.seekFirst();
        step = Step.KEY;
      }
      case KEY -> keyPiece();
      case NODE -> nodePiece();
      case DONE -> {
        scratch.flip();
        return false;
      }
    }
    scratch.flip();
    return true;
  }

  private void keyPiece() {
    if (!cursor.valid()) {
      assert keysWritten == snapshot.keys
          : keysWritten + " keys written, " + snapshot.keys + " counted";
      // Every body byte is out of the scratch buffer and counted: the checksum is whole.
      scratch.putInt((int) crc.getValue()).putLong(Checkpoint.END);
      scratchInBody = false;
      step = Step.DONE;
      return;
    }
    byte[] key = cursor.key();
    Version head = cursor.head();
    // Only what reads at or above the watermark need: not the superseded version a write may have
    // left below them (see Transient#prune).
    nodesLeft = Math.max(1, head.retainedLength(snapshot.watermark));
    node = head;
    ensure(8 + key.length);
    scratch.putInt(key.length).put(key).putInt(nodesLeft);
    step = Step.NODE;
  }

  private void nodePiece() {
    Version n = node;
    if (n == null) {
      throw new IllegalStateException(
          "version chain shorter than its retained length at byte " + position);
    }
    scratch.putLong(n.version);
    if (n.value == null) {
      scratch.put((byte) 0);
    } else {
      scratch.put((byte) 1).putLong(n.created()).putInt(n.value.length);
      if (n.value.length > 0) {
        value = n.value;
        valueAt = 0;
      }
    }
    node = n.next();
    if (--nodesLeft == 0) {
      node = null;
      keysWritten++;
      cursor.next();
      step = Step.KEY;
    }
  }

  /** Makes room for {@code n} bytes in the (cleared) scratch buffer. */
  private void ensure(int n) {
    if (scratch.capacity() < n) {
      scratch = ByteBuffer.allocate(n);
    }
  }
}
