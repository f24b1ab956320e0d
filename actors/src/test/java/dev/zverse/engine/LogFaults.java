package dev.zverse.engine;

import java.io.IOException;

/**
 * Reaches the engine's package-private fault hook of {@link DurableLog} from the actors module's
 * tests (same package name, test class path only).
 */
public final class LogFaults {
  private LogFaults() {}

  /**
   * Makes every later write of {@code log} throw {@code e}, as a full disk would; null clears it.
   * Set it before the write that should fail is sent: the message hops from the caller to the writer
   * and on to the log thread order this plain field write before the log thread reads it.
   */
  public static void failWrites(DurableLog log, IOException e) {
    log.fault =
        e == null
            ? null
            : () -> {
              throw e;
            };
  }

  /**
   * Makes {@code log} take records of at most {@code bytes} of payload from now on, so that a
   * small version is too big for one (a range delete of millions of keys, in production). Set it
   * before the write is sent, like {@link #failWrites}.
   */
  public static void limitRecords(DurableLog log, int bytes) {
    log.recordLimit = bytes;
  }
}
