package dev.zverse.cluster;

import java.time.Duration;

/**
 * A read of a cluster store that waits for a version ({@link ClusterStore#awaitVersion}, {@link
 * ClusterStore#linearizableSnapshot}) did not get it within its timeout: this node's replica had
 * not reached the version, or the writer did not say its latest version in time. Nothing is wrong
 * with the data; the replica is behind (see {@link ClusterStore#status()}) or cannot reach the
 * writer. Retry, or read locally at the version the replica has.
 */
public final class ClusterReadTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String storeName;
  private final long version;
  private final long replicaVersion;
  private final Duration timeout;

  ClusterReadTimeoutException(
      String storeName, long version, long replicaVersion, Duration timeout, String what) {
    super(
        "store ["
            + storeName
            + "]: "
            + what
            + " within "
            + timeout
            + "; this node's replica is at version "
            + replicaVersion,
        null,
        false,
        false);
    this.storeName = storeName;
    this.version = version;
    this.replicaVersion = replicaVersion;
    this.timeout = timeout;
  }

  /** The name of the store read. */
  public String storeName() {
    return storeName;
  }

  /** The version waited for, or -1 if the writer's latest version was not known in time. */
  public long version() {
    return version;
  }

  /** The version this node's replica had when the wait ended. */
  public long replicaVersion() {
    return replicaVersion;
  }

  /** How long the read waited. */
  public Duration timeout() {
    return timeout;
  }
}
