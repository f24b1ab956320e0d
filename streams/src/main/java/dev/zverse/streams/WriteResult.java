package dev.zverse.streams;

import dev.zverse.engine.WriteBatch;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of one batch in a {@link WriteFlow#results} flow: the version it committed at, or why
 * it was not committed.
 *
 * @param batch the batch, as it came into the flow
 * @param version the committed version, or -1 if not committed
 * @param failure why the batch was not committed ({@link
 *     dev.zverse.engine.ConditionFailedException}, {@link IllegalArgumentException} for a key or
 *     value over its limit, {@link dev.zverse.actors.StoreOverloadedException}, {@link
 *     IllegalStateException} for a closed store, or the writer's failure), or {@code null} if
 *     committed
 */
public record WriteResult(WriteBatch batch, long version, @Nullable Throwable failure) {
  /**
   * Checks that exactly one of a version and a failure is given.
   *
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalArgumentException if both or neither of a version (at least 1) and a failure are
   *     given
   */
  public WriteResult {
    Objects.requireNonNull(batch, "batch");
    if ((failure == null) == (version < 1)) {
      throw new IllegalArgumentException(
          "a write result has either a version >= 1 or a failure, was version "
              + version
              + " and failure "
              + failure);
    }
  }

  /** The result of a committed batch. */
  public static WriteResult committed(WriteBatch batch, long version) {
    return new WriteResult(batch, version, null);
  }

  /** The result of a batch that was not committed. */
  public static WriteResult failed(WriteBatch batch, Throwable failure) {
    return new WriteResult(batch, -1, Objects.requireNonNull(failure, "failure"));
  }

  /** Whether the batch was committed. */
  public boolean isCommitted() {
    return failure == null;
  }
}
