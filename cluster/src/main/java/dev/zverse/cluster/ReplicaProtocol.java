package dev.zverse.cluster;

import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What a node's replica accepts: the writer's answers to its {@link WriterProtocol.Follow}, the
 * commits themselves ({@link WriterProtocol.Commits}, possibly in {@link WriterProtocol.Chunk}s),
 * and its own local messages. Those that cross the wire are {@link WireMessage}s.
 */
final class ReplicaProtocol {
  private ReplicaProtocol() {}

  /** What the replica actor accepts. */
  interface Command {}

  /**
   * The key every replica of the store {@code name} registers with the receptionist: its listing
   * tells a starting writer which nodes opened the store ({@link Quorum}).
   *
   * @param name the store's name
   * @return the key
   */
  static ServiceKey<Command> replicaKey(String name) {
    return ServiceKey.create(Command.class, "zverse-replica-" + name);
  }

  /**
   * The nodes that followed the writer of {@code term} so far, less the removed ones that stopped
   * counting ({@link FollowerSet}): it sends them to every follower when the set changes, and a
   * replica reports the newest set it heard (highest term, then sequence number) in its promise, so
   * a new writer counts a node that left since among the store's nodes. The replica answers with
   * {@link WriterProtocol.FollowersKnown}: a new node's acknowledgements count only once every
   * other follower knows the set that names it ({@link FollowerSet#joinedAt}).
   *
   * @param term the writer's term
   * @param seq the set's sequence number within the term: a later set has a higher one
   * @param nodes the followers' nodes
   * @param writer the writer, to answer
   */
  record Followers(long term, long seq, Set<Address> nodes, ActorRef<WriterProtocol.Command> writer)
      implements Command, WireMessage {
    Followers {
      nodes = Set.copyOf(nodes);
      Objects.requireNonNull(writer, "writer");
    }
  }

  /**
   * The writer follows the replica from now on: commits will come from the version asked for.
   *
   * @param writer the writer itself (not the singleton proxy), which the replica watches and sends
   *     its acknowledgements to
   * @param term the writer's term: the replica follows it unless it promised a higher one
   * @param latest the writer's acknowledged version when it answered
   * @param terms the creation terms of the writer's history, fixed for its term: the replica keeps
   *     what it received up to where they differ from its own ({@link ReceivedCommits#follow})
   */
  record Subscribed(
      long term, ActorRef<WriterProtocol.Command> writer, long latest, TermBoundaries terms)
      implements Command, WireMessage {
    Subscribed {
      Objects.requireNonNull(writer, "writer");
      Objects.requireNonNull(terms, "terms");
    }
  }

  /**
   * The writer's latest committed version: the answer to {@link WriterProtocol.GetLatest}, and what
   * the writer tells a replica whose window is full, so its lag is known.
   *
   * @param version the version, or -1 ({@link #UNAVAILABLE}) when a starting writer holds too many
   *     requests to take this one: the reader fails as overloaded and may retry
   */
  record Latest(long version) implements Command, WireMessage {
    /** The answer of a starting writer that holds too many requests. */
    static final Latest UNAVAILABLE = new Latest(-1);
  }

  /**
   * The writer no longer retains the replica's next version: the replica must catch up by state
   * transfer. Fenced like {@link WriterProtocol.Commits}: a replica that promised a higher term
   * refuses it, and drops a transfer it started on it if it promised a higher term meanwhile.
   *
   * @param term the writer's term: the transferred state is part of its history
   * @param writer the writer, told {@link WriterProtocol.Fenced} if its term is stale
   * @param next the version the replica asked for
   * @param watermark the writer's watermark: it retains the commits after it
   * @param latest the writer's latest committed version
   * @param source the writer node's state transfer server, to ask for the writer's state
   * @param terms the creation terms of the writer's history, which a transferred state is part of:
   *     what a durable replica logs as its history before it is reset to that state
   */
  record NeedsTransfer(
      long term,
      ActorRef<WriterProtocol.Command> writer,
      long next,
      long watermark,
      long latest,
      ActorRef<StateTransfer.Request> source,
      TermBoundaries terms)
      implements Command, WireMessage {
    NeedsTransfer {
      Objects.requireNonNull(writer, "writer");
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(terms, "terms");
    }
  }

  /**
   * The writer refuses to be followed by this replica, for the reason in {@code message} (limits
   * that differ from the writer's, a replica ahead of the writer).
   *
   * @param message names both sides' values
   */
  record Refused(String message) implements Command, WireMessage {
    Refused {
      Objects.requireNonNull(message, "message");
    }
  }

  /**
   * The writer of {@code term} moved its acknowledged version (commit index) to {@code committed}:
   * a replica may show its readers the versions up to it that it received.
   *
   * @param term the writer's term
   * @param committed the acknowledged version
   */
  record CommitIndex(long term, long committed) implements Command, WireMessage {}

  /**
   * A new writer asks the replica to promise {@code term}: a replica promises only a term higher
   * than any it promised (or the same to the same writer again), and from then on refuses commits
   * of lower terms. It answers {@link WriterProtocol.Promised}.
   *
   * @param term the term, at least 1
   * @param writer the writer asking
   */
  record Promise(long term, ActorRef<WriterProtocol.Command> writer)
      implements Command, WireMessage {
    Promise {
      Objects.requireNonNull(writer, "writer");
    }
  }

  /**
   * A new writer of {@code term} asks for the commits from {@code from} to {@code to} that the
   * replica holds, received or applied; answered with {@link WriterProtocol.Fetched} (chunked if
   * large) or {@link WriterProtocol.FetchRefused}.
   *
   * @param term the writer's term
   * @param from the first version, at least 1
   * @param to the last version, at least {@code from}
   * @param writer the writer asking
   */
  record Fetch(long term, long from, long to, ActorRef<WriterProtocol.Command> writer)
      implements Command, WireMessage {
    Fetch {
      Objects.requireNonNull(writer, "writer");
    }
  }
}
