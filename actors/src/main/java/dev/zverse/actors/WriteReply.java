package dev.zverse.actors;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The answer to {@link ZVerseStore#write(dev.zverse.engine.WriteBatch,
 * org.apache.pekko.actor.typed.ActorRef)}: the committed version, or the reason the batch was not
 * committed.
 *
 * <p>A plain, non-generic type, so an actor adapts it with {@code
 * context.messageAdapter(WriteReply.class, Written::new)} and no cast: Pekko's {@code
 * StatusReply<Long>} has no class literal of its own ({@code StatusReply.class} is raw), which
 * forced every caller into an unchecked cast. Immutable.
 *
 * @param version the committed version, at least 0; 0 when the batch was not committed
 * @param failure why the batch was not committed ({@link
 *     dev.zverse.engine.ConditionFailedException}, {@link IllegalArgumentException}, {@link
 *     StoreOverloadedException}, {@link StoreFailedException}, or the writer's failure); null when
 *     it was committed
 */
public record WriteReply(long version, @Nullable Throwable failure) {
  /**
   * Checks that the reply is either a commit or a failure.
   *
   * @throws IllegalArgumentException if {@code version} is negative, or not 0 with a failure
   */
  public WriteReply {
    if (version < 0) {
      throw new IllegalArgumentException("version must be at least 0, was " + version);
    }
    if (failure != null && version != 0) {
      throw new IllegalArgumentException(
          "version must be 0 in a failed reply, was " + version + " with " + failure);
    }
  }

  /**
   * A reply for a committed batch.
   *
   * @param version the committed version, at least 0
   * @return the reply
   * @throws IllegalArgumentException if {@code version} is negative
   */
  public static WriteReply committed(long version) {
    return new WriteReply(version, null);
  }

  /**
   * A reply for a batch that was not committed.
   *
   * @param failure why
   * @return the reply
   * @throws NullPointerException if {@code failure} is null
   */
  public static WriteReply failed(Throwable failure) {
    return new WriteReply(0, Objects.requireNonNull(failure, "failure"));
  }

  /**
   * Whether the batch was committed.
   *
   * @return true if committed (then {@link #version()} is its version), false if {@link #failure()}
   *     says why not
   */
  public boolean isCommitted() {
    return failure == null;
  }
}
