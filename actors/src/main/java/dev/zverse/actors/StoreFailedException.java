package dev.zverse.actors;

/**
 * A durable store could not write its log (a full disk, a failing device) and takes no more writes.
 *
 * <p>The writes of the group commit whose append failed are answered with this exception, and so is
 * every write after it; none of them was acknowledged and none is visible to readers. Everything
 * acknowledged before is on the disk (per {@code durability.sync}) and stays readable: reads go on
 * from the last published snapshot. To write again, fix the cause (its {@link #getCause()}), close
 * the store and open it again.
 *
 * <p>As with any failed {@code fsync}, the failed group's record may or may not have reached the
 * disk before the error: after a reopen, those unacknowledged writes may be present or not, but
 * never half of one batch.
 */
public final class StoreFailedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** The store that failed. */
  private final String storeName;

  StoreFailedException(String storeName, Throwable cause) {
    super(
        "store ["
            + storeName
            + "] failed: its durable log could not be written ("
            + cause
            + "); the write was not committed and the store takes no more writes, reads go on."
            + " Fix the cause, then close and reopen the store",
        cause);
    this.storeName = storeName;
  }

  /** The name of the store that failed. */
  public String storeName() {
    return storeName;
  }
}
