package dev.zverse.actors;

import com.typesafe.config.Config;
import dev.zverse.actors.SettingGroups.Epoch;
import dev.zverse.actors.SettingGroups.Retention;
import dev.zverse.actors.SettingGroups.Writer;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.Limits;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
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
 * <p>Each value is held once, in the engine's value type that models it ({@link Limits}, {@link
 * dev.zverse.engine.ZIndexOptions}, {@link DurabilityOptions}) or in a small group of the rest, and
 * each bound is checked once, where that value is made: a value read from the configuration and one
 * given to a copier are held to the same bound, and the message names the setting (its full path)
 * or the argument, and the bounds.
 *
 * <p>Immutable; the {@code withX} methods return validated copies. The class is longer than its
 * logic because it keeps one documented accessor and one copier per setting, the flat API that
 * users and the README rely on; the durability and Z-index sections have their own types, {@link
 * DurabilitySettings} and {@link ZIndexSettings}, and reading the configuration lives apart.
 */
public final class StoreSettings {
  private final Limits limits;
  private final Retention retention;
  private final Epoch epoch;
  private final Writer writer;

  private final ZIndexSettings zIndex;
  private final DurabilitySettings durability;
  private final InstantSource clock;

  StoreSettings(
      Limits limits,
      Retention retention,
      Epoch epoch,
      Writer writer,
      ZIndexSettings zIndex,
      DurabilitySettings durability,
      InstantSource clock) {
    this.limits = limits;
    this.retention = retention;
    this.epoch = epoch;
    this.writer = writer;
    this.zIndex = Objects.requireNonNull(zIndex, "zIndex");
    this.durability = Objects.requireNonNull(durability, "durability");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The settings of the store named {@code storeName} from the actor system's configuration: {@code
   * zverse.stores.<storeName>} with {@code zverse.store} as fallback.
   *
   * @param system the actor system whose configuration is read
   * @param storeName the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64
   *     characters
   * @return the store's settings
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed, a setting is out of its bounds (the
   *     message names the setting's full path and the bounds), or a key of either section is not a
   *     setting of {@code reference.conf}'s {@code zverse.store} (the message names its full path,
   *     where it was set and the nearest setting)
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static StoreSettings create(ActorSystem<?> system, String storeName) {
    Objects.requireNonNull(system, "system");
    return StoreSettingsReader.forStore(system.settings().config(), storeName);
  }

  /**
   * Settings read from one configuration section laid out like {@code zverse.store} in {@code
   * reference.conf}, where each setting is documented; each is held to the bound its copier states.
   *
   * @param config the section, e.g. {@code system.settings().config().getConfig("zverse.store")}
   * @return the settings
   * @throws NullPointerException if {@code config} is null
   * @throws IllegalArgumentException if a setting is out of its bounds (the message names the
   *     setting and the bounds), or a key is not one of these settings (the message names the
   *     nearest one)
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static StoreSettings create(Config config) {
    return StoreSettingsReader.read(config);
  }

  // ---------------------------------------------------------------- limits, retention, epoch

  /** The largest key, in bytes, in [1, 64 KiB]. */
  public int maxKeyBytes() {
    return limits.maxKeyBytes();
  }

  /** The largest value, in bytes, in [0, 1 GiB]. */
  public int maxValueBytes() {
    return limits.maxValueBytes();
  }

  /** The key and value limits as the engine takes them. */
  public Limits limits() {
    return limits;
  }

  /** How many of the newest versions stay readable, at least 1. */
  public long retentionVersions() {
    return retention.versions();
  }

  /** How long versions stay readable by time; {@link Duration#ZERO} when the time rule is off. */
  public Duration retentionDuration() {
    return retention.duration();
  }

  /** The interval of the EpochActor's scan of pins and retention. */
  public Duration epochTick() {
    return epoch.tick();
  }

  /** The age past which a pin is logged as a warning. */
  public Duration longPinWarning() {
    return epoch.longPinWarning();
  }

  /** How long {@link ZVerseStore#epochStats()} waits for an answer. */
  public Duration askTimeout() {
    return epoch.askTimeout();
  }

