package dev.zverse.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.Limits;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.ZIndexOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Every setting of a store, set to a random value through HOCON, through {@link StoreSettings}'s
 * copier, and (where the engine models it) through the engine value type's copier: all three accept
 * it and give it back unchanged, or all three refuse it with the same bound, each message naming
 * its own setting or argument. The values are drawn on a logarithmic scale on both sides of zero,
 * so that every bound, whatever its size, is crossed often, and none is restated here.
 */
class SettingsRoundTripProperties {
  private static final Config DEFAULTS = ConfigFactory.load().getConfig("zverse.store");
  private static final StoreSettings BASE = StoreSettings.create(DEFAULTS);

  /**
   * One setting: its key in HOCON, its copier's argument, its values, how a value is written in
   * HOCON, the copier and accessor of {@link StoreSettings}, and the engine's own copier and
   * argument name (null where the engine does not model it).
   */
  record Setting<T>(
      String key,
      String argument,
      Arbitrary<T> values,
      Function<T, Object> hocon,
      BiFunction<StoreSettings, T, StoreSettings> copier,
      Function<StoreSettings, T> accessor,
      Function<T, T> engine,
      String engineArgument) {

    Setting<T> engine(Function<T, T> engine, String engineArgument) {
      return new Setting<>(key, argument, values, hocon, copier, accessor, engine, engineArgument);
    }
  }

  /** A setting and one value for it. */
  record Case<T>(Setting<T> setting, T value) {
    @Override
    public String toString() {
      return setting.key + " = " + value;
    }
  }

  private static <T> Setting<T> setting(
      String key,
      String argument,
      Arbitrary<T> values,
      Function<T, Object> hocon,
      BiFunction<StoreSettings, T, StoreSettings> copier,
      Function<StoreSettings, T> accessor) {
    return new Setting<>(key, argument, values, hocon, copier, accessor, null, null);
  }

