package dev.zverse.streams;

import com.typesafe.config.Config;
import java.util.Objects;
import org.apache.pekko.actor.ClassicActorSystemProvider;

/**
 * The settings of the streams module: how far a change feed may lag, how many writes a write flow
 * keeps in flight. Defaults live in the module's {@code reference.conf} under {@code
 * zverse.streams}:
 *
 * <pre>{@code
 * zverse.streams {
 *   change-feed.max-lag = 100000
 *   write-flow.parallelism = 64
 * }
 * }</pre>
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class StreamsSettings {
  /** The largest {@code change-feed.max-lag}. */
  public static final long MAX_LAG_CEILING = 1_000_000_000L;
  /** The largest {@code write-flow.parallelism}. */
  public static final int PARALLELISM_CEILING = 1 << 16;

  private final long maxLag;
  private final int writeParallelism;

  private StreamsSettings(long maxLag, int writeParallelism) {
    this.maxLag = requireMaxLag(maxLag, "change-feed.max-lag");
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
   * @throws NullPointerException if {@code config} is null
   * @throws IllegalArgumentException if a setting is out of its bounds (the message names it and the
   *     bounds)
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static StreamsSettings create(Config config) {
    Objects.requireNonNull(config, "config");
    return new StreamsSettings(
        config.getLong("change-feed.max-lag"),
        (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, config.getLong("write-flow.parallelism"))));
  }

  /** How far, in versions, a change feed may fall behind the latest version, in [1, 10^9]. */
  public long maxLag() {
    return maxLag;
  }

  /** Writes a write flow keeps in flight, in [1, 65536]. */
  public int writeParallelism() {
    return writeParallelism;
  }

  /**
   * A copy with another change-feed lag limit.
   *
   * @param maxLag versions, in [1, 10^9]
   * @throws IllegalArgumentException if out of bounds
   */
  public StreamsSettings withMaxLag(long maxLag) {
    return new StreamsSettings(maxLag, writeParallelism);
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
      throw new IllegalArgumentException(name + " must be in [1, " + MAX_LAG_CEILING + "], was " + maxLag);
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
    return "StreamsSettings[maxLag=" + maxLag + ", writeParallelism=" + writeParallelism + "]";
  }
}
