package dev.zverse.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.zverse.actors.SettingGroups.Epoch;
import dev.zverse.actors.SettingGroups.LogTiming;
import dev.zverse.actors.SettingGroups.Retention;
import dev.zverse.actors.SettingGroups.Writer;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.Limits;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.ZIndexOptions;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Reads {@link StoreSettings} from a configuration section laid out like {@code zverse.store} in
 * {@code reference.conf}. It checks no bound itself: it builds the engine's value types and the
 * {@link SettingGroups} from what it reads, and when one of them refuses a value it renames the
 * argument in the message to the setting's full path, so a setting read from HOCON and one set
 * through a copier are held to the same bound.
 */
final class StoreSettingsReader {
  private static final Pattern STORE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");

  /** The section of the defaults every store falls back to, and whose keys are the settings. */
  static final String DEFAULTS = "zverse.store";

  /** The setting each argument name of a copier (or of an engine value type) is read from. */
  private static final Map<String, String> KEY_OF_ARGUMENT =
      Map.ofEntries(
          Map.entry("maxKeyBytes", "max-key-bytes"),
          Map.entry("maxValueBytes", "max-value-bytes"),
          Map.entry("retentionVersions", "retention.versions"),
          Map.entry("retentionDuration", "retention.duration"),
          Map.entry("epochTick", "epoch.tick"),
          Map.entry("longPinWarning", "epoch.long-pin-warning"),
          Map.entry("askTimeout", "ask-timeout"),
          Map.entry("maxPendingWrites", "writer.max-pending-writes"),
          Map.entry("maxGroupWrites", "writer.max-group-writes"),
          Map.entry("segmentEntries", "z-index.segment-entries"),
          Map.entry("syncInterval", "durability.sync-interval"),
          Map.entry("segmentBytes", "durability.segment-bytes"),
          Map.entry("groupCommitWait", "durability.group-commit-wait"),
          Map.entry("checkpointInterval", "durability.checkpoint-interval"),
          Map.entry("checkpointEveryVersions", "durability.checkpoint-every-versions"));

  private final Config config;

  /** Turns a key of the section into the name messages give it (its full path). */
  private final UnaryOperator<String> path;

  /** Values set beyond an int's range, by key: the message gives them as set, not as clamped. */
  private final Map<String, Long> clamped = new HashMap<>();

  private StoreSettingsReader(Config config, UnaryOperator<String> path) {
    this.config = config;
    this.path = path;
  }

  /** See {@link StoreSettings#create(Config)}. */
  static StoreSettings read(Config config) {
    Objects.requireNonNull(config, "config");
    StoreSettingsReader section = new StoreSettingsReader(config, UnaryOperator.identity());
    section.requireKnownKeys();
    return section.read();
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
    new StoreSettingsReader(defaults, key -> DEFAULTS + "." + key).requireKnownKeys();
    String inDefaults = " (store " + storeName + ")";
    if (!root.hasPath(storePath)) {
      return new StoreSettingsReader(defaults, key -> DEFAULTS + "." + key + inDefaults).read();
    }
    Config overrides = root.getConfig(storePath);
    new StoreSettingsReader(overrides, key -> storePath + "." + key).requireKnownKeys();
    return new StoreSettingsReader(
            overrides.withFallback(defaults),
            key ->
                overrides.hasPathOrNull(key)
                    ? storePath + "." + key
                    : DEFAULTS + "." + key + inDefaults)
        .read();
  }

