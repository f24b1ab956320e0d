package dev.zverse.engine;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file in a durable store's directory is not one this version of ZVerse can read: its magic
 * number is not ours, or its format version is newer than the newest this code knows. Nothing is
 * changed; open it with the ZVerse that wrote it.
 */
public final class UnsupportedFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /**
   * @param file the file refused
   * @param problem what is unknown about it
   */
  public UnsupportedFormatException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  /** The file refused. */
  public Path file() {
    return file;
  }
}
