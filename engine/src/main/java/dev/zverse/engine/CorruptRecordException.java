package dev.zverse.engine;

import java.io.IOException;

/**
 * Bytes handed to {@link CommitRecordCodec#decode} are not a whole, undamaged record: cut short, a
 * checksum that does not hold, or a field that cannot be. Names the byte offset of the damage,
 * counted from the first byte of the record. Where the record was read from a log segment, recovery
 * reports the same damage as a {@link CorruptLogException} naming the file and its offset there.
 */
public final class CorruptRecordException extends IOException {
  private static final long serialVersionUID = 1L;

  private final long offset;
  private final String problem;

  /**
   * @param offset the byte offset of the damage from the record's first byte, at least 0
   * @param problem what is wrong there
   */
  public CorruptRecordException(long offset, String problem) {
    super("record damaged at byte " + offset + ": " + problem);
    this.offset = offset;
    this.problem = problem;
  }

  /** The byte offset of the damage, from the record's first byte. */
  public long offset() {
    return offset;
  }

  /** What is wrong at {@link #offset()}, without the offset. */
  public String problem() {
    return problem;
  }
}
