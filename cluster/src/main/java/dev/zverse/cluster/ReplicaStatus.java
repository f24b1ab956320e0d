package dev.zverse.cluster;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How this node's replica of a cluster store stands, at one moment ({@link ClusterStore#status()}).
 *
 * @param appliedVersion the version the replica has published: what its reads see
 * @param writerVersion the writer's latest version the replica knows of (from the commits and
 *     progress the writer sent it); at least {@code appliedVersion}
 * @param lagVersions {@code writerVersion - appliedVersion}
 * @param lagTime how far behind in time, on the writer's clock: from the commit time of the
 *     replica's version to that of the newest commit it received; zero when it is not behind
 * @param catchingUp whether the replica must catch up by state transfer before it can follow
 * @param failedTransfers the state transfers that failed in a row (the transfer, or the reset to
 *     the state, such as a checkpoint that does not fit on a full disk): each is asked for again
 *     after a wait that doubles with each, up to {@code zverse.cluster.transfer.retry-backoff-max};
 *     0 once one succeeds or the replica follows the writer
 * @param writerReachable whether the replica follows a writer it can reach now; false before the
 *     writer first answered, while the writer's node is unreachable, and after the writer stopped
 * @param failure why the replica cannot follow the writer (settings that differ from the writer's,
 *     a writer behind the replica, a durable replica behind what the writer retains), or empty; a
 *     failed state transfer is retried, not a failure
 */
public record ReplicaStatus(
    long appliedVersion,
    long writerVersion,
    long lagVersions,
    Duration lagTime,
    boolean catchingUp,
    int failedTransfers,
    boolean writerReachable,
    Optional<String> failure) {
  /**
   * Checks the components.
   *
   * @throws NullPointerException if {@code lagTime} or {@code failure} is null
   */
  public ReplicaStatus {
    Objects.requireNonNull(lagTime, "lagTime");
    Objects.requireNonNull(failure, "failure");
  }
}
