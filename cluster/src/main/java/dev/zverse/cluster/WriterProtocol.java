package dev.zverse.cluster;

import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.WriteBatch;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The messages of the cluster writer: write requests and their replies, commits and the parts of a
 * chunked message. Each crosses the wire through {@link WireSerializer}.
 */
final class WriterProtocol {
  private WriterProtocol() {}

  /** What the writer singleton accepts. */
  interface Command {}

  /**
   * Commit {@code batch} on the writer's store and tell {@code replyTo} the outcome.
   *
   * @param batch the batch, checked against the writer's limits there
   * @param replyTo receives exactly one {@link Reply}
   */
  record Write(WriteBatch batch, ActorRef<Reply> replyTo) implements Command, WireMessage {
    Write {
      Objects.requireNonNull(batch, "batch");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Stops the singleton when it hands over or the system terminates; never sent by a node. */
  enum Stop implements Command {
    INSTANCE
  }

  /** The outcome of a {@link Write}. */
  sealed interface Reply extends WireMessage
      permits Written, ConditionsFailed, Overloaded, Invalid, Failed {}

  /** The batch was committed as {@code version}. */
  record Written(long version) implements Reply {}

  /** The batch's conditions did not hold; nothing was written. */
  record ConditionsFailed(List<ConditionFailedException.Failure> failures) implements Reply {
    ConditionsFailed {
      failures = List.copyOf(failures);
    }
  }

  /** The writer's store was at its bound of pending writes; nothing was written. */
  record Overloaded(String storeName, int maxPendingWrites) implements Reply {}

  /** The batch broke a limit of the writer's store (an {@link IllegalArgumentException}). */
  record Invalid(String message) implements Reply {}

  /** The writer could not commit the batch for another reason, said in {@code message}. */
  record Failed(String message) implements Reply {}

  /**
   * Consecutive commits of the writer with its retention watermark, in the log's own record format
   * ({@link CommitRecordCodec}).
   *
   * @param group the commits
   */
  record Commits(CommitRecordCodec.Group group) implements WireMessage {
    Commits {
      Objects.requireNonNull(group, "group");
    }
  }

  /**
   * One part of a message too large for one frame: the serialized message split into {@code count}
   * parts sent in order, {@code index} counting from 0. {@link Chunking} splits and reassembles.
   *
   * @param id the same for every part of one message, different between messages of one sender
   * @param index this part's position, in [0, count)
   * @param count the number of parts, at least 1
   * @param manifest the whole message's manifest in {@link WireSerializer}
   * @param bytes this part of the whole message's bytes
   */
  @SuppressWarnings("ArrayRecordComponent") // equals and hashCode below compare the contents
  record Chunk(long id, int index, int count, String manifest, byte[] bytes)
      implements WireMessage {
    Chunk {
      if (count < 1 || index < 0 || index >= count) {
        throw new IllegalArgumentException(
            "chunk index must be in [0, count) and count at least 1, were "
                + index
                + " and "
                + count);
      }
      Objects.requireNonNull(manifest, "manifest");
      Objects.requireNonNull(bytes, "bytes");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Chunk c
          && c.id == id
          && c.index == index
          && c.count == count
          && c.manifest.equals(manifest)
          && Arrays.equals(c.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(id) * 31 + index;
    }

    @Override
    public String toString() {
      return "Chunk["
          + id
          + ", "
          + index
          + "/"
          + count
          + ", "
          + manifest
          + ", "
          + bytes.length
          + " bytes]";
    }
  }
}