  /**
   * These settings with another key limit.
   *
   * @param maxKeyBytes the largest key in bytes, in [1, {@value Limits#CEILING_KEY_BYTES}]
   * @return a copy with this key limit
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxKeyBytes(int maxKeyBytes) {
    return with(limits.withMaxKeyBytes(maxKeyBytes));
  }

  /**
   * These settings with another value limit.
   *
   * @param maxValueBytes the largest value in bytes, in [0, {@value Limits#CEILING_VALUE_BYTES}]
   * @return a copy with this value limit
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxValueBytes(int maxValueBytes) {
    return with(limits.withMaxValueBytes(maxValueBytes));
  }

  /**
   * These settings with another count rule of retention.
   *
   * @param retentionVersions how many of the newest versions stay readable, at least 1
   * @return a copy with this count rule
   * @throws IllegalArgumentException if below 1
   */
  public StoreSettings withRetentionVersions(long retentionVersions) {
    return with(new Retention(retentionVersions, retention.duration()));
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
    return with(new Retention(retention.versions(), retentionDuration));
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
    return with(new Epoch(epochTick, epoch.longPinWarning(), epoch.askTimeout()));
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
    return with(new Epoch(epoch.tick(), longPinWarning, epoch.askTimeout()));
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
    return with(new Epoch(epoch.tick(), epoch.longPinWarning(), askTimeout));
  }

  // ---------------------------------------------------------------- writer

  /** The bound on writes sent and not yet answered. */
  public int maxPendingWrites() {
    return writer.maxPendingWrites();
  }

  /** The most writes that one group commit publishes together. */
  public int maxGroupWrites() {
    return writer.maxGroupWrites();
  }

  /** The configuration path of the WriterActor's dispatcher; empty for the default dispatcher. */
  public String writerDispatcher() {
    return writer.dispatcher();
  }

  /**
   * These settings with another bound on waiting writes.
   *
   * @param maxPendingWrites the bound on writes sent and not yet answered, in [1, 16777216]
   * @return a copy with this bound
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxPendingWrites(int maxPendingWrites) {
    return with(
        new Writer(
            maxPendingWrites, writer.maxGroupWrites(), writer.dispatcher(), writer.callerRuns()));
  }

  /**
   * These settings with another cap on a group commit.
   *
   * @param maxGroupWrites the most writes published together, in [1, 65536]
   * @return a copy with this cap
   * @throws IllegalArgumentException if out of bounds
   */
  public StoreSettings withMaxGroupWrites(int maxGroupWrites) {
    return with(
        new Writer(
            writer.maxPendingWrites(), maxGroupWrites, writer.dispatcher(), writer.callerRuns()));
  }

  /**
   * These settings with another dispatcher for the WriterActor.
   *
   * @param writerDispatcher the configuration path of a dispatcher for the WriterActor, or {@code
   *     ""} for the actor system's default dispatcher
   * @return a copy with this dispatcher
   * @throws NullPointerException if null
   */
  public StoreSettings withWriterDispatcher(String writerDispatcher) {
    return with(
        new Writer(
            writer.maxPendingWrites(),
            writer.maxGroupWrites(),
            writerDispatcher,
            writer.callerRuns()));
  }

  /**
   * Whether a write that finds the writer idle (no write pending, no group open) is applied and
   * published on the calling thread instead of waking the WriterActor ({@code writer.caller-runs},
   * on by default). Only memory-only stores use it: a durable store's writes always go through the
   * actor and its log thread, a replica takes no writes of its own, and a cluster store's writer
   * sends every write to its actor. What then runs on the caller's thread is listed at {@link
   * ZVerseStore#write(dev.zverse.engine.WriteBatch)}.
   *
   * @return true if a write may run on its caller's thread
   */
  public boolean callerRuns() {
    return writer.callerRuns();
  }