  /** Every setting of {@code reference.conf}'s {@code zverse.store}. */
  static final List<Setting<?>> SETTINGS =
      List.of(
          setting(
                  "max-key-bytes",
                  "maxKeyBytes",
                  sizes(),
                  v -> v,
                  StoreSettings::withMaxKeyBytes,
                  StoreSettings::maxKeyBytes)
              .engine(v -> Limits.defaults().withMaxKeyBytes(v).maxKeyBytes(), "maxKeyBytes"),
          setting(
                  "max-value-bytes",
                  "maxValueBytes",
                  sizes(),
                  v -> v,
                  StoreSettings::withMaxValueBytes,
                  StoreSettings::maxValueBytes)
              .engine(v -> Limits.defaults().withMaxValueBytes(v).maxValueBytes(), "maxValueBytes"),
          setting(
              "retention.versions",
              "retentionVersions",
              longs(),
              v -> v,
              StoreSettings::withRetentionVersions,
              StoreSettings::retentionVersions),
          setting(
              "retention.duration",
              "retentionDuration",
              durations(),
              SettingsRoundTripProperties::hocon,
              StoreSettings::withRetentionDuration,
              StoreSettings::retentionDuration),
          setting(
              "epoch.tick",
              "epochTick",
              durations(),
              SettingsRoundTripProperties::hocon,
              StoreSettings::withEpochTick,
              StoreSettings::epochTick),
          setting(
              "epoch.long-pin-warning",
              "longPinWarning",
              durations(),
              SettingsRoundTripProperties::hocon,
              StoreSettings::withLongPinWarning,
              StoreSettings::longPinWarning),
          setting(
              "writer.max-pending-writes",
              "maxPendingWrites",
              ints(),
              v -> v,
              StoreSettings::withMaxPendingWrites,
              StoreSettings::maxPendingWrites),
          setting(
              "writer.max-group-writes",
              "maxGroupWrites",
              ints(),
              v -> v,
              StoreSettings::withMaxGroupWrites,
              StoreSettings::maxGroupWrites),
          setting(
              "writer.dispatcher",
              "writerDispatcher",
              strings(),
              v -> v,
              StoreSettings::withWriterDispatcher,
              StoreSettings::writerDispatcher),
          setting(
              "writer.caller-runs",
              "callerRuns",
              Arbitraries.of(true, false),
              v -> v,
              StoreSettings::withCallerRuns,
              StoreSettings::callerRuns),
          setting(
              "ask-timeout",
              "askTimeout",
              durations(),
              SettingsRoundTripProperties::hocon,
              StoreSettings::withAskTimeout,
              StoreSettings::askTimeout),
          setting(
              "z-index.enabled",
              "enabled",
              Arbitraries.of(true, false),
              v -> v,
              (s, v) -> s.withZIndex(z -> z.withEnabled(v)),
              s -> s.zIndex().enabled()),
          setting(
                  "z-index.segment-entries",
                  "segmentEntries",
                  ints(),
                  v -> v,
                  (s, v) -> s.withZIndex(z -> z.withSegmentEntries(v)),
                  s -> s.zIndex().segmentEntries())
              .engine(
                  v -> ZIndexOptions.defaults().withSegmentEntries(v).segmentEntries(),
                  "segmentEntries"),
          setting(
              "z-index.dispatcher",
              "dispatcher",
              strings(),
              v -> v,
              (s, v) -> s.withZIndex(z -> z.withDispatcher(v)),
              s -> s.zIndex().dispatcher()),
          setting(
              "durability.data-directory",
              "dataDirectory",
              strings().filter(s -> !s.isEmpty()).map(Path::of),
              Path::toString,
              StoreSettings::withDataDirectory,
              s -> s.dataDirectory().orElseThrow()),
          setting(
              "durability.sync",
              "sync",
              Arbitraries.of(SyncPolicy.class),
              v -> v.name().toLowerCase(Locale.ROOT).replace('_', '-'),
              (s, v) -> s.withDurability(d -> d.withSync(v)),
              s -> s.durability().sync()),
          setting(
                  "durability.sync-interval",
                  "syncInterval",
                  durations(),
                  SettingsRoundTripProperties::hocon,
                  (s, v) -> s.withDurability(d -> d.withSyncInterval(v)),
                  s -> s.durability().syncInterval())
              .engine(v -> options().withSyncInterval(v).syncInterval(), "syncInterval"),
          setting(
              "durability.group-commit-wait",
              "groupCommitWait",
              durations(),
              SettingsRoundTripProperties::hocon,
              (s, v) -> s.withDurability(d -> d.withGroupCommitWait(v)),
              s -> s.durability().groupCommitWait()),
          setting(
                  "durability.segment-bytes",
                  "segmentBytes",
                  longs().filter(v -> v >= 0),
                  v -> v,
                  (s, v) -> s.withDurability(d -> d.withSegmentBytes(v)),
                  s -> s.durability().segmentBytes())
              .engine(v -> options().withSegmentBytes(v).segmentBytes(), "segmentBytes"),
          setting(
              "durability.checkpoint-interval",
              "checkpointInterval",
              durations(),
              SettingsRoundTripProperties::hocon,
              (s, v) -> s.withDurability(d -> d.withCheckpointInterval(v)),
              s -> s.durability().checkpointInterval()),
          setting(
              "durability.checkpoint-every-versions",
              "checkpointEveryVersions",
              longs(),
              v -> v,
              (s, v) -> s.withDurability(d -> d.withCheckpointEveryVersions(v)),
              s -> s.durability().checkpointEveryVersions()),
          setting(
              "durability.recover-past-corruption",
              "recoverPastCorruption",
              Arbitraries.of(true, false),
              v -> v,
              (s, v) -> s.withDurability(d -> d.withRecoverPastCorruption(v)),
              s -> s.durability().recoverPastCorruption()));

  @Example
  void theTableCoversEverySetting() {
    Set<String> covered = SETTINGS.stream().map(Setting::key).collect(Collectors.toSet());
    assertEquals(StoreSettingsReader.knownKeys(), new TreeSet<>(covered));
  }

  @Property(tries = 1000)
  void everySettingHasOneBoundWhereverItIsSet(@ForAll("cases") Case<?> c) {
    check(c);
  }

