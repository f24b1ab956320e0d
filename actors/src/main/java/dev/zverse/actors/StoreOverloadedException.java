package dev.zverse.actors;

/**
 * A write was refused at once because the store already had as many writes waiting as its bound
 * ({@code zverse.store.writer.max-pending-writes}) allows. The write was not sent and changed
 * nothing; retry later, slow down, or raise the bound.
 *
 * <p>Carries no stack trace: it is an expected answer under overload, and cheap to make.
 */
public final class StoreOverloadedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The store that refused the write. */
  private final String storeName;

  /** The bound that was reached. */
  private final int maxPendingWrites;

  /**
   * A refusal by the store {@code storeName} at the bound {@code maxPendingWrites}; public so that
   * a write refused on a remote writer fails with the same type on the node that sent it.
   *
   * @param storeName the store that refused the write
   * @param maxPendingWrites the bound that was reached, at least 1
   */
  public StoreOverloadedException(String storeName, int maxPendingWrites) {
    super(
        "store ["
            + storeName
            + "] is overloaded: "
            + maxPendingWrites
            + " writes are already waiting, the bound writer.max-pending-writes = "
            + maxPendingWrites
            + "; the write was not sent",
        null,
        false,
        false);
    this.storeName = storeName;
    this.maxPendingWrites = maxPendingWrites;
  }

  /** The name of the store that refused the write. */
  public String storeName() {
    return storeName;
  }

  /** The bound on waiting writes that was reached. */
  public int maxPendingWrites() {
    return maxPendingWrites;
  }
}
