package dev.zverse.cluster;

import com.typesafe.config.Config;
import dev.zverse.engine.CommitRecordCodec;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.actor.ClassicActorSystemProvider;

/**
 * The settings of the cluster module. Defaults live in the module's {@code reference.conf} under
 * {@code zverse.cluster}:
 *
 * <pre>{@code
 * zverse.cluster {
 *   role = ""                        # nodes the writer may run on; "" for any
 *   write-timeout = 10s              # a write from any node fails after this without an answer
 *   proxy-buffer-size = 1000         # the singleton proxy's buffer, oldest dropped when full
 *   chunk-bytes = 131072             # bytes per part of a message split into chunks
 *   max-message-bytes = 1073741824   # the largest message put back together from chunks
 * }
 * }</pre>
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class ClusterSettings {
  /** The longest {@code write-timeout}. */
  public static final Duration MAX_WRITE_TIMEOUT = Duration.ofHours(1);

  /** The largest {@code proxy-buffer-size}, Pekko's own bound for the singleton proxy. */
  public static final int MAX_PROXY_BUFFER_SIZE = 10_000;

  /** The smallest {@code chunk-bytes}. */
  public static final int MIN_CHUNK_BYTES = 1024;

  /** The largest {@code chunk-bytes}. */
  public static final int MAX_CHUNK_BYTES = 16 * 1024 * 1024;

  private final String role;
  private final Duration writeTimeout;
  private final int proxyBufferSize;
  private final int chunkBytes;
  private final long maxMessageBytes;

  private ClusterSettings(
      String role,
      Duration writeTimeout,
      long proxyBufferSize,
      long chunkBytes,
      long maxMessageBytes) {
    this.role = Objects.requireNonNull(role, "role");
    Objects.requireNonNull(writeTimeout, "writeTimeout");
    if (writeTimeout.isNegative()
        || writeTimeout.isZero()
        || writeTimeout.compareTo(MAX_WRITE_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "write-timeout must be in (0, " + MAX_WRITE_TIMEOUT + "], was " + writeTimeout);
    }
    this.writeTimeout = writeTimeout;
    this.proxyBufferSize =
        (int) requireIn(proxyBufferSize, 0, MAX_PROXY_BUFFER_SIZE, "proxy-buffer-size");
    this.chunkBytes = (int) requireIn(chunkBytes, MIN_CHUNK_BYTES, MAX_CHUNK_BYTES, "chunk-bytes");
    this.maxMessageBytes =
        requireIn(maxMessageBytes, 1, CommitRecordCodec.MAX_PAYLOAD_BYTES, "max-message-bytes");
  }

  /**
   * The settings in an actor system's configuration, {@code zverse.cluster}.
   *
   * @param system the actor system (typed or classic)
   * @return the settings
   * @throws NullPointerException if {@code system} is null
   * @throws IllegalArgumentException if a setting is out of its bounds
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static ClusterSettings create(ClassicActorSystemProvider system) {
    Objects.requireNonNull(system, "system");
    return create(system.classicSystem().settings().config().getConfig("zverse.cluster"));
  }

  /**
   * Settings read from a section laid out like {@code zverse.cluster} in {@code reference.conf}.
   *
   * @param config the section
   * @return the settings
   * @throws NullPointerException if {@code config} is null
   * @throws IllegalArgumentException if a setting is out of its bounds (the message names it and
   *     the bounds)
   * @throws com.typesafe.config.ConfigException if a setting is missing or of the wrong type
   */
  public static ClusterSettings create(Config config) {
    Objects.requireNonNull(config, "config");
    return new ClusterSettings(
        config.getString("role"),
        config.getDuration("write-timeout"),
        config.getLong("proxy-buffer-size"),
        config.getLong("chunk-bytes"),
        config.getLong("max-message-bytes"));
  }

  /** The role of the nodes the writer may run on, or empty for any node. */
  public Optional<String> role() {
    return role.isEmpty() ? Optional.empty() : Optional.of(role);
  }

  /** How long a write waits for the writer's answer, in (0, 1h]. */
  public Duration writeTimeout() {
    return writeTimeout;
  }

  /** Messages the singleton proxy buffers while the writer is unknown, in [0, 10000]. */
  public int proxyBufferSize() {
    return proxyBufferSize;
  }

  /** Bytes per part of a message split into chunks, in [1024, 16777216]. */
  public int chunkBytes() {
    return chunkBytes;
  }

  /** The largest message put back together from chunks, in bytes, at least 1. */
  public long maxMessageBytes() {
    return maxMessageBytes;
  }

  /**
   * A copy whose writer runs only on nodes with {@code role}.
   *
   * @param role a cluster role, or "" for any node
   * @return the copy
   * @throws NullPointerException if {@code role} is null
   */
  public ClusterSettings withRole(String role) {
    return new ClusterSettings(role, writeTimeout, proxyBufferSize, chunkBytes, maxMessageBytes);
  }

  /**
   * A copy with another write timeout.
   *
   * @param writeTimeout in (0, 1h]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withWriteTimeout(Duration writeTimeout) {
    return new ClusterSettings(role, writeTimeout, proxyBufferSize, chunkBytes, maxMessageBytes);
  }

  /**
   * A copy with another proxy buffer size.
   *
   * @param proxyBufferSize messages, in [0, 10000]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withProxyBufferSize(int proxyBufferSize) {
    return new ClusterSettings(role, writeTimeout, proxyBufferSize, chunkBytes, maxMessageBytes);
  }

  /**
   * A copy with another chunk size.
   *
   * @param chunkBytes bytes, in [1024, 16777216]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withChunkBytes(int chunkBytes) {
    return new ClusterSettings(role, writeTimeout, proxyBufferSize, chunkBytes, maxMessageBytes);
  }

  /**
   * A copy with another bound on reassembled messages.
   *
   * @param maxMessageBytes bytes, in [1, 2147483583]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withMaxMessageBytes(long maxMessageBytes) {
    return new ClusterSettings(role, writeTimeout, proxyBufferSize, chunkBytes, maxMessageBytes);
  }

  @Override
  public String toString() {
    return "ClusterSettings[role="
        + (role.isEmpty() ? "any" : role)
        + ", writeTimeout="
        + writeTimeout
        + ", proxyBufferSize="
        + proxyBufferSize
        + ", chunkBytes="
        + chunkBytes
        + ", maxMessageBytes="
        + maxMessageBytes
        + "]";
  }

  private static long requireIn(long value, long min, long max, String name) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be in [" + min + ", " + max + "], was " + value);
    }
    return value;
  }
}