  /**
   * These settings with caller-runs turned on or off ({@code writer.caller-runs}, on by default).
   * On, one thread awaiting each put pays no thread hand-off: about a third of the CPU per put of
   * the actor path (benchmarks/README.md). Off suits a caller that must never run the store's work
   * itself (see {@link ZVerseStore#write(dev.zverse.engine.WriteBatch)}), or a test that pauses the
   * WriterActor to queue writes behind it.
   *
   * @param callerRuns true to let a write that finds the writer idle run on the calling thread (its
   *     {@code put} then returns a completed stage); false to send every write to the WriterActor
   * @return a copy with this choice
   */
  public StoreSettings withCallerRuns(boolean callerRuns) {
    return with(
        new Writer(
            writer.maxPendingWrites(), writer.maxGroupWrites(), writer.dispatcher(), callerRuns));
  }

  // ---------------------------------------------------------------- Z-index

  /** The {@code z-index} section: whether and how the store keeps the engine's Z-index. */
  public ZIndexSettings zIndex() {
    return zIndex;
  }

  /**
   * These settings with other Z-index settings, e.g. {@code withZIndex(z -> z.withEnabled(false))}.
   *
   * @param change turns the current Z-index settings into the new ones; its copiers check them
   * @return a copy with the new Z-index settings
   * @throws NullPointerException if {@code change} is or returns null
   * @throws IllegalArgumentException if a copier refuses a value
   */
  public StoreSettings withZIndex(UnaryOperator<ZIndexSettings> change) {
    ZIndexSettings z = Objects.requireNonNull(change.apply(zIndex), "zIndex");
    return new StoreSettings(limits, retention, epoch, writer, z, durability, clock);
  }

  // ---------------------------------------------------------------- durability

  /** The {@code durability} section: the data directory and how a durable store keeps its log. */
  public DurabilitySettings durability() {
    return durability;
  }

  /** Whether the store keeps a write-ahead log and checkpoints in a data directory. */
  public boolean isDurable() {
    return durability.isDurable();
  }

  /** The data directory of a durable store; empty for a memory-only store, the default. */
  public Optional<Path> dataDirectory() {
    return durability.dataDirectory();
  }

  /**
   * These settings with a data directory: the store is durable; see {@link
   * DurabilitySettings#withDataDirectory}.
   *
   * @param dataDirectory the directory, created if missing; locked while the store is open
   * @return a durable copy
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if the path is empty
   */
  public StoreSettings withDataDirectory(Path dataDirectory) {
    return withDurability(d -> d.withDataDirectory(dataDirectory));
  }

  /**
   * These settings with other durability settings, e.g. {@code withDurability(d ->
   * d.withSync(SyncPolicy.INTERVAL).withSyncInterval(Duration.ofMillis(20)))}.
   *
   * @param change turns the current durability settings into the new ones; its copiers check them
   * @return a copy with the new durability settings
   * @throws NullPointerException if {@code change} is or returns null
   * @throws IllegalArgumentException if a copier refuses a value
   */
  public StoreSettings withDurability(UnaryOperator<DurabilitySettings> change) {
    DurabilitySettings d = Objects.requireNonNull(change.apply(durability), "durability");
    return new StoreSettings(limits, retention, epoch, writer, zIndex, d, clock);
  }

  // ---------------------------------------------------------------- clock

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
    return new StoreSettings(limits, retention, epoch, writer, zIndex, durability, clock);
  }

  @Override
  public String toString() {
    return "StoreSettings" + List.of(limits, retention, epoch, writer, zIndex, durability);
  }

  // Each copier changes one group and keeps the others; the group's constructor (or the engine
  // type's copier) has already checked the new value.

  private StoreSettings with(Limits limits) {
    return new StoreSettings(limits, retention, epoch, writer, zIndex, durability, clock);
  }

  private StoreSettings with(Retention retention) {
    return new StoreSettings(limits, retention, epoch, writer, zIndex, durability, clock);
  }

  private StoreSettings with(Epoch epoch) {
    return new StoreSettings(limits, retention, epoch, writer, zIndex, durability, clock);
  }

  private StoreSettings with(Writer writer) {
    return new StoreSettings(limits, retention, epoch, writer, zIndex, durability, clock);
  }
}
