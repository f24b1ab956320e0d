package dev.zverse.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.Limits;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.ZIndexOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The settings of one store: key and value limits, retention, the epoch tick, the long-pin warning
 * threshold, the writer's bounds, the engine's Z-index and durability (memory-only unless {@code
 * durability.data-directory} is set). Defaults live in the module's {@code reference.conf} under
 * {@code zverse.store}; a store named {@code N} reads {@code zverse.stores.N} first and falls back
 * to the defaults key by key. A key in either section that is not a setting is refused, not
 * ignored, so that a misspelling cannot leave a store on a default unnoticed.
 *
 * <pre>{@code
 * zverse.stores.orders {
 *   retention.versions = 100000
 *   writer.max-pending-writes = 50000
 * }
 * }</pre>
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class StoreSettings {
  /** The section of the defaults every store falls back to, and whose keys are the settings. */
  private static final String DEFAULTS = "zverse.store";

  private static final Pattern STORE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  private static final long MAX_RETENTION_DAYS = 3650;
  private static final int MAX_PENDING_WRITES = 1 << 24;
  private static final int MAX_GROUP_WRITES = 1 << 16;
  private static final Duration MIN_DURATION = Duration.ofMillis(1);
  private static final Duration MAX_TICK = Duration.ofHours(1);
  private static final Duration MAX_GROUP_COMMIT_WAIT = Duration.ofSeconds(1);
  private static final Duration MAX_DAYS = Duration.ofDays(MAX_RETENTION_DAYS);

  private final int maxKeyBytes;
  private final int maxValueBytes;
  private final long retentionVersions;
  private final Duration retentionDuration;
  private final Duration epochTick;
  private final Duration longPinWarning;
  private final int maxPendingWrites;
  private final int maxGroupWrites;
  private final String writerDispatcher;
  private final Duration askTimeout;
  private final boolean zIndexEnabled;
  private final int zIndexSegmentEntries;
  private final String zIndexDispatcher;
  private final Durability durability;
  private final InstantSource clock;

  /** The values of one settings object while it is made; each copier changes one of them. */
  private static final class Values {
    int maxKeyBytes;
    int maxValueBytes;
    long retentionVersions;
    Duration retentionDuration;
    Duration epochTick;
    Duration longPinWarning;
    int maxPendingWrites;
    int maxGroupWrites;
    String writerDispatcher;
    Duration askTimeout;
    boolean zIndexEnabled;
    int zIndexSegmentEntries;
    String zIndexDispatcher;
    Durability durability;
    InstantSource clock;
  }

  private StoreSettings(Values v) {
    this.maxKeyBytes = v.maxKeyBytes;
    this.maxValueBytes = v.maxValueBytes;
    this.retentionVersions = v.retentionVersions;
    this.retentionDuration = v.retentionDuration;
    this.epochTick = v.epochTick;
    this.longPinWarning = v.longPinWarning;
    this.maxPendingWrites = v.maxPendingWrites;
    this.maxGroupWrites = v.maxGroupWrites;
    this.writerDispatcher = v.writerDispatcher;
    this.askTimeout = v.askTimeout;
    this.zIndexEnabled = v.zIndexEnabled;
    this.zIndexSegmentEntries = v.zIndexSegmentEntries;
    this.zIndexDispatcher = v.zIndexDispatcher;
    this.durability = v.durability;
    this.clock = v.clock;
  }

  private Values values() {
    Values v = new Values();
    v.maxKeyBytes = maxKeyBytes;
    v.maxValueBytes = maxValueBytes;
    v.retentionVersions = retentionVersions;
    v.retentionDuration = retentionDuration;
    v.epochTick = epochTick;
    v.longPinWarning = longPinWarning;
    v.maxPendingWrites = maxPendingWrites;
    v.maxGroupWrites = maxGroupWrites;
    v.writerDispatcher = writerDispatcher;
    v.askTimeout = askTimeout;
    v.zIndexEnabled = zIndexEnabled;
    v.zIndexSegmentEntries = zIndexSegmentEntries;
    v.zIndexDispatcher = zIndexDispatcher;
    v.durability = durability;
    v.clock = clock;
    return v;
  }

  /**
   * The settings of the store named {@code storeName} from the actor system's configuration: {@code
   * zverse.stores.<storeName>} with {@code zverse.store} as fallback.
   *
   * @param system the actor system whose configuration is read
   * @param storeName the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64
   *     characters
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed, a setting is out of its bounds (the
   *     message names the setting's full path and the bounds), or a key of either section is not a
   *     setting of {@code reference.conf}'s {@code zverse.store} (the message names its full path,
   *     where it was set and the nearest setting)
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static StoreSettings create(ActorSystem<?> system, String storeName) {
    Objects.requireNonNull(system, "system");
    return forStore(system.settings().config(), storeName);
  }

  /**
   * Settings read from one configuration section laid out like {@code zverse.store} in {@code
   * reference.conf}: {@code max-key-bytes}, {@code max-value-bytes}, {@code retention.versions},
   * {@code retention.duration}, {@code epoch.tick}, {@code epoch.long-pin-warning}, {@code
   * writer.max-pending-writes}, {@code writer.max-group-writes}, {@code writer.dispatcher}, {@code
   * ask-timeout}, {@code z-index.enabled}, {@code z-index.segment-entries}, {@code
   * z-index.dispatcher}, {@code durability.data-directory}, {@code durability.sync} ({@code
   * every-commit}, {@code interval} or {@code never}), {@code durability.sync-interval}, {@code
   * durability.group-commit-wait}, {@code durability.segment-bytes}, {@code
   * durability.checkpoint-interval}, {@code durability.checkpoint-every-versions}, {@code
   * durability.recover-past-corruption}.
   *
   * @param config the section, e.g. {@code system.settings().config().getConfig("zverse.store")}
   * @throws NullPointerException if {@code config} is null
   * @throws IllegalArgumentException if a setting is out of its bounds (the message names the
   *     setting and the bounds), or a key is not one of these settings (the message names the
   *     nearest one)
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static StoreSettings create(Config config) {
    Objects.requireNonNull(config, "config");
    Section section = new Section(config, UnaryOperator.identity());
    section.requireKnownKeys();
    return read(section);
  }

  /** Reads a section laid out like {@code zverse.store}, each value checked against its bounds. */
  private static StoreSettings read(Section c) {
    Values v = new Values();
    v.maxKeyBytes = (int) c.bytes("max-key-bytes", 1, Limits.CEILING_KEY_BYTES);
    v.maxValueBytes = (int) c.bytes("max-value-bytes", 0, Limits.CEILING_VALUE_BYTES);
    v.retentionVersions = c.number("retention.versions", 1, Long.MAX_VALUE);
    v.retentionDuration = c.duration("retention.duration", Duration.ZERO, MAX_DAYS);
    v.epochTick = c.duration("epoch.tick", MIN_DURATION, MAX_TICK);
    v.longPinWarning = c.duration("epoch.long-pin-warning", MIN_DURATION, MAX_DAYS);
    v.maxPendingWrites = (int) c.number("writer.max-pending-writes", 1, MAX_PENDING_WRITES);
    v.maxGroupWrites = (int) c.number("writer.max-group-writes", 1, MAX_GROUP_WRITES);
    v.writerDispatcher = c.config.getString("writer.dispatcher");
    v.askTimeout = c.duration("ask-timeout", MIN_DURATION, MAX_TICK);
    v.zIndexEnabled = c.config.getBoolean("z-index.enabled");
    v.zIndexSegmentEntries =
        (int) c.number("z-index.segment-entries", 1, ZIndexOptions.MAX_SEGMENT_ENTRIES);
    v.zIndexDispatcher = c.config.getString("z-index.dispatcher");
    v.durability = Durability.create(c);
    v.clock = InstantSource.system();
    return new StoreSettings(v);
  }

  /**
   * The store's section of a root configuration: its overrides over the defaults. Every key of both
   * must be a setting of {@code reference.conf}'s {@code zverse.store}, and every message names the
   * full path of the value at fault: {@code zverse.stores.<storeName>.<key>} if the store sets it,
   * else {@code zverse.store.<key>} and the store.
   */
  static StoreSettings forStore(Config root, String storeName) {
    Objects.requireNonNull(root, "root");
    requireStoreName(storeName);
    Config defaults = root.getConfig(DEFAULTS);
    String storePath = ConfigUtil.joinPath("zverse", "stores", storeName);
    new Section(defaults, key -> DEFAULTS + "." + key).requireKnownKeys();
    if (!root.hasPath(storePath)) {
      return read(
          new Section(defaults, key -> DEFAULTS + "." + key + " (store " + storeName + ")"));
    }
    Config overrides = root.getConfig(storePath);
    new Section(overrides, key -> storePath + "." + key).requireKnownKeys();
    return read(
        new Section(
            overrides.withFallback(defaults),
            key ->
                overrides.hasPathOrNull(key)
                    ? storePath + "." + key
                    : DEFAULTS + "." + key + " (store " + storeName + ")"));
  }

  /**
   * Checks a store name: it becomes part of actor names and of the configuration path {@code
   * zverse.stores.<name>}.
   */
  static String requireStoreName(String name) {
    Objects.requireNonNull(name, "name");
    if (!STORE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "store name must match [A-Za-z0-9][A-Za-z0-9_-]* and have at most 64 characters, was \""
              + name
              + "\"");
    }
    return name;
  }

  // ---------------------------------------------------------------- accessors

  /** The largest key, in bytes, in [1, 64 KiB]. */
  public int maxKeyBytes() {
    return maxKeyBytes;
  }

  /** The largest value, in bytes, in [0, 1 GiB]. */
  public int maxValueBytes() {
    return maxValueBytes;
  }

  /** The key and value limits as the engine takes them. */
  public Limits limits() {
    return Limits.defaults().withMaxKeyBytes(maxKeyBytes).withMaxValueBytes(maxValueBytes);
  }

  /** How many of the newest versions stay readable, at least 1. */
  public long retentionVersions() {
    return retentionVersions;
  }

  /** How long versions stay readable by time; {@link Duration#ZERO} when the time rule is off. */
  public Duration retentionDuration() {
    return retentionDuration;
  }

  /** The interval of the EpochActor's scan of pins and retention. */
  public Duration epochTick() {
    return epochTick;
  }

  /** The age past which a pin is logged as a warning. */
  public Duration longPinWarning() {
    return longPinWarning;
  }

  /** The bound on writes sent and not yet answered. */
  public int maxPendingWrites() {
    return maxPendingWrites;
  }

  /** The most writes that one group commit publishes together. */
  public int maxGroupWrites() {
    return maxGroupWrites;
  }

  /** The configuration path of the WriterActor's dispatcher; empty for the default dispatcher. */
  public String writerDispatcher() {
    return writerDispatcher;
  }

  /** How long {@link ZVerseStore#epochStats()} waits for an answer. */
  public Duration askTimeout() {
    return askTimeout;
  }

  /** Whether the store keeps the engine's Z-index, which answers {@link ZVerseStore#changes}. */
  public boolean zIndexEnabled() {
    return zIndexEnabled;
  }

  /** How many changes a sealed segment of the Z-index gathers. */
  public int zIndexSegmentEntries() {
    return zIndexSegmentEntries;
  }

  /**
   * The configuration path of the dispatcher that seals and merges Z-index segments; empty for the
   * actor system's default dispatcher.
   */
  public String zIndexDispatcher() {
    return zIndexDispatcher;
  }

  /**
   * The engine's options of the Z-index for these settings, building on {@code executor}.
   *
   * @param executor where segments are sealed and merged
   */
  ZIndexOptions zIndexOptions(Executor executor) {
    return zIndexEnabled
        ? ZIndexOptions.defaults().withSegmentEntries(zIndexSegmentEntries).withExecutor(executor)
        : ZIndexOptions.disabled();
  }

  // ---------------------------------------------------------------- copiers

  /**
   * These settings with another key limit.
   *
   * @param maxKeyBytes the largest key in bytes, in [1, {@value Limits#CEILING_KEY_BYTES}]
   * @return a copy with this key limit
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxKeyBytes(int maxKeyBytes) {
    Values v = values();
    v.maxKeyBytes = (int) inRange(maxKeyBytes, 1, Limits.CEILING_KEY_BYTES, "maxKeyBytes");
    return new StoreSettings(v);
  }

  /**
   * These settings with another value limit.
   *
   * @param maxValueBytes the largest value in bytes, in [0, {@value Limits#CEILING_VALUE_BYTES}]
   * @return a copy with this value limit
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxValueBytes(int maxValueBytes) {
    Values v = values();
    v.maxValueBytes = (int) inRange(maxValueBytes, 0, Limits.CEILING_VALUE_BYTES, "maxValueBytes");
    return new StoreSettings(v);
  }

  /**
   * These settings with another count rule of retention.
   *
   * @param retentionVersions how many of the newest versions stay readable, at least 1
   * @return a copy with this count rule
   * @throws IllegalArgumentException if below 1
   */
  public StoreSettings withRetentionVersions(long retentionVersions) {
    Values v = values();
    v.retentionVersions = inRange(retentionVersions, 1, Long.MAX_VALUE, "retentionVersions");
    return new StoreSettings(v);
  }

  /**
   * These settings with another time rule of retention.
   *
   * @param retentionDuration how long versions stay readable by time, in [0, 3650 days]; zero turns
   *     the time rule off
   * @return a copy with this time rule
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withRetentionDuration(Duration retentionDuration) {
    Values v = values();
    v.retentionDuration = durationInRange(retentionDuration, Duration.ZERO, "retentionDuration");
    return new StoreSettings(v);
  }

  /**
   * These settings with another epoch tick.
   *
   * @param epochTick the interval of the EpochActor's scan, in [1 ms, 1 h]
   * @return a copy with this tick
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withEpochTick(Duration epochTick) {
    Values v = values();
    v.epochTick = durationInRange(epochTick, MIN_DURATION, MAX_TICK, "epochTick");
    return new StoreSettings(v);
  }

  /**
   * These settings with another long-pin warning threshold.
   *
   * @param longPinWarning the age past which a pin is logged as a warning, in [1 ms, 3650 days]
   * @return a copy with this threshold
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withLongPinWarning(Duration longPinWarning) {
    Values v = values();
    v.longPinWarning = durationInRange(longPinWarning, MIN_DURATION, "longPinWarning");
    return new StoreSettings(v);
  }

  /**
   * These settings with another bound on waiting writes.
   *
   * @param maxPendingWrites the bound on writes sent and not yet answered, in [1, 16777216]
   * @return a copy with this bound
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxPendingWrites(int maxPendingWrites) {
    Values v = values();
    v.maxPendingWrites = (int) inRange(maxPendingWrites, 1, MAX_PENDING_WRITES, "maxPendingWrites");
    return new StoreSettings(v);
  }

  /**
   * These settings with another cap on a group commit.
   *
   * @param maxGroupWrites the most writes published together, in [1, 65536]
   * @return a copy with this cap
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxGroupWrites(int maxGroupWrites) {
    Values v = values();
    v.maxGroupWrites = (int) inRange(maxGroupWrites, 1, MAX_GROUP_WRITES, "maxGroupWrites");
    return new StoreSettings(v);
  }

  /**
   * These settings with another dispatcher for the WriterActor.
   *
   * @param writerDispatcher the configuration path of a dispatcher for the WriterActor, or {@code ""}
   *     for the actor system's default dispatcher
   * @return a copy with this dispatcher
   * @throws NullPointerException if null
   */
  public StoreSettings withWriterDispatcher(String writerDispatcher) {
    Values v = values();
    v.writerDispatcher = Objects.requireNonNull(writerDispatcher, "writerDispatcher");
    return new StoreSettings(v);
  }

  /**
   * These settings with another timeout for {@link ZVerseStore#epochStats()}.
   *
   * @param askTimeout how long {@link ZVerseStore#epochStats()} waits, in [1 ms, 1 h]
   * @return a copy with this timeout
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withAskTimeout(Duration askTimeout) {
    Values v = values();
    v.askTimeout = durationInRange(askTimeout, MIN_DURATION, MAX_TICK, "askTimeout");
    return new StoreSettings(v);
  }

  /**
   * These settings with the Z-index on or off.
   *
   * @param zIndexEnabled whether the store keeps the Z-index; without it {@link ZVerseStore#changes}
   *     walks the tree or the commit log, and the writer does no index work
   * @return a copy with the index on or off
   */
  public StoreSettings withZIndexEnabled(boolean zIndexEnabled) {
    Values v = values();
    v.zIndexEnabled = zIndexEnabled;
    return new StoreSettings(v);
  }

  /**
   * These settings with another Z-index segment size.
   *
   * @param zIndexSegmentEntries changes a Z-index segment gathers before it is sealed, in [1,
   *     {@value ZIndexOptions#MAX_SEGMENT_ENTRIES}]
   * @return a copy with this segment size
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withZIndexSegmentEntries(int zIndexSegmentEntries) {
    Values v = values();
    v.zIndexSegmentEntries =
        (int) inRange(zIndexSegmentEntries, 1, ZIndexOptions.MAX_SEGMENT_ENTRIES, "zIndexSegmentEntries");
    return new StoreSettings(v);
  }

  /**
   * These settings with another dispatcher for Z-index work.
   *
   * @param zIndexDispatcher the configuration path of a dispatcher for sealing and merging Z-index
   *     segments, or {@code ""} for the actor system's default dispatcher
   * @return a copy with this dispatcher
   * @throws NullPointerException if null
   */
  public StoreSettings withZIndexDispatcher(String zIndexDispatcher) {
    Values v = values();
    v.zIndexDispatcher = Objects.requireNonNull(zIndexDispatcher, "zIndexDispatcher");
    return new StoreSettings(v);
  }

  /**
   * The clock that stamps commits and that {@code retention.duration} is measured against: the
   * system clock unless set with {@link #withClock}.
   */
  public InstantSource clock() {
    return clock;
  }

  /**
   * These settings with another clock, e.g. a manual one in tests: the writer reads it as it
   * applies each write, whose commit time is then the first microsecond after the reading (or just
   * after the previous commit's, if later; see {@link dev.zverse.engine.Snapshot#commitTime}), and
   * the EpochActor reads it for {@code retention.duration}. Not part of the configuration.
   *
   * @param clock the clock, read on the writer's and the EpochActor's threads; any instant it gives
   *     is taken, and readings that go back are allowed
   * @return a copy with this clock
   * @throws NullPointerException if null
   */
  public StoreSettings withClock(InstantSource clock) {
    Values v = values();
    v.clock = Objects.requireNonNull(clock, "clock");
    return new StoreSettings(v);
  }

  @Override
  public String toString() {
    return "StoreSettings[maxKeyBytes=" + maxKeyBytes
        + ", maxValueBytes=" + maxValueBytes
        + ", retentionVersions=" + retentionVersions
        + ", retentionDuration=" + retentionDuration
        + ", epochTick=" + epochTick
        + ", longPinWarning=" + longPinWarning
        + ", maxPendingWrites=" + maxPendingWrites
        + ", maxGroupWrites=" + maxGroupWrites
        + ", writerDispatcher=" + writerDispatcher
        + ", askTimeout=" + askTimeout
        + ", zIndexEnabled=" + zIndexEnabled
        + ", zIndexSegmentEntries=" + zIndexSegmentEntries
        + ", zIndexDispatcher=" + zIndexDispatcher
        + ", durability=" + durability
        + "]";
  }

  // ---------------------------------------------------------------- durability

  /**
   * The durability settings ({@code durability.*}), one value so that the copiers of the other
   * settings carry them along unchanged. An empty directory means memory-only. Changed only while a
   * copy is made ({@link #withDurability}), never once a settings object holds it.
   */
  private static final class Durability {
    String dataDirectory;
    SyncPolicy sync;
    Duration syncInterval;
    Duration groupCommitWait;
    long segmentBytes;
    Duration checkpointInterval;
    long checkpointEveryVersions;
    boolean recoverPastCorruption;

    static Durability create(Section c) {
      Durability d = new Durability();
      d.dataDirectory = c.config.getString("durability.data-directory");
      d.sync = syncPolicy(c.config.getString("durability.sync"), c.path.apply("durability.sync"));
      d.syncInterval = c.duration("durability.sync-interval", MIN_DURATION, MAX_TICK);
      d.groupCommitWait =
          c.duration("durability.group-commit-wait", Duration.ZERO, MAX_GROUP_COMMIT_WAIT);
      d.segmentBytes =
          c.bytes(
              "durability.segment-bytes",
              DurabilityOptions.MIN_SEGMENT_BYTES,
              DurabilityOptions.MAX_SEGMENT_BYTES);
      d.checkpointInterval = c.duration("durability.checkpoint-interval", Duration.ZERO, MAX_DAYS);
      d.checkpointEveryVersions =
          c.number("durability.checkpoint-every-versions", 0, Long.MAX_VALUE);
      d.recoverPastCorruption = c.config.getBoolean("durability.recover-past-corruption");
      return d;
    }

    Durability copy() {
      Durability d = new Durability();
      d.dataDirectory = dataDirectory;
      d.sync = sync;
      d.syncInterval = syncInterval;
      d.groupCommitWait = groupCommitWait;
      d.segmentBytes = segmentBytes;
      d.checkpointInterval = checkpointInterval;
      d.checkpointEveryVersions = checkpointEveryVersions;
      d.recoverPastCorruption = recoverPastCorruption;
      return d;
    }

    private static SyncPolicy syncPolicy(String value, String name) {
      switch (value.toLowerCase(Locale.ROOT)) {
        case "every-commit":
          return SyncPolicy.EVERY_COMMIT;
        case "interval":
          return SyncPolicy.INTERVAL;
        case "never":
          return SyncPolicy.NEVER;
        default:
          throw new IllegalArgumentException(
              name + " must be one of every-commit, interval, never; was \"" + value + "\"");
      }
    }

    DurabilityOptions options() {
      return DurabilityOptions.in(Path.of(dataDirectory))
          .withSync(sync)
          .withSyncInterval(syncInterval)
          .withSegmentBytes(segmentBytes)
          .withRecoverPastCorruption(recoverPastCorruption);
    }

    @Override
    public String toString() {
      return dataDirectory.isEmpty()
          ? "memory-only"
          : "[" + dataDirectory + ", sync=" + sync + ", syncInterval=" + syncInterval
              + ", groupCommitWait=" + groupCommitWait + ", segmentBytes=" + segmentBytes
              + ", checkpointInterval=" + checkpointInterval
              + ", checkpointEveryVersions=" + checkpointEveryVersions
              + ", recoverPastCorruption=" + recoverPastCorruption + "]";
    }
  }

  /**
   * The data directory of a durable store ({@code durability.data-directory}); empty for a
   * memory-only store, the default. A relative path is resolved against the working directory.
   */
  public Optional<Path> dataDirectory() {
    return durability.dataDirectory.isEmpty() ? Optional.empty() : Optional.of(Path.of(durability.dataDirectory));
  }

  /** Whether the store keeps a write-ahead log and checkpoints in a data directory. */
  public boolean isDurable() {
    return !durability.dataDirectory.isEmpty();
  }

  /**
   * When a durable store forces its log to the disk ({@code durability.sync}); see {@link
   * SyncPolicy} for what each policy can lose.
   */
  public SyncPolicy sync() {
    return durability.sync;
  }

  /** How often a durable store under {@link SyncPolicy#INTERVAL} forces its log. */
  public Duration syncInterval() {
    return durability.syncInterval;
  }

  /**
   * How long a durable store's next group commit waits, at most, for the writers the previous group
   * just answered, before it is sealed and forced ({@code durability.group-commit-wait}); {@link
   * Duration#ZERO} seals it as soon as the previous group is on disk.
   *
   * <p>While one group is being forced, its writers are waiting for it, so the next group holds only
   * the other writers. Sealing it the moment the force returns would split steady writers into two
   * cohorts that alternate between the disk's forces, halving each group. With a wait, the writers
   * coming back from the last answer join the next group (it is sealed as soon as it has as many
   * writes as the last group answered plus what it held then, or when the wait ends), so one force
   * serves them all. It adds at most the wait to one write's latency, and nothing when the group
   * fills or when no group was just forced.
   */
  public Duration groupCommitWait() {
    return durability.groupCommitWait;
  }

  /** The size, in bytes, a log segment grows to before the next one is started. */
  public long segmentBytes() {
    return durability.segmentBytes;
  }

  /** How often a durable store writes a checkpoint; {@link Duration#ZERO} when off. */
  public Duration checkpointInterval() {
    return durability.checkpointInterval;
  }

  /** After how many new versions a durable store writes a checkpoint; 0 when off. */
  public long checkpointEveryVersions() {
    return durability.checkpointEveryVersions;
  }

  /** Whether opening may cut the log at a damaged record that whole records follow. */
  public boolean recoverPastCorruption() {
    return durability.recoverPastCorruption;
  }

  /** The engine's options of the durable log, or null for a memory-only store. */
  DurabilityOptions durabilityOptions() {
    return isDurable() ? durability.options() : null;
  }

  /**
   * These settings with a data directory: the store is durable. Opening it recovers what the
   * directory holds, and every group commit is logged before its writers are answered.
   *
   * @param dataDirectory the directory, created if missing; held with a lock file while the store is
   *     open, so at most one store, in any process, uses it at a time
   * @return a durable copy
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if the path is empty
   */
  public StoreSettings withDataDirectory(Path dataDirectory) {
    Objects.requireNonNull(dataDirectory, "dataDirectory");
    String dir = dataDirectory.toString();
    if (dir.isEmpty()) {
      throw new IllegalArgumentException("dataDirectory must not be empty; use withMemoryOnly() for no directory");
    }
    return withDurability(d -> d.dataDirectory = dir);
  }

  /**
   * These settings without a data directory: the store keeps everything in memory only and starts
   * empty. The other durability settings are kept but unused.
   *
   * @return a memory-only copy
   */
  public StoreSettings withMemoryOnly() {
    return withDurability(d -> d.dataDirectory = "");
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
  public StoreSettings withSync(SyncPolicy sync) {
    Objects.requireNonNull(sync, "sync");
    return withDurability(d -> d.sync = sync);
  }

  /**
   * These settings with another interval of {@link SyncPolicy#INTERVAL}.
   *
   * @param syncInterval how often the log is forced, in [1 ms, 1 h]
   * @return a copy with this interval
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withSyncInterval(Duration syncInterval) {
    Duration checked = durationInRange(syncInterval, MIN_DURATION, MAX_TICK, "syncInterval");
    return withDurability(d -> d.syncInterval = checked);
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
  public StoreSettings withGroupCommitWait(Duration groupCommitWait) {
    Duration checked = durationInRange(groupCommitWait, Duration.ZERO, MAX_GROUP_COMMIT_WAIT, "groupCommitWait");
    return withDurability(d -> d.groupCommitWait = checked);
  }

  /**
   * These settings with another log segment size.
   *
   * @param segmentBytes the size a segment grows to, in [{@value DurabilityOptions#MIN_SEGMENT_BYTES},
   *     {@value DurabilityOptions#MAX_SEGMENT_BYTES}]; a group commit's record is never split, so a
   *     segment may pass it by one record
   * @return a copy with this segment size
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withSegmentBytes(long segmentBytes) {
    long checked =
        inRange(segmentBytes, DurabilityOptions.MIN_SEGMENT_BYTES, DurabilityOptions.MAX_SEGMENT_BYTES, "segmentBytes");
    return withDurability(d -> d.segmentBytes = checked);
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
  public StoreSettings withCheckpointInterval(Duration checkpointInterval) {
    Duration checked = durationInRange(checkpointInterval, Duration.ZERO, "checkpointInterval");
    return withDurability(d -> d.checkpointInterval = checked);
  }

  /**
   * These settings with another checkpoint rule by versions.
   *
   * @param checkpointEveryVersions a checkpoint is written once this many versions were committed
   *     since the last one, at least 0; zero turns the rule off
   * @return a copy with this rule
   * @throws IllegalArgumentException if negative
   */
  public StoreSettings withCheckpointEveryVersions(long checkpointEveryVersions) {
    long checked = inRange(checkpointEveryVersions, 0, Long.MAX_VALUE, "checkpointEveryVersions");
    return withDurability(d -> d.checkpointEveryVersions = checked);
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
  public StoreSettings withRecoverPastCorruption(boolean recoverPastCorruption) {
    return withDurability(d -> d.recoverPastCorruption = recoverPastCorruption);
  }

  private StoreSettings withDurability(Consumer<Durability> change) {
    Durability d = durability.copy();
    change.accept(d);
    Values v = values();
    v.durability = d;
    return new StoreSettings(v);
  }

  // ---------------------------------------------------------------- validation

  /**
   * One configuration section laid out like {@code zverse.store}, read with its bounds checked;
   * {@code path} turns a key of it into the name that messages give it (its full path).
   */
  private static final class Section {
    final Config config;
    final UnaryOperator<String> path;

    Section(Config config, UnaryOperator<String> path) {
      this.config = config;
      this.path = path;
    }

    long bytes(String key, long min, long max) {
      return inRange(config.getBytes(key), min, max, path.apply(key));
    }

    long number(String key, long min, long max) {
      return inRange(config.getLong(key), min, max, path.apply(key));
    }

    Duration duration(String key, Duration min, Duration max) {
      return durationInRange(config.getDuration(key), min, max, path.apply(key));
    }

    /**
     * Refuses every key that is not a setting: HOCON would ignore a misspelt one and the store
     * would quietly run on the default. The message names each such key's full path, where it was
     * set, and the setting nearest to it (by edit distance, a swap of two neighbouring letters
     * counting one).
     */
    void requireKnownKeys() {
      Set<String> known = knownKeys();
      List<String> problems = new ArrayList<>();
      TreeMap<String, ConfigValue> entries = new TreeMap<>(); // reported in a stable order
      for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
        entries.put(e.getKey(), e.getValue());
      }
      for (Map.Entry<String, ConfigValue> e : entries.entrySet()) {
        String key = e.getKey();
        if (!known.contains(key)) {
          problems.add(
              path.apply(key)
                  + " is not a setting of a store (set at "
                  + e.getValue().origin().description()
                  + "); did you mean "
                  + path.apply(nearest(key, known))
                  + "?");
        }
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(String.join("; ", problems));
      }
    }
  }

  /** The keys of {@code zverse.store} in the reference configuration: every setting of a store. */
  static Set<String> knownKeys() {
    return KnownKeys.KEYS;
  }

  /** Loaded once, on first use (the holder idiom). */
  private static final class KnownKeys {
    static final Set<String> KEYS =
        Collections.unmodifiableSet(
            new TreeSet<>(
                ConfigFactory.defaultReference(StoreSettings.class.getClassLoader())
                    .getConfig(DEFAULTS)
                    .entrySet()
                    .stream()
                    .map(Map.Entry::getKey)
                    .collect(Collectors.toSet())));
  }

  /** The key of {@code candidates} nearest to {@code key}; the first in order among equals. */
  static String nearest(String key, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = editDistance(key, c);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    return best;
  }

  /**
   * The optimal-string-alignment distance: the fewest insertions, deletions, substitutions and
   * swaps of two neighbouring characters that turn {@code a} into {@code b} (no substring edited
   * twice). A swap counts one, as the typing slip it usually is.
   */
  static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  private static long inRange(long value, long min, long max, String name) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name
              + (max == Long.MAX_VALUE
                  ? " must be >= " + min
                  : " must be in [" + min + ", " + max + "]")
              + ", was "
              + value);
    }
    return value;
  }

  private static Duration durationInRange(Duration value, Duration min, String name) {
    return durationInRange(value, min, Duration.ofDays(MAX_RETENTION_DAYS), name);
  }

  private static Duration durationInRange(Duration value, Duration min, Duration max, String name) {
    Objects.requireNonNull(value, name);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], was " + value);
    }
    return value;
  }
}
