package dev.zverse.cluster;

/**
 * A write to a cluster store failed because fewer than {@code replication.min-acks} replicas
 * besides the writer's node were following the writer within {@code replication.ack-timeout}:
 * nothing was written, so the write may be retried as it is. The store never answers a write that
 * fewer replicas hold (it does not fall back to unreplicated acknowledgement). When the cluster has
 * too few nodes to ever meet {@code min-acks} (a one-node cluster needs {@code min-acks = 0}), the
 * message says so.
 */
public final class NotEnoughReplicasException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String storeName;
  private final int minAcks;
  private final int replicas;

  NotEnoughReplicasException(String storeName, int minAcks, int replicas, int storeNodes) {
    super(message(storeName, minAcks, replicas, storeNodes), null, false, false);
    this.storeName = storeName;
    this.minAcks = minAcks;
    this.replicas = replicas;
  }

  private static String message(String storeName, int minAcks, int replicas, int storeNodes) {
    String m =
        "store ["
            + storeName
            + "]: replication.min-acks is "
            + minAcks
            + " but "
            + replicas
            + " replicas besides the writer's node followed it within replication.ack-timeout;"
            + " nothing was written";
    if (storeNodes - 1 < minAcks) {
      m +=
          "; the cluster has "
              + storeNodes
              + " node(s) of the store, too few to ever meet it: a single-node cluster needs"
              + " zverse.cluster.replication.min-acks = 0";
    }
    return m;
  }

  /**
   * The name of the store written to.
   *
   * @return the cluster store's name
   */
  public String storeName() {
    return storeName;
  }

  /**
   * The replicas a write needs besides the writer's node ({@code replication.min-acks}).
   *
   * @return k, at least 1
   */
  public int minAcks() {
    return minAcks;
  }

  /**
   * How many replicas besides the writer's node were following the writer when the write failed.
   *
   * @return the count, less than {@link #minAcks()}
   */
  public int replicas() {
    return replicas;
  }
}
