package dev.zverse.engine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how a durable store keeps its write-ahead log and checkpoints; see {@link DurableLog}.
 *
 * <p>Immutable; the {@code withX} methods return copies.
 */
public final class DurabilityOptions {
  /** Bytes a log segment grows to before the next one is started, by default: 64 MiB. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

  /** Smallest segment size allowed: 4 KiB. */
  public static final long MIN_SEGMENT_BYTES = 4L << 10;

  /** Largest segment size allowed: 1 GiB. */
  public static final long MAX_SEGMENT_BYTES = 1L << 30;

  /** Shortest interval of {@link SyncPolicy#INTERVAL}: 1 ms. */
  public static final Duration MIN_SYNC_INTERVAL = Duration.ofMillis(1);

  /** Longest interval of {@link SyncPolicy#INTERVAL}: 1 h. */
  public static final Duration MAX_SYNC_INTERVAL = Duration.ofHours(1);

  private final Path directory;
  private final SyncPolicy sync;
  private final Duration syncInterval;
  private final long segmentBytes;
  private final boolean recoverPastCorruption;

  private DurabilityOptions(
      Path directory,
      SyncPolicy sync,
      Duration syncInterval,
      long segmentBytes,
      boolean recoverPastCorruption) {
    this.directory = directory;
    this.sync = sync;
    this.syncInterval = syncInterval;
    this.segmentBytes = segmentBytes;
    this.recoverPastCorruption = recoverPastCorruption;
  }

  /**
   * A durable store in {@code directory}, created if missing: every commit forced, 64 MiB log
   * segments, recovery refusing to pass damaged records.
   *
   * @throws NullPointerException if {@code directory} is null
   */
  public static DurabilityOptions in(Path directory) {
    return new DurabilityOptions(
        Objects.requireNonNull(directory, "directory"),
        SyncPolicy.EVERY_COMMIT,
        Duration.ofMillis(100),
        DEFAULT_SEGMENT_BYTES,
        false);
  }

  /**
   * These options with another data directory, the rest kept.
   *
   * @param directory the directory, created if missing
   * @return a copy with this directory
   * @throws NullPointerException if {@code directory} is null
   */
  public DurabilityOptions withDirectory(Path directory) {
    return new DurabilityOptions(
        Objects.requireNonNull(directory, "directory"),
        sync,
        syncInterval,
        segmentBytes,
        recoverPastCorruption);
  }

  /**
   * These options with another sync policy. @throws NullPointerException if {@code sync} is null
   */
  public DurabilityOptions withSync(SyncPolicy sync) {
    return new DurabilityOptions(
        directory,
        Objects.requireNonNull(sync, "sync"),
        syncInterval,
        segmentBytes,
        recoverPastCorruption);
  }

  /**
   * These options with another interval for {@link SyncPolicy#INTERVAL}.
   *
   * @param syncInterval how often the log is forced, in [{@link #MIN_SYNC_INTERVAL} (1 ms), {@link
   *     #MAX_SYNC_INTERVAL} (1 h)]
   * @return a copy with this interval
   * @throws NullPointerException if {@code syncInterval} is null
   * @throws IllegalArgumentException if {@code syncInterval} is out of bounds
   */
  public DurabilityOptions withSyncInterval(Duration syncInterval) {
    Objects.requireNonNull(syncInterval, "syncInterval");
    if (syncInterval.compareTo(MIN_SYNC_INTERVAL) < 0
        || syncInterval.compareTo(MAX_SYNC_INTERVAL) > 0) {
      throw new IllegalArgumentException(
          "syncInterval must be in ["
              + MIN_SYNC_INTERVAL
              + ", "
              + MAX_SYNC_INTERVAL
              + "], was "
              + syncInterval);
    }
    return new DurabilityOptions(
        directory, sync, syncInterval, segmentBytes, recoverPastCorruption);
  }

  /**
   * These options with another log segment size.
   *
   * @param segmentBytes in [{@value #MIN_SEGMENT_BYTES}, {@value #MAX_SEGMENT_BYTES}]; one group
   *     commit's record is never split, so a segment may exceed it by one record
   * @throws IllegalArgumentException if out of bounds
   */
  public DurabilityOptions withSegmentBytes(long segmentBytes) {
    if (segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) {
      throw new IllegalArgumentException(
          "segmentBytes must be in ["
              + MIN_SEGMENT_BYTES
              + ", "
              + MAX_SEGMENT_BYTES
              + "], was "
              + segmentBytes);
    }
    return new DurabilityOptions(
        directory, sync, syncInterval, segmentBytes, recoverPastCorruption);
  }

  /**
   * These options with recovery allowed past a damaged log record: the operator's explicit choice
   * to keep everything before the damage and lose the record and everything after it; the recovery
   * report says which versions and how many bytes were dropped. Off by default: then damage that is
   * not a torn tail stops the open with a {@link CorruptLogException} naming the file and offset.
   * Either way a torn tail is cut, and damage in versions the checkpoint already holds is skipped.
   *
   * @param recoverPastCorruption whether recovery may cut the log at damage
   * @return a copy with the new setting
   */
  public DurabilityOptions withRecoverPastCorruption(boolean recoverPastCorruption) {
    return new DurabilityOptions(
        directory, sync, syncInterval, segmentBytes, recoverPastCorruption);
  }

  /** The data directory. */
  public Path directory() {
    return directory;
  }

  /** When the log is forced. */
  public SyncPolicy sync() {
    return sync;
  }

  /** The interval of {@link SyncPolicy#INTERVAL}. */
  public Duration syncInterval() {
    return syncInterval;
  }

  /** Bytes a log segment grows to before the next. */
  public long segmentBytes() {
    return segmentBytes;
  }

  /** Whether recovery may cut the log at a damaged record followed by whole ones. */
  public boolean recoverPastCorruption() {
    return recoverPastCorruption;
  }

  @Override
  public String toString() {
    return "DurabilityOptions["
        + directory
        + ", "
        + sync
        + (sync == SyncPolicy.INTERVAL ? " " + syncInterval : "")
        + ", segments of "
        + segmentBytes
        + " bytes"
        + (recoverPastCorruption ? ", recovering past corruption" : "")
        + "]";
  }
}