  private static <T> void check(Case<T> c) {
    Setting<T> s = c.setting();
    Outcome<T> fromHocon = outcome(() -> s.accessor().apply(read(s, c.value())));
    Outcome<T> fromCopier = outcome(() -> s.accessor().apply(s.copier().apply(BASE, c.value())));

    assertEquals(
        fromHocon.accepted(),
        fromCopier.accepted(),
        () -> c + ": HOCON " + fromHocon + ", copier " + fromCopier);
    if (fromHocon.accepted()) {
      assertEquals(c.value(), fromHocon.value(), "read back from HOCON");
      assertEquals(c.value(), fromCopier.value(), "read back from the copier");
    } else {
      assertEquals(bound(fromHocon, s.key()), bound(fromCopier, s.argument()), c.toString());
    }
    if (s.engine() != null) {
      Outcome<T> fromEngine = outcome(() -> s.engine().apply(c.value()));
      assertEquals(
          fromCopier.accepted(),
          fromEngine.accepted(),
          () -> c + ": copier " + fromCopier + ", engine " + fromEngine);
      if (fromEngine.accepted()) {
        assertEquals(c.value(), fromEngine.value(), "read back from the engine");
      } else {
        assertEquals(
            bound(fromCopier, s.argument()), bound(fromEngine, s.engineArgument()), c.toString());
      }
    }
  }

  /** A size past an int's range, set in HOCON, is refused with the bound and the size as set. */
  @Example
  void aSizePastAnIntIsRefusedAsSet() {
    Config config = ConfigFactory.parseString("max-value-bytes = 5 GiB").withFallback(DEFAULTS);
    Outcome<StoreSettings> o = outcome(() -> StoreSettings.create(config));
    assertEquals("max-value-bytes must be in [0, 1073741824], was 5368709120", o.refusal());
  }

  @Provide
  Arbitrary<Case<?>> cases() {
    return Arbitraries.of(SETTINGS).flatMap(SettingsRoundTripProperties::cases);
  }

  private static <T> Arbitrary<Case<?>> cases(Setting<T> s) {
    return s.values().map(v -> new Case<>(s, v));
  }

  private static <T> StoreSettings read(Setting<T> s, T value) {
    return StoreSettings.create(
        DEFAULTS.withValue(s.key(), ConfigValueFactory.fromAnyRef(s.hocon().apply(value))));
  }

  /** What setting a value came to: the value read back, or the refusal's message. */
  record Outcome<T>(boolean accepted, T value, String refusal) {}

  private static <T> Outcome<T> outcome(Supplier<T> set) {
    try {
      return new Outcome<>(true, set.get(), null);
    } catch (IllegalArgumentException e) {
      return new Outcome<>(false, null, e.getMessage());
    }
  }

  /** The refusal's message without the name it opens with, which must be {@code name}. */
  private static String bound(Outcome<?> o, String name) {
    assertTrue(o.refusal().startsWith(name + " "), () -> "names " + name + ": " + o.refusal());
    return o.refusal().substring(name.length());
  }

  private static DurabilityOptions options() {
    return DurabilityOptions.in(Path.of("data"));
  }

  /** Longs of every magnitude, either sign: a random number below a random power of two. */
  private static Arbitrary<Long> longs() {
    return Arbitraries.integers()
        .between(0, 63)
        .flatMap(bits -> Arbitraries.longs().between(0, bits == 63 ? Long.MAX_VALUE : 1L << bits))
        .flatMap(v -> Arbitraries.of(v, -v));
  }

  private static Arbitrary<Integer> ints() {
    return longs().map(v -> (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)));
  }

  /** Sizes are never negative in HOCON, which refuses a negative size by itself. */
  private static Arbitrary<Integer> sizes() {
    return ints().filter(v -> v >= 0);
  }

  /** Durations from nanoseconds to centuries, either sign. */
  private static Arbitrary<Duration> durations() {
    return longs().map(Duration::ofNanos);
  }

  private static Arbitrary<String> strings() {
    return Arbitraries.strings().alpha().numeric().withChars('.', '-', '_').ofMaxLength(12);
  }

  /** A duration as HOCON writes it: a number of nanoseconds. */
  private static String hocon(Duration d) {
    return d.toNanos() + "ns";
  }
}
