package dev.zverse.engine;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * A snapshot with its retained history as a sequence of byte chunks, written lazily: what state
 * transfer sends from one node to another, and what {@link SnapshotImport} builds the snapshot back
 * from.
 *
 * <p>The chunks' payloads, end to end, are the bytes of a checkpoint of the snapshot (the format
 * that recovery reads, with its checksums): this class and the store's checkpoint share one writer.
 * Each chunk adds a frame of {@value #FRAME_BYTES} bytes, so that a receiver refuses a chunk that
 * is damaged, cut or out of order on its own, before the body's checksum at the end:
 *
 * <pre>
 * offset of the payload's first byte in the snapshot's bytes (long), payload length (int),
 * CRC32C of those 12 bytes and the payload (int), payload (1 to chunkBytes bytes)
 * </pre>
 *
 * <h2>Memory</h2>
 *
 * Each {@link #next()} writes one new chunk of at most {@code chunkBytes} payload bytes, walking
 * the snapshot's tree from where the previous chunk ended; values larger than a chunk are cut
 * across chunks. Beyond the chunk it returns, the export holds only a cursor and one key, never a
 * copy of the state. The snapshot must stay reachable meanwhile, which the export ensures by
 * holding it; a store keeps its version readable only while someone pins it (the cluster module
 * pins the version it exports).
 *
 * <p>Not thread-safe: one consumer at a time, with a happens-before edge between consumers (a
 * stream stage's successive pulls have one).
 */
public final class SnapshotExport implements Iterator<byte[]> {
  /** Bytes of each chunk's frame before its payload. */
  public static final int FRAME_BYTES = 16;

  /** The largest {@code chunkBytes}. */
  public static final int MAX_CHUNK_BYTES = 64 * 1024 * 1024;

  private final Snapshot snapshot;
  private final SnapshotEncoder encoder;
  private final int chunkBytes;
  private final CRC32C crc = new CRC32C();

  private SnapshotExport(Snapshot snapshot, int chunkBytes) {
    this.snapshot = snapshot;
    this.encoder = new SnapshotEncoder(snapshot);
    this.chunkBytes = chunkBytes;
  }

  /**
   * An export of {@code snapshot} in chunks of at most {@code chunkBytes} payload bytes each.
   *
   * @param snapshot the snapshot, with every version from its watermark to its version
   * @param chunkBytes the most payload bytes per chunk, in [1, {@value #MAX_CHUNK_BYTES}]; each
   *     chunk is {@value #FRAME_BYTES} bytes longer
   * @return the export, positioned before its first chunk
   * @throws NullPointerException if {@code snapshot} is null
   * @throws IllegalArgumentException if {@code chunkBytes} is out of its bounds
   */
  public static SnapshotExport of(Snapshot snapshot, int chunkBytes) {
    Objects.requireNonNull(snapshot, "snapshot");
    if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
      throw new IllegalArgumentException(
          "chunkBytes must be in [1, " + MAX_CHUNK_BYTES + "], was " + chunkBytes);
    }
    return new SnapshotExport(snapshot, chunkBytes);
  }

  /**
   * The snapshot exported.
   *
   * @return the snapshot given to {@link #of}
   */
  public Snapshot snapshot() {
    return snapshot;
  }

  /**
   * Whether a chunk remains.
   *
   * @return false once the chunk with the snapshot's last byte was returned
   */
  @Override
  public boolean hasNext() {
    return !encoder.finished();
  }

  /**
   * The next chunk, frame and payload: a new array the caller may keep.
   *
   * @return the chunk, at most {@code FRAME_BYTES + chunkBytes} bytes long
   * @throws NoSuchElementException if no chunk remains
   */
  @Override
  public byte[] next() {
    if (encoder.finished()) {
      throw new NoSuchElementException("the export of version " + snapshot.version() + " is done");
    }
    long offset = encoder.position();
    ByteBuffer chunk = ByteBuffer.allocate(FRAME_BYTES + chunkBytes);
    chunk.position(FRAME_BYTES);
    int n = encoder.fill(chunk);
    assert n > 0 : "an unfinished export wrote nothing";
    chunk.putLong(0, offset).putInt(8, n);
    crc.reset();
    crc.update(chunk.array(), 0, 12);
    crc.update(chunk.array(), FRAME_BYTES, n);
    chunk.putInt(12, (int) crc.getValue());
    byte[] out = chunk.array();
    return n == chunkBytes ? out : Arrays.copyOf(out, FRAME_BYTES + n);
  }

  /**
   * Payload bytes returned so far: the offset of the next chunk's payload.
   *
   * @return bytes, at least 0
   */
  public long position() {
    return encoder.position();
  }

  /**
   * Bytes this export holds between chunks, beyond the snapshot it reads: at most the longest key
   * plus a few fixed fields, whatever the size of the store or of its values.
   *
   * @return bytes, at least 0
   */
  int heldBytes() {
    return encoder.heldBytes();
  }
}
