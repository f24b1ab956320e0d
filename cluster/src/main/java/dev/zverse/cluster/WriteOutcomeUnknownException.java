package dev.zverse.cluster;

/**
 * A write to a cluster store whose outcome is not known: it may have been committed, and may show
 * up in reads later, or not. It is never used for a write known not to have been committed (a
 * {@link dev.zverse.engine.ConditionFailedException}, {@link NotEnoughReplicasException}, an
 * overloaded or refused write keep their own, definite, exceptions).
 *
 * <p>It happens when the writer is lost while the write waits (its node left, crashed or was
 * downed), when the writer committed the write but fewer than {@code replication.min-acks} replicas
 * acknowledged it within {@code replication.ack-timeout}, and when no answer came within {@code
 * write-timeout} ({@link ClusterWriteTimeoutException}), as FoundationDB's {@code
 * commit_unknown_result}. The safe retry is a conditional batch: a condition that holds only if the
 * first attempt did not commit (a key that must be absent, or a modification version) makes the
 * retry commit at most once.
 */
public class WriteOutcomeUnknownException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String storeName;

  WriteOutcomeUnknownException(String storeName, String message) {
    super("store [" + storeName + "]: " + message, null, false, false);
    this.storeName = storeName;
  }

  /**
   * The name of the store written to.
   *
   * @return the cluster store's name
   */
  public String storeName() {
    return storeName;
  }
}