  /** Builds the settings from this section, each group checked by its own constructor. */
  private StoreSettings read() {
    String directory = config.getString("durability.data-directory");
    SyncPolicy sync = syncPolicy(config.getString("durability.sync"));
    return named(
        () ->
            new StoreSettings(
                Limits.defaults()
                    .withMaxKeyBytes(intOf("max-key-bytes", config.getBytes("max-key-bytes")))
                    .withMaxValueBytes(
                        intOf("max-value-bytes", config.getBytes("max-value-bytes"))),
                new Retention(
                    config.getLong("retention.versions"), config.getDuration("retention.duration")),
                new Epoch(
                    config.getDuration("epoch.tick"),
                    config.getDuration("epoch.long-pin-warning"),
                    config.getDuration("ask-timeout")),
                new Writer(
                    intOf("writer.max-pending-writes", config.getLong("writer.max-pending-writes")),
                    intOf("writer.max-group-writes", config.getLong("writer.max-group-writes")),
                    config.getString("writer.dispatcher"),
                    config.getBoolean("writer.caller-runs")),
                new ZIndexSettings(
                    ZIndexOptions.defaults()
                        .withEnabled(config.getBoolean("z-index.enabled"))
                        .withSegmentEntries(
                            intOf("z-index.segment-entries", longAt("z-index.segment-entries"))),
                    config.getString("z-index.dispatcher")),
                new DurabilitySettings(
                    DurabilityOptions.in(Path.of(directory))
                        .withSync(sync)
                        .withSyncInterval(config.getDuration("durability.sync-interval"))
                        .withSegmentBytes(config.getBytes("durability.segment-bytes"))
                        .withRecoverPastCorruption(
                            config.getBoolean("durability.recover-past-corruption")),
                    new LogTiming(
                        config.getDuration("durability.group-commit-wait"),
                        config.getDuration("durability.checkpoint-interval"),
                        config.getLong("durability.checkpoint-every-versions"))),
                InstantSource.system()));
  }

  private long longAt(String key) {
    return config.getLong(key);
  }

  /**
   * {@code value} as an int. One past an int's range is clamped, which keeps it outside the
   * setting's bounds (all of them lie inside an int's), so the value type still refuses it; the
   * message then gives the value as set.
   */
  private int intOf(String key, long value) {
    if (value == (int) value) {
      return (int) value;
    }
    clamped.put(key, value);
    return value < 0 ? Integer.MIN_VALUE : Integer.MAX_VALUE;
  }

  /**
   * Runs {@code make}; a refusal that names a copier's argument is given again naming the setting's
   * full path instead.
   */
  private <T> T named(Supplier<T> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException e) {
      throw renamed(
          e,
          argument -> {
            String key = KEY_OF_ARGUMENT.get(argument);
            return key == null ? null : path.apply(key);
          },
          argument -> clamped.get(KEY_OF_ARGUMENT.get(argument)));
    }
  }

  /**
   * {@code e} with the argument its message opens with ("name must be ..., was value") replaced by
   * {@code newName} of it, or {@code e} itself if {@code newName} gives null; {@code asSet} gives
   * the value to report for an argument, or null to keep the one reported.
   */
  static IllegalArgumentException renamed(
      IllegalArgumentException e, Function<String, String> newName, Function<String, Long> asSet) {
    String message = String.valueOf(e.getMessage());
    int space = message.indexOf(' ');
    String argument = space < 0 ? "" : message.substring(0, space);
    String name = newName.apply(argument);
    if (name == null) {
      return e;
    }
    String rest = message.substring(space);
    Long value = asSet.apply(argument);
    if (value != null && rest.contains(", was ")) {
      rest = rest.substring(0, rest.lastIndexOf(", was ")) + ", was " + value;
    }
    return new IllegalArgumentException(name + rest, e);
  }

  private SyncPolicy syncPolicy(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "every-commit" -> SyncPolicy.EVERY_COMMIT;
      case "interval" -> SyncPolicy.INTERVAL;
      case "never" -> SyncPolicy.NEVER;
      default ->
          throw new IllegalArgumentException(
              path.apply("durability.sync")
                  + " must be one of every-commit, interval, never; was \""
                  + value
                  + "\"");
    };
  }

  /**
   * Refuses every key that is not a setting: HOCON would ignore a misspelt one and the store would
   * quietly run on the default. The message names each such key's full path, where it was set, and
   * the setting nearest to it (by edit distance, a swap of two neighbouring letters counting one).
   */
  private void requireKnownKeys() {
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

  /**
   * The key of {@code candidates} nearest to {@code key}; the first in order among equals, null if
   * there is none.
   */
  static @Nullable String nearest(String key, Collection<String> candidates) {
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
}
