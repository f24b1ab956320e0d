package dev.zverse.cluster;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Snapshot;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a replica received from the writer and has not yet seen applied: consecutive commits after
 * the replica store's version, in order. Split from "visible": the replica hands to its store (so
 * readers see) only the commits up to the writer's acknowledged version (its commit index), and
 * holds the rest, so that no reader sees a write that a failover could lose. A new writer may
 * {@link #fetch} them.
 *
 * <p>It also keeps the {@link TermBoundaries} of the history it holds: the term each version was
 * created in, learnt from the writer followed. A replica that follows a new writer keeps what it
 * received up to the first version where the new writer's history differs ({@link #follow}, Raft's
 * log matching: a different creation term for the same version), and drops only from there: a
 * version it held and had not shown may be an acknowledged one, and dropping it would leave one
 * holder fewer than min-acks counted on.
 *
 * <p>Actor-confined (the replica actor's).
 */
final class ReceivedCommits {
  /** The most versions handed to the replica store in one group. */
  static final int MAX_GROUP_VERSIONS = 256;

  /** Received commits after {@link #applied}, consecutive. */
  private final ArrayDeque<CommitRecord> commits = new ArrayDeque<>();

  /** The replica store's version as last confirmed: commits up to it are dropped. */
  private long applied;

  /** The last version handed to the replica store (applied or on its way). */
  private long handed;

  /** The creation terms of the history held: the last writer's followed, or none. */
  private TermBoundaries history = TermBoundaries.NONE;

  ReceivedCommits(long applied) {
    reset(applied);
  }

  /** Forgets what it holds: the replica store is at {@code version}, as it starts. */
  void reset(long version) {
    commits.clear();
    applied = version;
    handed = version;
  }

  /**
   * Takes back what a durable replica's log held across a restart ({@link ReplicaLog}): the
   * creation terms of its history and the commits it received after the applied version, held and
   * not handed (the writer has to declare them acknowledged again).
   *
   * @param terms the history's creation terms
   * @param held consecutive commits from the applied version + 1
   */
  void restore(TermBoundaries terms, List<CommitRecord> held) {
    assert held.isEmpty() || held.get(0).version() == applied + 1
        : held.get(0).version() + " after " + applied;
    history = terms;
    commits.clear();
    commits.addAll(held);
  }

  /** The commits held after the applied version, in order: what a replica log must keep. */
  List<CommitRecord> held() {
    return List.copyOf(commits);
  }

  /** The last version received, or the applied version if none is held. */
  long received() {
    return applied + commits.size();
  }

  /** The last version handed to the replica store. */
  long handed() {
    return handed;
  }

  /** The creation terms of the history held. */
  TermBoundaries history() {
    return history;
  }

  /** The term the last version received was created in: what a promise reports. */
  long receivedCreationTerm() {
    return history.termOf(received());
  }

  /** Appends {@code next}, whose first version must be {@link #received()} + 1. */
  void add(List<CommitRecord> next) {
    assert next.isEmpty() || next.get(0).version() == received() + 1
        : next.get(0).version() + " after " + received();
    commits.addAll(next);
  }

  /** The replica store applied up to {@code version}: commits up to it need not be held. */
  void applied(long version) {
    while (!commits.isEmpty() && commits.peekFirst().version() <= version) {
      commits.removeFirst();
    }
    applied = Math.max(applied, version);
    handed = Math.max(handed, version);
  }

  /**
   * The next group to hand to the replica store: the commits after {@link #handed()} up to {@code
   * committed}, at most {@link #MAX_GROUP_VERSIONS}; null if there are none. Marks them handed.
   */
  CommitRecordCodec.@Nullable Group nextGroup(long committed, long watermark) {
    long to = Math.min(Math.min(committed, received()), handed + MAX_GROUP_VERSIONS);
    if (to <= handed) {
      return null;
    }
    List<CommitRecord> group = new ArrayList<>((int) (to - handed));
    for (CommitRecord c : commits) {
      if (c.version() > to) {
        break;
      }
      if (c.version() > handed) {
        group.add(c);
      }
    }
    handed = to;
    return new CommitRecordCodec.Group(watermark, group);
  }

  /**
   * Follows a writer whose history has the creation terms {@code writer}: keeps what was received
   * up to the first version not handed whose creation term differs there, drops from that version
   * on, and takes {@code writer} as the history's terms. The next version expected is then {@link
   * #received()} + 1. Versions already handed are not compared: they were acknowledged, so every
   * writer elected since holds them.
   *
   * @param writer the creation terms of the followed writer's history
   * @return the first version dropped, or {@link #received()} + 1 if none was
   */
  long follow(TermBoundaries writer) {
    long conflict = history.firstConflict(writer, handed + 1, received());
    while (!commits.isEmpty() && commits.peekLast().version() >= conflict) {
      commits.removeLast();
    }
    history = writer;
    return conflict;
  }

  /**
   * An apply failed: what was handed after the applied version is handed again, and nothing
   * received is forgotten (a version held may be one of the min-acks copies of an acknowledged
   * write).
   */
  void rewindHanded() {
    handed = applied;
  }

  /**
   * The commits from {@code from} to {@code to} that {@code store} (the replica's latest snapshot)
   * and the received ones hold, or null if {@code from} is no longer retained there.
   */
  @Nullable List<CommitRecord> fetch(Snapshot store, long from, long to) {
    if (from <= store.watermark() && from <= store.version()) {
      return null;
    }
    List<CommitRecord> out = new ArrayList<>();
    long v = from;
    for (; v <= Math.min(to, store.version()); v++) {
      out.add(store.commit(v));
    }
    Iterator<CommitRecord> it = commits.iterator();
    while (it.hasNext() && v <= to) {
      CommitRecord c = it.next();
      if (c.version() == v) {
        out.add(c);
        v++;
      }
    }
    return out;
  }
}
