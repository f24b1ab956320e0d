package dev.zverse.engine;

import java.io.IOException;
import java.util.Objects;

/**
 * Fault injection into a {@link DurableLog}, for tests only: a full disk or a failing device on the
 * next write, or records smaller than {@link DurableLog}'s limit so that a small version is too big
 * for one (a range delete of millions of keys, in production).
 *
 * <p>This is the supported hook for tests of the layers above the engine (a store's failure
 * handling, its logging); production code never calls it. It replaces reaching into the log's
 * package-private fields from a test in the engine's package.
 *
 * <p><b>Thread safety.</b> The log reads what these methods set on the thread that appends, without
 * synchronization (the check sits on the append path). Set a fault before the write that should
 * meet it is sent: the hops from the caller to the writer and on to the log's thread (an actor
 * message, an executor hand-off) order this write before the log thread's read.
 */
public final class LogFaults {
  private LogFaults() {}

  /**
   * Makes every later write of {@code log} throw {@code failure}, as a full disk would. The first
   * append that meets it fails the log for good, as a real I/O error does.
   *
   * @param log the log to fail
   * @param failure the error each later write throws
   * @throws NullPointerException if {@code log} or {@code failure} is null
   */
  public static void failWrites(DurableLog log, IOException failure) {
    Objects.requireNonNull(log, "log");
    Objects.requireNonNull(failure, "failure");
    log.fault =
        () -> {
          throw failure;
        };
  }

  /**
   * Makes {@code log} write records of at most {@code bytes} bytes of payload from now on: a group
   * bigger than that is split into several records, and a version bigger than that is refused with
   * an {@link IllegalArgumentException} that leaves the log usable.
   *
   * @param log the log to limit
   * @param bytes the largest record payload, in bytes, in [{@value
   *     CommitRecordCodec#MIN_PAYLOAD_BYTES}, {@value CommitRecordCodec#MAX_PAYLOAD_BYTES}] (the
   *     smallest payload, of a group with no changes, up to the log's own limit)
   * @throws NullPointerException if {@code log} is null
   * @throws IllegalArgumentException if {@code bytes} is out of bounds; the log is unchanged
   */
  public static void limitRecords(DurableLog log, int bytes) {
    Objects.requireNonNull(log, "log");
    if (bytes < CommitRecordCodec.MIN_PAYLOAD_BYTES
        || bytes > CommitRecordCodec.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "bytes must be in ["
              + CommitRecordCodec.MIN_PAYLOAD_BYTES
              + ", "
              + CommitRecordCodec.MAX_PAYLOAD_BYTES
              + "], was "
              + bytes);
    }
    log.recordLimit = bytes;
  }

  /**
   * Takes back what {@link #failWrites} and {@link #limitRecords} set: later writes meet no
   * injected error and records go back to the log's own limit. A log an injected error already
   * failed stays failed, as after a real one.
   *
   * @param log the log to clear
   * @throws NullPointerException if {@code log} is null
   */
  public static void clear(DurableLog log) {
    Objects.requireNonNull(log, "log");
    log.fault = null;
    log.recordLimit = CommitRecordCodec.MAX_PAYLOAD_BYTES;
  }
}
