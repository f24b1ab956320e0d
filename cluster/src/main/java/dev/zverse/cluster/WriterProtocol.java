package dev.zverse.cluster;

import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.WriteBatch;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The messages of the cluster writer: write requests and their replies, a replica's requests,
 * commits and the parts of a chunked message. Each that crosses the wire is a {@link WireMessage}.
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

  /**
   * A replica asks to be sent the commits from version {@code from} on (again, after a gap or a
   * silence: the writer starts over from {@code from}). The writer answers {@link
   * ReplicaProtocol.Subscribed}, {@link ReplicaProtocol.NeedsTransfer} if it no longer retains
   * {@code from}, or {@link ReplicaProtocol.Refused} if the replica's limits differ from its own.
   *
   * @param from the replica's next version, at least 1
   * @param maxKeyBytes the replica node's key limit, which must be the writer's
   * @param maxValueBytes the replica node's value limit, which must be the writer's
   * @param replica where the commits go
   */
  record Follow(
      long from, int maxKeyBytes, int maxValueBytes, ActorRef<ReplicaProtocol.Command> replica)
      implements Command, WireMessage {
    Follow {
      Objects.requireNonNull(replica, "replica");
    }
  }

  /**
   * A replica of term {@code term} received every version up to {@code received} and applied every
   * version up to {@code applied}: the writer counts {@code received} towards {@code min-acks} and
   * may send it up to {@code applied + replica-window}.
   *
   * @param term the writer's term the replica follows
   * @param received the replica's last received version
   * @param applied the replica's last applied (visible) version, at most {@code received}
   * @param replica the replica
   */
  record Ack(long term, long received, long applied, ActorRef<ReplicaProtocol.Command> replica)
      implements Command, WireMessage {
    Ack {
      Objects.requireNonNull(replica, "replica");
    }
  }

  /**
   * A replica following the writer of {@code term} knows its follower set up to sequence number
   * {@code seq} ({@link ReplicaProtocol.Followers}).
   *
   * @param term the writer's term
   * @param seq the newest set's sequence number the replica holds for that term
   * @param replica the replica
   */
  record FollowersKnown(long term, long seq, ActorRef<ReplicaProtocol.Command> replica)
      implements Command, WireMessage {
    FollowersKnown {
      Objects.requireNonNull(replica, "replica");
    }
  }

  /**
   * A replica's answer to {@link ReplicaProtocol.Promise}: whether it promised {@code term}, the
   * highest term it has promised, and how far it is, so that a new writer knows where the cluster
   * is.
   *
   * @param term the term asked for
   * @param granted whether the replica promised it
   * @param promisedTerm the highest term the replica has promised, {@code term} if granted
   * @param applied the replica's last applied version: acknowledged commits only
   * @param watermark the watermark of the replica's store: it retains the commits after it, so a
   *     {@link ReplicaProtocol.Fetch} from a version at or below it is refused, and a writer that
   *     needs one takes the replica's state from {@code transfers} instead
   * @param received the replica's last received version, at least {@code applied}
   * @param lastTerm the term the version {@code received} was created in (not the term of the
   *     writer that sent it: a new writer re-sends the tail it took over), 0 if unknown
   * @param terms the creation terms of the replica's history, which a writer that catches up from
   *     this replica takes over
   * @param followersTerm the term of {@code followers}, 0 if none was heard
   * @param followersSeq the sequence number of {@code followers} within {@code followersTerm}
   * @param followers the nodes that followed the writer of {@code followersTerm}, the highest term
   *     and sequence number the replica heard them with ({@link ReplicaProtocol.Followers})
   * @param replica the replica
   * @param transfers the state transfer server of the replica's node, which offers the replica's
   *     last published snapshot (acknowledged versions only)
   */
  record Promised(
      long term,
      boolean granted,
      long promisedTerm,
      long applied,
      long watermark,
      long received,
      long lastTerm,
      TermBoundaries terms,
      long followersTerm,
      long followersSeq,
      Set<Address> followers,
      ActorRef<ReplicaProtocol.Command> replica,
      ActorRef<StateTransfer.Request> transfers)
      implements Command, WireMessage {
    Promised {
      Objects.requireNonNull(terms, "terms");
      followers = Set.copyOf(followers);
      Objects.requireNonNull(replica, "replica");
      Objects.requireNonNull(transfers, "transfers");
    }
  }

  /**
   * A replica refused a commit, commit index or subscription of this writer's term because it
   * promised the higher {@code term} to a newer writer: this writer was replaced and steps down at
   * once, instead of waiting for acknowledgements that cannot come.
   *
   * @param term the higher term the replica promised
   */
  record Fenced(long term) implements Command, WireMessage {}

  /**
   * A replica's answer to {@link ReplicaProtocol.Fetch}: the commits asked for, consecutive, in the
   * log's own record format (its watermark is the replica's).
   *
   * @param term the term of the fetch
   * @param group the commits, at least one
   */
  record Fetched(long term, CommitRecordCodec.Group group) implements Command, WireMessage {
    Fetched {
      Objects.requireNonNull(group, "group");
    }
  }

  /**
   * A replica cannot answer a {@link ReplicaProtocol.Fetch} (its history no longer holds the first
   * version asked for, or it promised a higher term), for the reason in {@code message}.
   *
   * @param term the term of the fetch
   * @param message names the versions
   */
  record FetchRefused(long term, String message) implements Command, WireMessage {
    FetchRefused {
      Objects.requireNonNull(message, "message");
    }
  }

  /**
   * Asks for the writer's latest committed version (a linearizable read's first step).
   *
   * @param replyTo receives one {@link ReplicaProtocol.Latest}
   */
  record GetLatest(ActorRef<ReplicaProtocol.Latest> replyTo) implements Command, WireMessage {
    GetLatest {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The writer's store published {@code version}; from its publish listener, never sent. */
  record Published(long version) implements Command, NoSerializationVerificationNeeded {}

  /** A replica the writer watched stopped or its node left; never sent by a node. */
  record FollowerGone(ActorRef<ReplicaProtocol.Command> replica)
      implements Command, NoSerializationVerificationNeeded {}

  /** The writer's store committed a write as {@code version}; never sent by a node. */
  record Committed(long version, ActorRef<Reply> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  /** A node was removed from the cluster; from the writer's membership adapter, never sent. */
  record MemberRemoved(Address node) implements Command, NoSerializationVerificationNeeded {}

  /** Check the deadlines of the writes waiting for replicas; never sent by a node. */
  enum Tick implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Stops the singleton when it hands over or the system terminates; never sent by a node. */
  enum Stop implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** The outcome of a {@link Write}. */
  sealed interface Reply extends WireMessage
      permits Written,
          ConditionsFailed,
          Overloaded,
          Invalid,
          Failed,
          NotEnoughReplicas,
          OutcomeUnknown {}

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
   * Fewer than {@code min-acks} replicas were there to receive the batch within {@code
   * ack-timeout}; nothing was written.
   *
   * @param storeName the cluster store
   * @param minAcks the replicas needed besides the writer's node
   * @param replicas the replicas besides the writer's node following it
   * @param storeNodes the store's nodes (members with the role), the writer's included
   */
  record NotEnoughReplicas(String storeName, int minAcks, int replicas, int storeNodes)
      implements Reply {}

  /**
   * The batch may or may not have been committed: the writer committed it but too few replicas
   * acknowledged it within {@code ack-timeout}, or the writer stopped before they did.
   *
   * @param message says which
   */
  record OutcomeUnknown(String message) implements Reply {}

  /**
   * Consecutive commits of the writer of {@code term} with its retention watermark, in the log's
   * own record format ({@link CommitRecordCodec}), and the writer's acknowledged version: a replica
   * holds what it receives and shows its readers only versions up to {@code committed}.
   *
   * @param term the writer's term
   * @param committed the writer's acknowledged version (its commit index)
   * @param group the commits
   */
  record Commits(long term, long committed, CommitRecordCodec.Group group)
      implements ReplicaProtocol.Command, WireMessage {
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
      implements Command, ReplicaProtocol.Command, WireMessage {
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
