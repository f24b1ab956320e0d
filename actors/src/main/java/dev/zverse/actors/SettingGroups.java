package dev.zverse.actors;

import java.time.Duration;
import java.util.Objects;

/**
 * The groups of a store's settings that the engine's value types ({@code Limits}, {@code
 * ZIndexOptions}, {@code DurabilityOptions}) do not model. Each group is an immutable record that
 * checks its values in its constructor, so every bound is stated once: {@link StoreSettings}'s
 * copiers and {@link StoreSettingsReader} both build the same records, and a message names the
 * argument (the reader renames it to the configuration path) and the bounds.
 */
final class SettingGroups {
  /** The longest duration any setting takes: 3650 days. */
  static final Duration MAX_DAYS = Duration.ofDays(3650);

  private static final Duration ONE_MS = Duration.ofMillis(1);
  private static final Duration ONE_HOUR = Duration.ofHours(1);

  private SettingGroups() {}

  /**
   * What stays readable besides what is pinned.
   *
   * @param versions the newest versions kept, at least 1
   * @param duration how long versions stay readable by time, in [0, 3650 days]; zero is off
   */
  record Retention(long versions, Duration duration) {
    Retention {
      inRange(versions, 1, Long.MAX_VALUE, "retentionVersions");
      inRange(duration, Duration.ZERO, MAX_DAYS, "retentionDuration");
    }
  }

  /**
   * The EpochActor's timing.
   *
   * @param tick the interval of its scan, in [1 ms, 1 h]
   * @param longPinWarning the age past which a pin is logged, in [1 ms, 3650 days]
   * @param askTimeout how long a question to it waits, in [1 ms, 1 h]
   */
  record Epoch(Duration tick, Duration longPinWarning, Duration askTimeout) {
    Epoch {
      inRange(tick, ONE_MS, ONE_HOUR, "epochTick");
      inRange(longPinWarning, ONE_MS, MAX_DAYS, "longPinWarning");
      inRange(askTimeout, ONE_MS, ONE_HOUR, "askTimeout");
    }
  }

  /**
   * The WriterActor's bounds and dispatcher.
   *
   * @param maxPendingWrites writes sent and not yet answered, in [1, 2^24]
   * @param maxGroupWrites writes published together, in [1, 2^16]
   * @param dispatcher a dispatcher's configuration path, or {@code ""} for the default one
   * @param callerRuns whether a write that finds the writer idle runs on the caller's thread
   */
  record Writer(int maxPendingWrites, int maxGroupWrites, String dispatcher, boolean callerRuns) {
    Writer {
      inRange(maxPendingWrites, 1, 1 << 24, "maxPendingWrites");
      inRange(maxGroupWrites, 1, 1 << 16, "maxGroupWrites");
      Objects.requireNonNull(dispatcher, "writerDispatcher");
    }
  }

  /**
   * The timing of a durable store's log that the store, not the engine's log, keeps.
   *
   * @param groupCommitWait the longest a group waits for returning writers, in [0, 1 s]
   * @param checkpointInterval how often a checkpoint is written, in [0, 3650 days]; zero is off
   * @param checkpointEveryVersions versions between checkpoints, at least 0; zero is off
   */
  record LogTiming(
      Duration groupCommitWait, Duration checkpointInterval, long checkpointEveryVersions) {
    LogTiming {
      inRange(groupCommitWait, Duration.ZERO, Duration.ofSeconds(1), "groupCommitWait");
      inRange(checkpointInterval, Duration.ZERO, MAX_DAYS, "checkpointInterval");
      inRange(checkpointEveryVersions, 0, Long.MAX_VALUE, "checkpointEveryVersions");
    }
  }

  /** Refuses {@code value} outside [min, max], naming it and the bounds. */
  static void inRange(long value, long min, long max, String name) {
    if (value < min || value > max) {
      String bounds = max == Long.MAX_VALUE ? ">= " + min : "in [" + min + ", " + max + "]";
      throw new IllegalArgumentException(name + " must be " + bounds + ", was " + value);
    }
  }

  /** Refuses a null {@code value} or one outside [min, max], naming it and the bounds. */
  static void inRange(Duration value, Duration min, Duration max, String name) {
    Objects.requireNonNull(value, name);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          name + " must be in [" + min + ", " + max + "], was " + value);
    }
  }
}
