package dev.zverse.actors;

import dev.zverse.actors.SettingGroups.LogTiming;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.SyncPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@code durability} section of a store's settings: the data directory (none, the default,
 * keeps the store in memory only) and how a durable store keeps its write-ahead log and
 * checkpoints. Reached through {@link StoreSettings#durability()} and changed with {@link
 * StoreSettings#withDurability}:
 *
 * <pre>{@code
 * settings.withDataDirectory(directory).withDurability(d -> d.withSync(SyncPolicy.INTERVAL))
 * }</pre>
 *
 * <p>What the engine's log takes is held as its {@link DurabilityOptions}, which checks those
 * bounds; the rest (the group-commit wait and the checkpoint rules, which the store applies) in a
 * group that checks its own. The settings a memory-only store does not use are kept, so that
 * turning a directory on and off again changes nothing else.
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class DurabilitySettings {
  /** The directory of a memory-only store: none. */
  private static final Path MEMORY_ONLY = Path.of("");

  /** The engine's log options; an empty directory means memory-only. */
  private final DurabilityOptions log;

  private final LogTiming timing;

  DurabilitySettings(DurabilityOptions log, LogTiming timing) {
    this.log = Objects.requireNonNull(log, "log");
    this.timing = Objects.requireNonNull(timing, "timing");
  }

  /**
   * The data directory of a durable store ({@code durability.data-directory}); empty for a
   * memory-only store, the default. A relative path is resolved against the working directory.
   */
  public Optional<Path> dataDirectory() {
    return isDurable() ? Optional.of(log.directory()) : Optional.empty();
  }

  /** Whether the store keeps a write-ahead log and checkpoints in a data directory. */
  public boolean isDurable() {
    return !log.directory().equals(MEMORY_ONLY);
  }

  /** When a durable store forces its log ({@code durability.sync}); see {@link SyncPolicy}. */
  public SyncPolicy sync() {
    return log.sync();
  }

  /** How often a durable store under {@link SyncPolicy#INTERVAL} forces its log. */
  public Duration syncInterval() {
    return log.syncInterval();
  }

  /**
   * How long a durable store's next group commit waits, at most, for the writers the previous group
   * just answered, before it is sealed and forced ({@code durability.group-commit-wait}); {@link
   * Duration#ZERO} seals it as soon as the previous group is on disk.
   *
   * <p>While one group is being forced, its writers are waiting for it, so the next group holds
   * only the other writers. Sealing it the moment the force returns would split steady writers into
   * two cohorts that alternate between the disk's forces, halving each group. With a wait, the
   * writers coming back from the last answer join the next group (it is sealed as soon as it has as
   * many writes as the last group answered plus what it held then, or when the wait ends), so one
   * force serves them all. It adds at most the wait to one write's latency, and nothing when the
   * group fills or when no group was just forced.
   */
  public Duration groupCommitWait() {
    return timing.groupCommitWait();
  }

  /** The size, in bytes, a log segment grows to before the next one is started. */
  public long segmentBytes() {
    return log.segmentBytes();
  }

  /** How often a durable store writes a checkpoint; {@link Duration#ZERO} when off. */
  public Duration checkpointInterval() {
    return timing.checkpointInterval();
  }

  /** After how many new versions a durable store writes a checkpoint; 0 when off. */
  public long checkpointEveryVersions() {
    return timing.checkpointEveryVersions();
  }

  /** Whether opening may cut the log at a damaged record that whole records follow. */
  public boolean recoverPastCorruption() {
    return log.recoverPastCorruption();
  }

  /** The engine's options of the durable log, or null for a memory-only store. */
  @Nullable DurabilityOptions options() {
    return isDurable() ? log : null;
  }

  /**
   * These settings with a data directory: the store is durable. Opening it recovers what the
   * directory holds, and every group commit is logged before its writers are answered.
   *
   * @param dataDirectory the directory, created if missing; held with a lock file while the store
   *     is open, so at most one store, in any process, uses it at a time
   * @return a durable copy
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if the path is empty
   */
  public DurabilitySettings withDataDirectory(Path dataDirectory) {
    Objects.requireNonNull(dataDirectory, "dataDirectory");
    if (dataDirectory.equals(MEMORY_ONLY)) {
      throw new IllegalArgumentException(
          "dataDirectory must not be empty; use withMemoryOnly() for no directory");
    }
    return new DurabilitySettings(log.withDirectory(dataDirectory), timing);
  }

  /**
   * These settings without a data directory: the store keeps everything in memory only and starts
   * empty. The other durability settings are kept but unused.
   *
   * @return a memory-only copy
   */
  public DurabilitySettings withMemoryOnly() {
    return new DurabilitySettings(log.withDirectory(MEMORY_ONLY), timing);
  }

  /**
   * These settings with another sync policy. {@link SyncPolicy#EVERY_COMMIT} (the default) loses
   * nothing acknowledged in any crash; {@link SyncPolicy#INTERVAL} can lose the writes of the last
   * sync interval if the machine (not just the process) crashes; {@link SyncPolicy#NEVER} can lose
   * any number of acknowledged writes in a machine crash or power loss (a process crash loses
   * nothing).
   *
   * @param sync the policy
   * @return a copy with this policy
   * @throws NullPointerException if null
   */
  public DurabilitySettings withSync(SyncPolicy sync) {
    return new DurabilitySettings(log.withSync(sync), timing);
  }

  /**
   * These settings with another interval of {@link SyncPolicy#INTERVAL}.
   *
   * @param syncInterval how often the log is forced, in [1 ms, 1 h]
   * @return a copy with this interval
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public DurabilitySettings withSyncInterval(Duration syncInterval) {
    return new DurabilitySettings(log.withSyncInterval(syncInterval), timing);
  }

  /**
   * These settings with another group-commit wait; see {@link #groupCommitWait()}.
   *
   * @param groupCommitWait the longest a group waits for returning writers, in [0, 1 s]; zero seals
   *     each group as soon as the previous one is on disk
   * @return a copy with this wait
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public DurabilitySettings withGroupCommitWait(Duration groupCommitWait) {
    return new DurabilitySettings(
        log,
        new LogTiming(
            groupCommitWait, timing.checkpointInterval(), timing.checkpointEveryVersions()));
  }

  /**
   * These settings with another log segment size.
   *
   * @param segmentBytes the size a segment grows to, in [4 KiB, 1 GiB] ({@link
   *     DurabilityOptions#MIN_SEGMENT_BYTES}, {@link DurabilityOptions#MAX_SEGMENT_BYTES}); a group
   *     commit's record is never split, so a segment may pass it by one record
   * @return a copy with this segment size
   * @throws IllegalArgumentException if out of bounds
   */
  public DurabilitySettings withSegmentBytes(long segmentBytes) {
    return new DurabilitySettings(log.withSegmentBytes(segmentBytes), timing);
  }

  /**
   * These settings with another checkpoint interval.
   *
   * @param checkpointInterval how often a checkpoint is written, in [0, 3650 days]; zero turns the
   *     time rule off
   * @return a copy with this interval
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public DurabilitySettings withCheckpointInterval(Duration checkpointInterval) {
    return new DurabilitySettings(
        log,
        new LogTiming(
            timing.groupCommitWait(), checkpointInterval, timing.checkpointEveryVersions()));
  }

  /**
   * These settings with another checkpoint rule by versions.
   *
   * @param checkpointEveryVersions a checkpoint is written once this many versions were committed
   *     since the last one, at least 0; zero turns the rule off
   * @return a copy with this rule
   * @throws IllegalArgumentException if negative
   */
  public DurabilitySettings withCheckpointEveryVersions(long checkpointEveryVersions) {
    return new DurabilitySettings(
        log,
        new LogTiming(
            timing.groupCommitWait(), timing.checkpointInterval(), checkpointEveryVersions));
  }

  /**
   * These settings with recovery allowed, or not, past a damaged log record. Off by default: a
   * damaged record with whole records after it stops the open with {@link
   * dev.zverse.engine.CorruptLogException} naming the file and offset. On, the open keeps every
   * version before the damage and loses the damaged record and everything after it: the operator's
   * explicit choice, after reading that exception.
   *
   * @param recoverPastCorruption whether recovery may cut the log at a damaged record
   * @return a copy with this choice
   */
  public DurabilitySettings withRecoverPastCorruption(boolean recoverPastCorruption) {
    return new DurabilitySettings(log.withRecoverPastCorruption(recoverPastCorruption), timing);
  }

  @Override
  public String toString() {
    return isDurable() ? "Durability[" + log + ", " + timing + "]" : "memory-only";
  }
}
