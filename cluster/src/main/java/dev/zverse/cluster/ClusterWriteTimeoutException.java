package dev.zverse.cluster;

import java.time.Duration;

/**
 * A write sent to a cluster store's writer got no answer within {@code
 * zverse.cluster.write-timeout}. Its outcome is unknown: the write may have been lost on the way
 * (the singleton proxy drops its oldest buffered messages when full, a node may leave with writes
 * in flight) or committed with its answer lost. Read the store, or retry a write whose conditions
 * make a repeat harmless. A {@link WriteOutcomeUnknownException}, like the other unknown outcomes.
 */
public final class ClusterWriteTimeoutException extends WriteOutcomeUnknownException {
  private static final long serialVersionUID = 1L;

  private final Duration timeout;

  ClusterWriteTimeoutException(String storeName, Duration timeout) {
    super(
        storeName,
        "no answer from the writer within "
            + timeout
            + " (zverse.cluster.write-timeout); the write's outcome is unknown, it may or may not"
            + " have been committed");
    this.timeout = timeout;
  }

  /** How long the write waited for an answer. */
  public Duration timeout() {
    return timeout;
  }
}
