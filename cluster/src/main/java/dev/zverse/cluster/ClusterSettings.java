package dev.zverse.cluster;

import com.typesafe.config.Config;
import dev.zverse.engine.CommitRecordCodec;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.jspecify.annotations.Nullable;

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
 *   replica-window = 256             # versions sent to a replica beyond its acknowledgement
 *   follow-retry = 1s                # a replica asks the writer again after this silence
 *   status-interval = 1s             # a replica updates its lag this often
 *   lag-warning-versions = 10000     # lag past this is warned about once, and not ready
 *   lag-warning-time = 10s           # the same, in time
 *   replication.min-acks = 1         # replicas besides the writer's node that hold a write
 *   replication.ack-timeout = 5s     # a write waits this long for them
 *   require-downing-provider = on    # refuse to open without a downing provider
 *   replica-dispatcher = "zverse.cluster.replica-thread"  # the replica's own thread; "" to keep
 *                                    # the replica StoreSettings' writer dispatcher
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
  private final int replicaWindow;
  private final Duration followRetry;
  private final Duration statusInterval;
  private final long lagWarningVersions;
  private final Duration lagWarningTime;
  private final int minAcks;
  private final Duration ackTimeout;
  private final boolean requireDowningProvider;
  private final String replicaDispatcher;

  /** The largest {@code replication.min-acks}. */
  public static final int MAX_MIN_ACKS = 100;

  /** The largest {@code replica-window}. */
  public static final int MAX_REPLICA_WINDOW = 1_000_000;

  /** The longest {@code follow-retry}, {@code status-interval} and {@code lag-warning-time}. */
  public static final Duration MAX_INTERVAL = Duration.ofHours(1);

  private ClusterSettings(
      String role,
      Duration writeTimeout,
      long proxyBufferSize,
      long chunkBytes,
      long maxMessageBytes,
      long replicaWindow,
      Duration followRetry,
      Duration statusInterval,
      long lagWarningVersions,
      Duration lagWarningTime,
      long minAcks,
      Duration ackTimeout,
      boolean requireDowningProvider,
      String replicaDispatcher) {
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
    this.replicaWindow = (int) requireIn(replicaWindow, 1, MAX_REPLICA_WINDOW, "replica-window");
    this.followRetry = requirePositive(followRetry, "follow-retry");
    this.statusInterval = requirePositive(statusInterval, "status-interval");
    this.lagWarningVersions =
        requireIn(lagWarningVersions, 1, Long.MAX_VALUE, "lag-warning-versions");
    this.lagWarningTime = requirePositive(lagWarningTime, "lag-warning-time");
    this.minAcks = (int) requireIn(minAcks, 0, MAX_MIN_ACKS, "replication.min-acks");
    this.ackTimeout = requirePositive(ackTimeout, "replication.ack-timeout");
    this.requireDowningProvider = requireDowningProvider;
    this.replicaDispatcher = Objects.requireNonNull(replicaDispatcher, "replicaDispatcher");
  }

  /** A copy of {@code o} through the validating constructor: every {@code withX} goes here. */
  private ClusterSettings(ClusterSettings o, Change change) {
    this(
        change.role != null ? change.role : o.role,
        change.writeTimeout != null ? change.writeTimeout : o.writeTimeout,
        change.proxyBufferSize != null ? change.proxyBufferSize : o.proxyBufferSize,
        change.chunkBytes != null ? change.chunkBytes : o.chunkBytes,
        change.maxMessageBytes != null ? change.maxMessageBytes : o.maxMessageBytes,
        change.replicaWindow != null ? change.replicaWindow : o.replicaWindow,
        change.followRetry != null ? change.followRetry : o.followRetry,
        change.statusInterval != null ? change.statusInterval : o.statusInterval,
        change.lagWarningVersions != null ? change.lagWarningVersions : o.lagWarningVersions,
        change.lagWarningTime != null ? change.lagWarningTime : o.lagWarningTime,
        change.minAcks != null ? change.minAcks : o.minAcks,
        change.ackTimeout != null ? change.ackTimeout : o.ackTimeout,
        change.requireDowningProvider != null
            ? change.requireDowningProvider
            : o.requireDowningProvider,
        change.replicaDispatcher != null ? change.replicaDispatcher : o.replicaDispatcher);
  }

  /** The one setting a {@code withX} changes; the others stay null. */
  private static final class Change {
    @Nullable String role;
    @Nullable Duration writeTimeout;
    @Nullable Long proxyBufferSize;
    @Nullable Long chunkBytes;
    @Nullable Long maxMessageBytes;
    @Nullable Long replicaWindow;
    @Nullable Duration followRetry;
    @Nullable Duration statusInterval;
    @Nullable Long lagWarningVersions;
    @Nullable Duration lagWarningTime;
    @Nullable Long minAcks;
    @Nullable Duration ackTimeout;
    @Nullable Boolean requireDowningProvider;
    @Nullable String replicaDispatcher;
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
        config.getLong("max-message-bytes"),
        config.getLong("replica-window"),
        config.getDuration("follow-retry"),
        config.getDuration("status-interval"),
        config.getLong("lag-warning-versions"),
        config.getDuration("lag-warning-time"),
        config.getLong("replication.min-acks"),
        config.getDuration("replication.ack-timeout"),
        config.getBoolean("require-downing-provider"),
        config.getString("replica-dispatcher"));
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
    Objects.requireNonNull(role, "role");
    Change c = new Change();
    c.role = role;
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another write timeout.
   *
   * @param writeTimeout in (0, 1h]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withWriteTimeout(Duration writeTimeout) {
    Change c = new Change();
    c.writeTimeout = writeTimeout;
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another proxy buffer size.
   *
   * @param proxyBufferSize messages, in [0, 10000]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withProxyBufferSize(int proxyBufferSize) {
    Change c = new Change();
    c.proxyBufferSize = (long) proxyBufferSize;
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another chunk size.
   *
   * @param chunkBytes bytes, in [1024, 16777216]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withChunkBytes(int chunkBytes) {
    Change c = new Change();
    c.chunkBytes = (long) chunkBytes;
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another bound on reassembled messages.
   *
   * @param maxMessageBytes bytes, in [1, 2147483583]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withMaxMessageBytes(long maxMessageBytes) {
    Change c = new Change();
    c.maxMessageBytes = maxMessageBytes;
    return new ClusterSettings(this, c);
  }

  /** Versions the writer sends a replica beyond what it acknowledged, in [1, 1000000]. */
  public int replicaWindow() {
    return replicaWindow;
  }

  /** How often a replica asks again to follow while the writer has not answered, in (0, 1h]. */
  public Duration followRetry() {
    return followRetry;
  }

  /** How often a replica updates its lag and checks it against the thresholds, in (0, 1h]. */
  public Duration statusInterval() {
    return statusInterval;
  }

  /** Lag in versions past which a replica warns and is not ready, at least 1. */
  public long lagWarningVersions() {
    return lagWarningVersions;
  }

  /** Lag in time past which a replica warns and is not ready, in (0, 1h]. */
  public Duration lagWarningTime() {
    return lagWarningTime;
  }

  /**
   * A copy with another replica window.
   *
   * @param replicaWindow versions, in [1, 1000000]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withReplicaWindow(int replicaWindow) {
    Change c = new Change();
    c.replicaWindow = (long) replicaWindow;
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another follow retry interval.
   *
   * @param followRetry in (0, 1h]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withFollowRetry(Duration followRetry) {
    Change c = new Change();
    c.followRetry = Objects.requireNonNull(followRetry, "followRetry");
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another status interval.
   *
   * @param statusInterval in (0, 1h]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withStatusInterval(Duration statusInterval) {
    Change c = new Change();
    c.statusInterval = Objects.requireNonNull(statusInterval, "statusInterval");
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with other lag thresholds.
   *
   * @param versions lag in versions, at least 1
   * @param time lag in time, in (0, 1h]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withLagWarning(long versions, Duration time) {
    Change c = new Change();
    c.lagWarningVersions = versions;
    c.lagWarningTime = Objects.requireNonNull(time, "time");
    return new ClusterSettings(this, c);
  }

  /**
   * Replicas besides the writer's node that must have received a write before it is answered, in
   * [0, 100]; 0 answers once the writer committed it (the only setting a one-node cluster can
   * meet).
   */
  public int minAcks() {
    return minAcks;
  }

  /**
   * How long a write waits for {@link #minAcks()} replicas, in (0, 1h]: before it is committed (too
   * few replicas follow the writer; then it fails with {@link NotEnoughReplicasException}, nothing
   * written) and after (too few acknowledged; then its outcome is unknown).
   */
  public Duration ackTimeout() {
    return ackTimeout;
  }

  /**
   * Whether opening a store on a cluster without {@code pekko.cluster.downing-provider-class} fails
   * (the default): without a downing provider a crashed writer's node is never removed, and the
   * writer never moves.
   */
  public boolean requireDowningProvider() {
    return requireDowningProvider;
  }

  /**
   * The configuration path of the dispatcher this node's replica runs on (the actor that follows
   * the writer, and its store's writer unless the replica's settings name a writer dispatcher other
   * than the configured one), or "" to leave the replica's {@link
   * dev.zverse.actors.StoreSettings#writerDispatcher()} as given and run the follower on the
   * system's default dispatcher. By default a thread of its own, {@code
   * zverse.cluster.replica-thread}: the replica on the writer's node otherwise shares its threads
   * with the writer, and lags it by whole batches under load.
   */
  public String replicaDispatcher() {
    return replicaDispatcher;
  }

  /**
   * A copy whose replica runs on another dispatcher.
   *
   * @param replicaDispatcher the configuration path of a dispatcher, or "" for the replica store's
   *     own writer dispatcher
   * @return the copy
   * @throws NullPointerException if {@code replicaDispatcher} is null
   */
  public ClusterSettings withReplicaDispatcher(String replicaDispatcher) {
    Change c = new Change();
    c.replicaDispatcher = Objects.requireNonNull(replicaDispatcher, "replicaDispatcher");
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another {@code replication.min-acks}.
   *
   * @param minAcks replicas besides the writer's node, in [0, 100]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withMinAcks(int minAcks) {
    Change c = new Change();
    c.minAcks = (long) minAcks;
    return new ClusterSettings(this, c);
  }

  /**
   * A copy with another {@code replication.ack-timeout}.
   *
   * @param ackTimeout in (0, 1h]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ClusterSettings withAckTimeout(Duration ackTimeout) {
    Change c = new Change();
    c.ackTimeout = Objects.requireNonNull(ackTimeout, "ackTimeout");
    return new ClusterSettings(this, c);
  }

  /**
   * A copy that does or does not require a downing provider to open a store.
   *
   * @param require whether to require {@code pekko.cluster.downing-provider-class}
   * @return the copy
   */
  public ClusterSettings withRequireDowningProvider(boolean require) {
    Change c = new Change();
    c.requireDowningProvider = require;
    return new ClusterSettings(this, c);
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
        + ", replicaWindow="
        + replicaWindow
        + ", followRetry="
        + followRetry
        + ", statusInterval="
        + statusInterval
        + ", lagWarning="
        + lagWarningVersions
        + " versions or "
        + lagWarningTime
        + ", minAcks="
        + minAcks
        + ", ackTimeout="
        + ackTimeout
        + ", requireDowningProvider="
        + requireDowningProvider
        + ", replicaDispatcher="
        + (replicaDispatcher.isEmpty() ? "the replica store's" : replicaDispatcher)
        + "]";
  }

  private static Duration requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero() || d.compareTo(MAX_INTERVAL) > 0) {
      throw new IllegalArgumentException(name + " must be in (0, " + MAX_INTERVAL + "], was " + d);
    }
    return d;
  }

  private static long requireIn(long value, long min, long max, String name) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be in [" + min + ", " + max + "], was " + value);
    }
    return value;
  }
}
