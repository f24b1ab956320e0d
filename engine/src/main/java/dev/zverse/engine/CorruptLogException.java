package dev.zverse.engine;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file of a durable store is damaged where recovery cannot pass it safely: log damage that is no
 * torn tail (a record failing its checksum with data after it, a damaged record header) in versions
 * no checkpoint holds, a gap in the logged versions, or a checkpoint that is damaged with no other
 * way to recover. Names the file and the byte offset.
 *
 * <p>The way on, for an operator who accepts losing the damaged record and everything logged after
 * it: open again with {@link DurabilityOptions#withRecoverPastCorruption(boolean)}.
 */
public final class CorruptLogException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;

  /**
   * @param file the damaged file
   * @param offset the byte offset of the damage in it
   * @param problem what is wrong there
   */
  public CorruptLogException(Path file, long offset, String problem) {
    super(file + " is damaged at byte " + offset + ": " + problem);
    this.file = file;
    this.offset = offset;
  }

  /** The damaged file. */
  public Path file() {
    return file;
  }

  /** The byte offset of the damage. */
  public long offset() {
    return offset;
  }
}
