package dev.zverse.cluster;

import java.time.Duration;

/**
 * A write sent to a cluster store's writer got no answer within {@code
 * zverse.cluster.write-timeout}. Its outcome is unknown: the write may have been lost on the way
 * (the singleton proxy drops its oldest buffered messages when full, a node may leave with writes
 * in flight) or committed with its answer lost. Read the store, or retry a write whose conditions
 * make a repeat harmless.
 */
public final class ClusterWriteTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String storeName;
  private final Duration timeout;

  ClusterWriteTimeoutException(String storeName, Duration timeout) {
    super(
        "store ["
            + storeName
            + "]: no answer from the writer within "
            + timeout
            + " (zverse.cluster.write-timeout); the write's outcome is unknown, it may or may not"
            + " have been committed",
        null,
        false,
        false);
    this.storeName = storeName;
    this.timeout = timeout;
  }

  /** The name of the store written to. */
  public String storeName() {
    return storeName;
  }

  /** How long the write waited for an answer. */
  public Duration timeout() {
    return timeout;
  }
}
