package dev.zverse.engine;

import java.io.IOException;

/**
 * The bytes handed to a {@link SnapshotImport} are not a whole, undamaged snapshot: a chunk that
 * fails its checksum, comes out of order or is cut, a field that cannot be, or a stream that ends
 * before the snapshot does. Names the byte offset of the damage in the snapshot's bytes (the
 * offsets that {@link SnapshotExport} gives its chunks). The import that refused it is unusable;
 * nothing was built.
 */
public final class CorruptSnapshotException extends IOException {
  private static final long serialVersionUID = 1L;

  private final long offset;
  private final String problem;

  /**
   * A refusal at {@code offset}.
   *
   * @param offset the byte offset of the damage in the snapshot's bytes, at least 0
   * @param problem what is wrong there
   */
  public CorruptSnapshotException(long offset, String problem) {
    super("snapshot damaged at byte " + offset + ": " + problem);
    this.offset = offset;
    this.problem = problem;
  }

  /**
   * The byte offset of the damage.
   *
   * @return an offset in the snapshot's bytes, at least 0
   */
  public long offset() {
    return offset;
  }

  /**
   * What is wrong at {@link #offset()}, without the offset.
   *
   * @return the problem
   */
  public String problem() {
    return problem;
  }
}
