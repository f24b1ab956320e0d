package dev.zverse.streams;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import java.util.Objects;
import java.util.OptionalLong;
import org.apache.pekko.actor.ClassicActorSystemProvider;

/**
 * The settings of the streams module: how far a change feed may lag, how many writes a write flow
 * keeps in flight. Defaults live in the module's {@code reference.conf} under {@code
 * zverse.streams}:
 *
 * <pre>{@code
 * zverse.streams {
 *   change-feed.max-lag = retention   # or a number of versions
 *   write-flow.parallelism = 64
 * }
 * }</pre>
 *
 * <p>By default a change feed holds no history beyond what the store's retention keeps: once the
 * commit it needs next is older than retention alone would keep, it fails with {@link
 * ChangeFeedLagException} and lets go, so compaction wins over a slow consumer. A number instead
 * lets every feed fall that many versions behind the latest, holding the history it has not read
 * even past retention.
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class StreamsSettings {
  /** The largest {@code change-feed.max-lag}. */
  public static final long MAX_LAG_CEILING = 1_000_000_000L;

  /** The largest {@code write-flow.parallelism}. */
  public static final int PARALLELISM_CEILING = 1 << 16;

  /** {@link #maxLag}'s value when feeds are bounded by the store's retention. */
  private static final long RETENTION = 0;

  private static final String RETENTION_NAME = "retention";

  private final long maxLag;
  private final int writeParallelism;

  private StreamsSettings(long maxLag, int writeParallelism) {
    this.maxLag = maxLag == RETENTION ? RETENTION : requireMaxLag(maxLag, "change-feed.max-lag");
    this.writeParallelism = requireParallelism(writeParallelism, "write-flow.parallelism");
  }

  /**
   * The settings in an actor system's configuration, {@code zverse.streams}.
   *
   * @param system the actor system (typed or classic)
   * @throws NullPointerException if {@code system} is null
   * @throws IllegalArgumentException if a setting is out of its bounds
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static StreamsSettings create(ClassicActorSystemProvider system) {
    Objects.requireNonNull(system, "system");
    return create(system.classicSystem().settings().config().getConfig("zverse.streams"));
  }

  /**
   * Settings read from a section laid out like {@code zverse.streams} in {@code reference.conf}:
   * {@code change-feed.max-lag}, {@code write-flow.parallelism}.
   *
   * @param config the section
   * @return the settings
   * @throws NullPointerException if {@code config} is null
   * @throws IllegalArgumentException if a setting is out of its bounds (the message names it and
   *     the bounds)
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static StreamsSettings create(Config config) {
    Objects.requireNonNull(config, "config");
    long maxLag;
    if (config.getValue("change-feed.max-lag").valueType() == ConfigValueType.STRING
        && !config.getString("change-feed.max-lag").matches("-?[0-9]+")) {
      String s = config.getString("change-feed.max-lag");
      if (!s.equals(RETENTION_NAME)) {
        throw new IllegalArgumentException(
            "change-feed.max-lag must be \"retention\" or a number of versions in [1, "
                + MAX_LAG_CEILING
                + "], was \""
                + s
                + "\"");
      }
      maxLag = RETENTION;
    } else {
      maxLag = requireMaxLag(config.getLong("change-feed.max-lag"), "change-feed.max-lag");
    }
    return new StreamsSettings(
        maxLag,
        (int)
            Math.max(
                Integer.MIN_VALUE,
                Math.min(Integer.MAX_VALUE, config.getLong("write-flow.parallelism"))));
  }

  /**
   * How far, in versions, a change feed may fall behind the latest version, in [1, 10^9]; empty
   * (the default, {@code max-lag = retention}) if a feed may fall behind only as far as the store's
   * retention keeps history, and holds nothing beyond it.
   *
   * @return the lag limit, or empty for the store's retention
   */
  public OptionalLong maxLag() {
    return maxLag == RETENTION ? OptionalLong.empty() : OptionalLong.of(maxLag);
  }

  /** Writes a write flow keeps in flight, in [1, 65536]. */
  public int writeParallelism() {
    return writeParallelism;
  }

  /**
   * A copy with another change-feed lag limit.
   *
   * @param maxLag versions, in [1, 10^9]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public StreamsSettings withMaxLag(long maxLag) {
    return new StreamsSettings(requireMaxLag(maxLag, "maxLag"), writeParallelism);
  }

  /**
   * A copy whose change feeds fall behind only as far as their store's retention keeps history (the
   * default, {@code max-lag = retention}).
   *
   * @return the copy
   */
  public StreamsSettings withMaxLagOfRetention() {
    return new StreamsSettings(RETENTION, writeParallelism);
  }

  /**
   * A copy with another write-flow parallelism.
   *
   * @param parallelism writes in flight, in [1, 65536]
   * @throws IllegalArgumentException if out of bounds
   */
  public StreamsSettings withWriteParallelism(int parallelism) {
    return new StreamsSettings(maxLag, parallelism);
  }

  static long requireMaxLag(long maxLag, String name) {
    if (maxLag < 1 || maxLag > MAX_LAG_CEILING) {
      throw new IllegalArgumentException(
          name + " must be in [1, " + MAX_LAG_CEILING + "], was " + maxLag);
    }
    return maxLag;
  }

  static int requireParallelism(int parallelism, String name) {
    if (parallelism < 1 || parallelism > PARALLELISM_CEILING) {
      throw new IllegalArgumentException(
          name + " must be in [1, " + PARALLELISM_CEILING + "], was " + parallelism);
    }
    return parallelism;
  }

  @Override
  public String toString() {
    return "StreamsSettings[maxLag="
        + (maxLag == RETENTION ? RETENTION_NAME : maxLag)
        + ", writeParallelism="
        + writeParallelism
        + "]";
  }
}
