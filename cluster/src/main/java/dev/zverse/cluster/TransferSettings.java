package dev.zverse.cluster;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Objects;
import org.apache.pekko.actor.ClassicActorSystemProvider;

/**
 * The settings of state transfer, {@code zverse.cluster.transfer} in the module's {@code
 * reference.conf}:
 *
 * <pre>{@code
 * zverse.cluster.transfer {
 *   chunk-bytes = 131072         # snapshot bytes per chunk, in [1024, 16777216]
 *   offer-timeout = 10s          # how long a receiver waits for the source's offer, (0, 1h]
 *   stall-timeout = 30s          # a transfer with no chunk for this long fails, (0, 1h]
 *   follow-timeout = 30s         # the source keeps the version pinned after the stream until
 *                                # the receiver follows from the next version, or this long
 *   retry-backoff-max = 60s      # the longest wait before a replica asks again after failed
 *                                # transfers in a row, (0, 1h]
 *   dispatcher = "pekko.actor.default-blocking-io-dispatcher"  # where a receiver builds
 * }
 * }</pre>
 *
 * <p>Immutable.
 */
final class TransferSettings {
  /** The longest timeout. */
  static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  private final int chunkBytes;
  private final Duration offerTimeout;
  private final Duration stallTimeout;
  private final Duration followTimeout;
  private final Duration retryBackoffMax;
  private final String dispatcher;

  TransferSettings(
      int chunkBytes,
      Duration offerTimeout,
      Duration stallTimeout,
      Duration followTimeout,
      Duration retryBackoffMax,
      String dispatcher) {
    if (chunkBytes < ClusterSettings.MIN_CHUNK_BYTES
        || chunkBytes > ClusterSettings.MAX_CHUNK_BYTES) {
      throw new IllegalArgumentException(
          "transfer.chunk-bytes must be in ["
              + ClusterSettings.MIN_CHUNK_BYTES
              + ", "
              + ClusterSettings.MAX_CHUNK_BYTES
              + "], was "
              + chunkBytes);
    }
    this.chunkBytes = chunkBytes;
    this.offerTimeout = requireTimeout(offerTimeout, "transfer.offer-timeout");
    this.stallTimeout = requireTimeout(stallTimeout, "transfer.stall-timeout");
    this.followTimeout = requireTimeout(followTimeout, "transfer.follow-timeout");
    this.retryBackoffMax = requireTimeout(retryBackoffMax, "transfer.retry-backoff-max");
    this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
  }

  /** The settings in {@code zverse.cluster.transfer} of an actor system's configuration. */
  static TransferSettings create(ClassicActorSystemProvider system) {
    return create(system.classicSystem().settings().config().getConfig("zverse.cluster.transfer"));
  }

  /** Settings read from a section laid out like {@code zverse.cluster.transfer}. */
  static TransferSettings create(Config config) {
    long chunk = config.getLong("chunk-bytes");
    return new TransferSettings(
        (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, chunk)),
        config.getDuration("offer-timeout"),
        config.getDuration("stall-timeout"),
        config.getDuration("follow-timeout"),
        config.getDuration("retry-backoff-max"),
        config.getString("dispatcher"));
  }

  /** Snapshot bytes per chunk. */
  int chunkBytes() {
    return chunkBytes;
  }

  /** How long a receiver waits for the source's offer. */
  Duration offerTimeout() {
    return offerTimeout;
  }

  /** How long a transfer may pass without a chunk before it fails. */
  Duration stallTimeout() {
    return stallTimeout;
  }

  /**
   * How long the source keeps the transferred version pinned after the stream completed, waiting
   * for the receiver to follow from the next version (which the pin keeps retained). A durable
   * receiver's reset (a checkpoint of the whole state, written and forced) must fit in it, or the
   * receiver may have to transfer again; it is bounded so that a receiver that never follows does
   * not hold the source's retention for ever.
   */
  Duration followTimeout() {
    return followTimeout;
  }

  /** The longest wait of a replica before it asks again after failed transfers in a row. */
  Duration retryBackoffMax() {
    return retryBackoffMax;
  }

  /**
   * How long a replica waits before it asks the writer again after {@code failures} state transfers
   * in a row failed (the transfer, or the reset to the state, such as a checkpoint that does not
   * fit on a full disk): {@code followRetry} after the first, twice as long after each next one, at
   * most {@link #retryBackoffMax()} (and never less than {@code followRetry}). A failure that lasts
   * then costs a whole transfer ever more rarely, not every {@code follow-retry} for ever.
   *
   * @param followRetry the replica's {@code follow-retry}, positive
   * @param failures the failed transfers in a row, at least 1
   * @return the wait, in [followRetry, max(followRetry, retry-backoff-max)]
   */
  Duration retryDelay(Duration followRetry, int failures) {
    Duration cap = retryBackoffMax.compareTo(followRetry) > 0 ? retryBackoffMax : followRetry;
    Duration delay = followRetry;
    // Doubles at most about 42 times: from 1 ns to the cap of 1 h.
    for (int i = 1; i < failures && delay.compareTo(cap) < 0; i++) {
      delay = delay.multipliedBy(2);
    }
    return delay.compareTo(cap) > 0 ? cap : delay;
  }

  /** The dispatcher a receiver builds the snapshot on. */
  String dispatcher() {
    return dispatcher;
  }

  /** A copy with another stall timeout. */
  TransferSettings withStallTimeout(Duration stallTimeout) {
    return new TransferSettings(
        chunkBytes, offerTimeout, stallTimeout, followTimeout, retryBackoffMax, dispatcher);
  }

  /** A copy with another follow timeout. */
  TransferSettings withFollowTimeout(Duration followTimeout) {
    return new TransferSettings(
        chunkBytes, offerTimeout, stallTimeout, followTimeout, retryBackoffMax, dispatcher);
  }

  /** A copy with another longest back-off. */
  TransferSettings withRetryBackoffMax(Duration retryBackoffMax) {
    return new TransferSettings(
        chunkBytes, offerTimeout, stallTimeout, followTimeout, retryBackoffMax, dispatcher);
  }

  /** A copy with another chunk size. */
  TransferSettings withChunkBytes(int chunkBytes) {
    return new TransferSettings(
        chunkBytes, offerTimeout, stallTimeout, followTimeout, retryBackoffMax, dispatcher);
  }

  private static Duration requireTimeout(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero() || d.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(name + " must be in (0, " + MAX_TIMEOUT + "], was " + d);
    }
    return d;
  }

  @Override
  public String toString() {
    return "TransferSettings[chunkBytes="
        + chunkBytes
        + ", offerTimeout="
        + offerTimeout
        + ", stallTimeout="
        + stallTimeout
        + ", followTimeout="
        + followTimeout
        + ", retryBackoffMax="
        + retryBackoffMax
        + ", dispatcher="
        + dispatcher
        + "]";
  }
}
