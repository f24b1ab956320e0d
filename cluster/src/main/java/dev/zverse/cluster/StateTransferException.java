package dev.zverse.cluster;

import org.jspecify.annotations.Nullable;

/**
 * A state transfer, which brings a replica the store's state at one version in chunks, did not
 * complete: the source refused or gave no offer in time, the stream stalled past {@code
 * zverse.cluster.transfer.stall-timeout}, the source node stopped, or a chunk was refused as
 * damaged (then the cause is the engine's {@code CorruptSnapshotException}, which names the byte
 * offset). Nothing of the transfer is kept on either side: the receiver drops what it built and the
 * source releases the version it pinned. Asking again starts a new transfer.
 */
public final class StateTransferException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String storeName;
  private final long bytesReceived;

  StateTransferException(
      String storeName, long bytesReceived, String message, @Nullable Throwable cause) {
    super("store [" + storeName + "]: state transfer failed: " + message, cause);
    this.storeName = storeName;
    this.bytesReceived = bytesReceived;
  }

  /**
   * The store whose state was transferred.
   *
   * @return the store's name
   */
  public String storeName() {
    return storeName;
  }

  /**
   * How many bytes of the snapshot the receiver had taken when the transfer failed: the offset of
   * the damage when a chunk was refused.
   *
   * @return bytes, at least 0
   */
  public long bytesReceived() {
    return bytesReceived;
  }
}
