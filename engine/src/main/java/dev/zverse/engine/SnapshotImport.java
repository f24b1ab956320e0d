package dev.zverse.engine;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Builds a snapshot from the chunks of a {@link SnapshotExport}, taken one by one in order: the
 * receiving side of state transfer.
 *
 * <p>Each chunk is checked on its own as it arrives (its frame's checksum, its offset against the
 * bytes taken so far), then read into the snapshot being built, field by field; the body's own
 * checksum is checked at its end. Whatever is not the next part of a whole snapshot is refused with
 * a {@link CorruptSnapshotException} naming the byte offset, and the import is then unusable. Keys
 * and values are checked against the receiving store's {@link Limits}.
 *
 * <p>It holds the snapshot being built, plus at most one key or fixed-size field cut by the end of
 * a chunk: no chunk is kept once taken. Not thread-safe: one producer at a time, with a
 * happens-before edge between producers (a stream stage's successive pushes have one).
 */
public final class SnapshotImport {
  private final SnapshotDecoder decoder;
  private final CRC32C crc = new CRC32C();
  private boolean done;

  private SnapshotImport(SnapshotDecoder decoder) {
    this.decoder = decoder;
  }

  /**
   * An import of nothing yet, building a snapshot with {@code limits} and {@code index}.
   *
   * @param limits the limits of the store the snapshot is for; a longer key or value is refused
   * @param index how the snapshot keeps its Z-index
   * @return the import, expecting the chunk at offset 0
   * @throws NullPointerException if an argument is null
   */
  public static SnapshotImport create(Limits limits, ZIndexOptions index) {
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(index, "index");
    return new SnapshotImport(
        SnapshotDecoder.withHeader(limits, index, limits.maxKeyBytes(), limits.maxValueBytes()));
  }

  /**
   * An import of nothing yet, building a snapshot with the limits and Z-index options of {@code
   * like}: the receiving store's own snapshot, whose settings the received one must keep.
   *
   * @param like a snapshot with the wanted limits and Z-index options; its data is not used
   * @return the import, expecting the chunk at offset 0
   * @throws NullPointerException if {@code like} is null
   */
  public static SnapshotImport into(Snapshot like) {
    Objects.requireNonNull(like, "like");
    return create(like.limits, like.zindex.options);
  }

  /**
   * Takes the next chunk.
   *
   * @param chunk a chunk as {@link SnapshotExport#next()} wrote it, the next in order
   * @throws NullPointerException if {@code chunk} is null
   * @throws CorruptSnapshotException if the chunk is damaged, cut, out of order, after the
   *     snapshot's end, or holds what a snapshot cannot (a key or value over this store's limits, a
   *     body that fails its checksum); names the offset
   * @throws IllegalStateException if the import refused an earlier chunk or was finished
   */
  public void accept(byte[] chunk) throws CorruptSnapshotException {
    Objects.requireNonNull(chunk, "chunk");
    if (done) {
      throw new IllegalStateException("the import is finished, or refused an earlier chunk");
    }
    long expected = decoder.position();
    if (chunk.length < SnapshotExport.FRAME_BYTES) {
      throw refuse(
          expected,
          "a chunk of "
              + chunk.length
              + " bytes is shorter than its "
              + SnapshotExport.FRAME_BYTES
              + "-byte frame");
    }
    ByteBuffer b = ByteBuffer.wrap(chunk);
    long offset = b.getLong(0);
    int length = b.getInt(8);
    if (length != chunk.length - SnapshotExport.FRAME_BYTES) {
      throw refuse(
          expected,
          "the chunk's frame says "
              + length
              + " payload bytes, the chunk has "
              + (chunk.length - SnapshotExport.FRAME_BYTES)
              + " (cut or damaged)");
    }
    crc.reset();
    crc.update(chunk, 0, 12);
    crc.update(chunk, SnapshotExport.FRAME_BYTES, length);
    if (b.getInt(12) != (int) crc.getValue()) {
      throw refuse(expected, "the chunk that should start here fails its checksum");
    }
    if (offset != expected) {
      throw refuse(
          expected,
          "chunk out of order: it starts at byte " + offset + ", the next expected at " + expected);
    }
    try {
      decoder.feed(b.position(SnapshotExport.FRAME_BYTES));
    } catch (CorruptSnapshotException | RuntimeException e) {
      done = true;
      throw e;
    }
  }

  /**
   * Payload bytes taken so far: the offset the next chunk must start at.
   *
   * @return bytes, at least 0
   */
  public long position() {
    return decoder.position();
  }

  /**
   * Whether the chunk with the snapshot's last byte was taken.
   *
   * @return true once {@link #finish()} can return the snapshot
   */
  public boolean isComplete() {
    return decoder.finished();
  }

  /**
   * The snapshot built; the import is then finished.
   *
   * @return the snapshot, equal to the exported one at every version it retains
   * @throws CorruptSnapshotException if the chunks taken end before the snapshot does (a stream cut
   *     short), naming the offset where the next chunk was expected
   * @throws IllegalStateException if the import refused an earlier chunk or was finished
   */
  public Snapshot finish() throws CorruptSnapshotException {
    if (done) {
      throw new IllegalStateException("the import is finished, or refused an earlier chunk");
    }
    done = true;
    return decoder.finish();
  }

  private CorruptSnapshotException refuse(long offset, String problem) {
    done = true;
    return new CorruptSnapshotException(offset, problem);
  }
}
