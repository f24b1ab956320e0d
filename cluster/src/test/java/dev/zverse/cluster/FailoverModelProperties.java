package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.apache.pekko.actor.Address;

/**
 * The failover protocol as a model over its pure parts ({@link ReceivedCommits}, {@link
 * TermBoundaries}, {@link Quorum}): N store nodes, a writer that writes, sends to replicas at
 * random speeds and acknowledges a version once min-acks (k) replicas on other nodes received it,
 * failovers that lose the writer's node (and maybe others, at most k in all), and restarts of
 * durable replicas that applied all they received, which keep their applied versions but forget
 * their promised term and creation terms (their replica log lost), restarts of durable replicas
 * with their {@link ReplicaLog}, at any moment, which keep what they received and acknowledged,
 * their promised term and creation terms, and graceful removals of replica nodes, which count as
 * lost until the writer's {@link FollowerSet} drops them and the store's nodes shrink, and a
 * replica's retention pruning its store's history. Each new writer takes a term from a quorum of
 * the surviving nodes, chosen at random, starts from its own node's replica and takes the rest from
 * the most up-to-date promise, by state transfer of that replica's store first when it no longer
 * retains the version after the own replica's, as {@link WriterElection} does; every survivor
 * follows it as {@link ReplicaActor} does, by state transfer of the writer's acknowledged state
 * when the writer no longer retains its next version.
 *
 * <p>Checked after every step: every acknowledged version is in the new writer's history with its
 * content (no acknowledged write lost), a version is acknowledged with one content only, and a
 * replica hands its store only acknowledged versions with their acknowledged content.
 */
class FailoverModelProperties {
  /**
   * 0-5 write a versions, 6-11 send node a up to b versions, 12-15 commit index to a, 16 fail, 17
   * restart node a (durable: it keeps what it applied), 18 remove node a from the cluster, 19 a new
   * node joins and follows, 20 the writer's follower set reaches node a, 21 restart node a with its
   * replica log (it keeps what it received, its promise and terms too), 22 commit index to a, whose
   * store then prunes its history to its latest version (a retention of one version).
   */
  private record Op(int kind, int a, int b) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 22),
            Arbitraries.integers().between(0, 99),
            Arbitraries.integers().between(0, 99))
        .as(Op::new)
        .list()
        .ofMaxSize(80);
  }

  /**
   * Writes, sends, commit indexes and prunes (22), then a failover, then {@link #ops()}: a new
   * writer behind its source's retention needs a replica that applied and pruned more than the next
   * writer's node did before the writer is lost, which is rare among {@link #ops()} alone.
   */
  @Provide
  Arbitrary<List<Op>> pruningOps() {
    Arbitrary<Integer> values = Arbitraries.integers().between(0, 99);
    Arbitrary<List<Op>> before =
        Combinators.combine(
                Arbitraries.integers().between(0, 19).map(k -> k >= 16 ? 22 : k), values, values)
            .as(Op::new)
            .list()
            .ofMinSize(5)
            .ofMaxSize(40);
    Arbitrary<Op> failover = Combinators.combine(values, values).as((a, b) -> new Op(16, a, b));
    return Combinators.combine(before, failover, ops())
        .as(
            (b, f, after) -> {
              List<Op> all = new ArrayList<>(b);
              all.add(f);
              all.addAll(after);
              return all;
            });
  }

  /** One node's replica, as the replica actor keeps it. */
  private static final class Node {
    ReceivedCommits received = new ReceivedCommits(0);
    Snapshot store = Snapshot.empty();
    long committed;
    long promised;
    long followTerm;
    boolean lost;

    /** Joined after the start: the receptionist may not list it anywhere yet. */
    boolean joiner;

    /** The writer's follower set as last told to this node: its term, sequence number, nodes. */
    long knownTerm;

    long knownSeq;
    Set<Integer> known = Set.of();
  }

  /** The writer: its node, term, history and the creation terms of that history. */
  private record Writer(int at, long term, Snapshot history, TermBoundaries terms) {}

  private List<Node> nodes = List.of();
  private Writer writer = new Writer(0, 1, Snapshot.empty(), TermBoundaries.NONE);
  private long committed;

  /** The version the writer started from: an earlier writer may have acknowledged up to it. */
  private long seedVersion;

  /** The writer's follower set, as {@link WriterSingleton} keeps it. */
  private FollowerSet followerSet = new FollowerSet();

  /** The store's nodes a quorum is counted of: less the removed nodes the follower set dropped. */
  private final Set<Integer> storeNodes = new HashSet<>();

  /** Nodes lost or removed and still counted among {@link #storeNodes}. */
  private int lost;

  /**
   * The writer's snapshots by version, from the one it started from on: a replica's state transfer
   * takes the newest at or below the acknowledged version, as {@link AcknowledgedSnapshots} offers.
   */
  private final TreeMap<Long, Snapshot> published = new TreeMap<>();

  /** Every acknowledged version with its content. */
  private final TreeMap<Long, CommitRecord> acknowledged = new TreeMap<>();

  @Property(tries = 2000)
  void noAcknowledgedVersionIsLostWithAtMostMinAcksNodesLost(
      @ForAll @IntRange(min = 3, max = 5) int n,
      @ForAll @IntRange(min = 1, max = 4) int k,
      @ForAll("ops") List<Op> ops) {
    run(n, Math.min(k, n - 1), ops);
  }

  @Property(tries = 1000)
  void noAcknowledgedVersionIsLostWhenRetentionSendsANewWriterToStateTransfer(
      @ForAll @IntRange(min = 3, max = 5) int n,
      @ForAll @IntRange(min = 1, max = 4) int k,
      @ForAll("pruningOps") List<Op> ops) {
    run(n, Math.min(k, n - 1), ops);
  }

  /**
   * Three nodes, k = 1. Node 1 acknowledged and applied versions 1-3, then its retention pruned
   * them; node 0, the writer, is lost, and node 2, whose replica applied nothing, becomes the
   * writer: node 1 no longer retains version 1, so node 2 takes node 1's state by state transfer,
   * and its own replica then takes the new writer's (which retains nothing before version 3).
   * Before state transfer the fetch was refused ("the source holds what it promised").
   */
  @Example
  void aNewWriterBehindItsSourcesRetentionTakesItsStateByStateTransfer() {
    run(
        3,
        1,
        List.of(
            new Op(0, 2, 0),
            new Op(6, 1, 5),
            new Op(12, 1, 0),
            new Op(22, 1, 0),
            new Op(16, 1, 0),
            new Op(0, 0, 0),
            new Op(6, 2, 5),
            new Op(6, 1, 5),
            new Op(12, 2, 0),
            new Op(12, 1, 0)));
  }

  /**
   * The case creation terms are for: five nodes, k = 2. A (term 1) has versions 1-9 acknowledged by
   * B and C; E has 1-3. A is lost; D becomes the writer (term 2) from B's history and re-sends 4-6
   * to E. D is lost too: E's last version came from term 2, but was created in term 1, so B's
   * longer history of term 1 is the source, not E's re-sent tail.
   */
  @Example
  void aTailReSentByANewerWriterDoesNotBeatALongerHistory() {
    run(
        5,
        2,
        List.of(
            new Op(0, 2, 0),
            new Op(0, 2, 0),
            new Op(0, 2, 0),
            new Op(6, 1, 5),
            new Op(6, 1, 5),
            new Op(6, 2, 5),
            new Op(6, 2, 5),
            new Op(6, 4, 2),
            new Op(12, 1, 0),
            new Op(16, 2, 1),
            new Op(6, 4, 2),
            new Op(16, 1, 1)));
  }

  /**
   * The case the applied versions of a restarted durable replica are for: five nodes, k = 2. A
   * (term 1) has versions 1-3 acknowledged by B and C, B applied them; D received 1. B restarts (it
   * forgets its creation terms); A and C are lost. D's last version has a higher creation term than
   * B's, which B forgot, but B applied more: the new writer (on E) takes 2-3 from B.
   */
  @Example
  void aRestartedReplicasAppliedVersionsBeatAShorterSourceOfAKnownTerm() {
    run(
        5,
        2,
        List.of(
            new Op(0, 2, 0),
            new Op(6, 1, 5),
            new Op(6, 2, 5),
            new Op(12, 1, 0),
            new Op(6, 3, 0),
            new Op(17, 1, 0),
            new Op(16, 2, 0)));
  }

  /**
   * Three nodes, k = 1: A writes version 1, B received and acknowledged it (not applied: A's commit
   * index reached only A's own replica), B restarts, A is lost. Only B's replica log keeps version
   * 1 for the new writer: a restart that forgets what it received (the behaviour before durable
   * replicas logged) failed this with "acknowledged version 1 lost".
   */
  @Example
  void aReplicaRestartedWithItsLogKeepsAnAcknowledgedVersionItHadNotApplied() {
    run(
        3,
        1,
        List.of(
            new Op(0, 0, 0),
            new Op(6, 1, 0),
            new Op(12, 0, 0),
            new Op(21, 1, 0),
            new Op(16, 0, 0)));
  }

  /**
   * Four nodes, k = 1: A writes version 1, B received it and acknowledged it, B is removed. Once C
   * received version 1 B stops counting: N = 3, and A's loss is a covered failover whose quorum of
   * two (C and D) finds version 1 on C.
   */
  @Example
  void aRemovedNodeStopsCountingOnceACurrentFollowerHoldsWhatWasAcknowledged() {
    run(
        4,
        1,
        List.of(
            new Op(0, 0, 0),
            new Op(6, 1, 0),
            new Op(12, 1, 0),
            new Op(18, 1, 0),
            new Op(6, 2, 0),
            new Op(16, 2, 1)));
    assertEquals(3, storeNodes.size(), "B stopped counting");
    assertEquals(2, writer.term(), "the failover happened");
  }

  /**
   * The case the follower set's admission is for: three nodes, k = 1. D joins and follows A; only D
   * receives version 1. Had D's acknowledgement counted at once, version 1 would be acknowledged by
   * A and D; A is lost; B and C never heard of D, count three nodes and make a quorum of two
   * without it: version 1 lost. D counts once B and C know the set naming it.
   */
  @Example
  void aNewFollowerCountsOnlyOnceTheOthersKnowItsNode() {
    run(
        3,
        1,
        List.of(
            new Op(0, 0, 0),
            new Op(19, 0, 0),
            new Op(6, 3, 0),
            new Op(12, 3, 0),
            new Op(16, 1, 0)));
    assertEquals(2, writer.term(), "the failover happened");
    assertEquals(0, acknowledged.size(), "version 1 waited for the others to know D");
    run(
        3,
        1,
        List.of(
            new Op(0, 0, 0),
            new Op(19, 0, 0),
            new Op(20, 0, 0),
            new Op(20, 1, 0),
            new Op(20, 2, 0),
            new Op(6, 3, 0),
            new Op(12, 3, 0),
            new Op(16, 1, 0)));
    assertEquals(1, acknowledged.size(), "D counted once A, B and C knew it");
    assertEquals(2, writer.term(), "the failover happened");
  }

  /**
   * Three nodes, k = 2: A's version 1 is acknowledged with B and C; A is lost and C becomes the
   * writer (its own replica had not applied version 1, so its acknowledged version starts below
   * it); D and E join; B leaves. B may stop counting only once D and E hold version 1: dropped at
   * once (by C's acknowledged version, 0), a later loss of C would leave D, E and a new F a quorum
   * without any copy of version 1 (the property found it so).
   */
  @Example
  void aRemovalAfterAFailoverWaitsForWhatAnEarlierWriterAcknowledged() {
    run(
        3,
        2,
        List.of(
            new Op(0, 0, 0),
            new Op(6, 1, 0),
            new Op(6, 2, 0),
            new Op(12, 0, 0),
            new Op(16, 1, 1),
            new Op(19, 0, 0),
            new Op(19, 0, 0),
            new Op(18, 1, 0)));
    assertTrue(storeNodes.contains(1), "B still counts: D and E do not hold version 1");
  }

  /**
   * A follow sent before its node's removal reaches the writer after it (a starting writer keeps
   * the follows of its election): the node is removed from then on, not counted for ever. Seen in
   * {@code FailoverTest}: the writer's node left, its replica's follow of the next writer came
   * after its removal, and after the next crash the election waited for its promise.
   */
  @Example
  void aNodeRemovedBeforeItsFollowArrivedStopsCountingOnceItsVersionsAreElsewhere() {
    FollowerSet set = new FollowerSet();
    set.add(address(1));
    set.removed(address(0), 7);
    set.add(address(0));
    assertTrue(set.removalsPending(), "the late follower's node counts as removed");
    assertTrue(!set.dropCaughtUp(1, List.of(6L), Set.of()), "version 7 is not elsewhere yet");
    assertTrue(set.dropCaughtUp(1, List.of(7L), Set.of()));
    assertEquals(Set.of(address(1)), set.nodes());
  }

  private void run(int n, int minAcks, List<Op> ops) {
    List<Node> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(new Node());
    }
    nodes = all;
    writer = new Writer(0, 1, Snapshot.empty(), TermBoundaries.NONE.extend(0, 1));
    published.clear();
    published.put(0L, writer.history());
    committed = 0;
    seedVersion = 0;
    acknowledged.clear();
    storeNodes.clear();
    for (int i = 0; i < n; i++) {
      storeNodes.add(i);
    }
    lost = 0;
    followerSet = new FollowerSet();
    for (int i = 0; i < n; i++) {
      follow(nodes.get(i));
      followerSet.add(address(i));
    }
    tellAll();
    for (Op op : ops) {
      n = nodes.size();
      if (op.kind() <= 5) {
        Snapshot h = writer.history();
        for (int i = 0; i <= op.a() % 3; i++) {
          long v = h.version() + 1;
          h = h.apply(WriteBatch.ofPut("k" + (v % 7), "t" + writer.term() + "v" + v));
        }
        writer = new Writer(writer.at(), writer.term(), h, writer.terms());
        published.put(h.version(), h);
      } else if (op.kind() <= 11) {
        Node node = nodes.get(op.a() % n);
        if (!node.lost) {
          if (node.followTerm != writer.term()) {
            follow(node); // a restarted replica follows before it receives
          }
          send(node, op.b() % 6 + 1);
          dropCaughtUp(minAcks);
        }
      } else if (op.kind() <= 15) {
        advanceCommitted(minAcks);
        Node node = nodes.get(op.a() % n);
        if (!node.lost) {
          moveCommitted(node, committed);
        }
      } else if (op.kind() == 19) {
        if (nodes.size() >= 7) {
          continue;
        }
        // A new node opens the store and follows the writer: the others learn of it only when the
        // writer's follower set reaches them (op 20).
        Node joined = new Node();
        joined.joiner = true;
        nodes.add(joined);
        storeNodes.add(nodes.size() - 1);
        follow(joined);
        followerSet.add(address(nodes.size() - 1));
        tell(joined);
      } else if (op.kind() == 20) {
        Node node = nodes.get(op.a() % n);
        if (!node.lost) {
          tell(node);
        }
      } else if (op.kind() == 18) {
        int at = op.a() % n;
        Node node = nodes.get(at);
        if (node.lost || at == writer.at()) {
          continue; // the writer's node leaving is a failover
        }
        node.lost = true;
        lost++;
        // As WriterSingleton: up to the seed an earlier writer may have acknowledged versions.
        followerSet.removed(address(at), Math.max(committed, seedVersion));
        dropCaughtUp(minAcks);
      } else if (op.kind() == 22) {
        // The commit index reaches node a, which applies and then prunes what it applied: the
        // replica that got ahead of the others' stores is the one whose history is gone.
        advanceCommitted(minAcks);
        Node node = nodes.get(op.a() % n);
        if (!node.lost) {
          moveCommitted(node, committed);
          node.store = node.store.prune(node.store.version());
        }
      } else if (op.kind() == 21) {
        int at = op.a() % n;
        Node node = nodes.get(at);
        if (!node.lost && at != writer.at()) {
          restartWithLog(node);
        }
      } else if (op.kind() == 17) {
        int at = op.a() % n;
        Node node = nodes.get(at);
        if (node.lost
            || at == writer.at()
            || node.received.received() > node.store.version()
            || joined()) {
          // The writer's node restarting is a failover; a replica that forgets received versions
          // loses acknowledgements (they are in memory), as a lost node does: not this case. Nor is
          // a replica that lost its replica log where a node joined: voters that all forgot their
          // promises may propose a term a joiner the candidate does not see still holds versions
          // of, and reuse it (the README counts such a node as lost; op 21 restarts with the log).
          continue;
        }
        restart(node);
      } else {
        int quorum = Quorum.needed(storeNodes.size(), minAcks);
        int extra = op.b() % 2 == 0 && lost + 2 <= minAcks ? 1 : 0;
        if (storeNodes.size() - lost - 1 - extra < quorum || lost + 1 + extra > minAcks) {
          continue; // more losses than min-acks covers, or no quorum left: not a covered case
        }
        lose(writer.at());
        lost++;
        if (extra == 1) {
          for (int i = 0; i < n; i++) {
            Node candidate = nodes.get((op.a() + i) % n);
            if (!candidate.lost) {
              candidate.lost = true;
              lost++;
              break;
            }
          }
        }
        elect(op.a(), op.b(), minAcks);
      }
    }
  }

  private void lose(int at) {
    nodes.get(at).lost = true;
  }

  private static Address address(int node) {
    return new Address("pekko", "model", "node", node);
  }

  /**
   * The writer drops the removed nodes its followers on current members caught up for: each stops
   * counting among the store's nodes, and as lost.
   */
  private void dropCaughtUp(int minAcks) {
    List<Long> received = new ArrayList<>();
    Set<Address> following = new HashSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (!nodes.get(i).lost) {
        following.add(address(i));
        if (i != writer.at()) {
          received.add(nodes.get(i).received.received());
        }
      }
    }
    Set<Address> before = followerSet.nodes();
    if (followerSet.dropCaughtUp(minAcks, received, following)) {
      for (Iterator<Integer> i = storeNodes.iterator(); i.hasNext(); ) {
        Address node = address(i.next());
        if (before.contains(node) && !followerSet.nodes().contains(node)) {
          i.remove();
          lost--;
        }
      }
      tellAll(); // the writer tells every follower the smaller set
    }
  }

  /** Whether a node joined since the start. */
  private boolean joined() {
    for (Node node : nodes) {
      if (node.joiner) {
        return true;
      }
    }
    return false;
  }

  /** The writer's follower set reaches {@code node}. */
  private void tell(Node node) {
    node.knownTerm = writer.term();
    node.knownSeq = followerSet.seq();
    Set<Integer> known = new HashSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (followerSet.nodes().contains(address(i))) {
        known.add(i);
      }
    }
    node.known = known;
  }

  private void tellAll() {
    for (Node node : nodes) {
      if (!node.lost) {
        tell(node);
      }
    }
  }

  /**
   * A durable replica that applied all it received restarts: its store keeps what it applied; its
   * promised term and its history's creation terms were in memory only.
   */
  private static void restart(Node node) {
    node.received = new ReceivedCommits(node.store.version());
    node.committed = node.store.version();
    node.promised = 0;
    node.followTerm = 0;
    node.knownTerm = 0;
    node.knownSeq = 0;
    node.known = Set.of();
  }

  /**
   * A durable replica restarts with its replica log, whenever: its store keeps what it applied, its
   * log what it received beyond (held, shown only once acknowledged again), its promised term and
   * its history's creation terms, as {@link ReplicaActor} recovers them.
   */
  private static void restartWithLog(Node node) {
    List<CommitRecord> held = node.received.held();
    TermBoundaries terms = node.received.history();
    node.received = new ReceivedCommits(node.store.version());
    node.received.restore(terms, held);
    node.committed = node.store.version();
    node.followTerm = 0;
  }

  /**
   * The writer sends {@code node} up to {@code count} versions after what it received; if it no
   * longer retains the first (it started from a transferred state), the replica is reset to the
   * writer's acknowledged state first, as {@link ReplicaActor} does on {@link
   * ReplicaProtocol.NeedsTransfer}.
   */
  private void send(Node node, int count) {
    long from = node.received.received() + 1;
    if (from <= writer.history().watermark()) {
      var acknowledgedState = published.floorEntry(committed);
      if (acknowledgedState == null) {
        return; // none to offer until the tail the writer took over is acknowledged: asks again
      }
      // ReplicaActor.onReceived: the writer's history taken as following it would (held commits
      // kept up to the first differing creation term); onTransferred: the store reset, the held
      // commits up to the state's version dropped, the ones after it kept.
      Snapshot offered = acknowledgedState.getValue();
      node.received.follow(writer.terms());
      node.store = offered;
      node.received.applied(offered.version());
      node.committed = Math.max(node.committed, offered.version());
      from = node.received.received() + 1;
    }
    long to = Math.min(writer.history().version(), from + count - 1);
    List<CommitRecord> commits = new ArrayList<>();
    for (long v = from; v <= to; v++) {
      commits.add(writer.history().commit(v));
    }
    node.received.add(commits);
  }

  /** The k-th highest received version among replicas on other nodes, as the writer counts. */
  private void advanceCommitted(int minAcks) {
    List<Long> received = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (i != writer.at() && !nodes.get(i).lost && admitted(i)) {
        received.add(nodes.get(i).received.received());
      }
    }
    if (received.size() < minAcks) {
      return;
    }
    received.sort(Collections.reverseOrder());
    long candidate = Math.min(writer.history().version(), received.get(minAcks - 1));
    for (long v = committed + 1; v <= candidate; v++) {
      CommitRecord c = writer.history().commit(v);
      CommitRecord before = acknowledged.putIfAbsent(v, c);
      assertTrue(before == null || before.equals(c), "version " + v + " acknowledged twice");
    }
    committed = Math.max(committed, candidate);
  }

  /**
   * Whether node {@code i}'s acknowledgements count, as {@link WriterSingleton} decides: once every
   * other follower knows the follower set that names it ({@link FollowerSet#joinedAt}).
   */
  private boolean admitted(int i) {
    long joined = followerSet.joinedAt(address(i));
    for (int j = 0; j < nodes.size(); j++) {
      Node other = nodes.get(j);
      if (j != i && !other.lost && (other.knownTerm != writer.term() || other.knownSeq < joined)) {
        return false;
      }
    }
    return true;
  }

  /** The replica's commit index moves; it hands its store what it may, as the actor does. */
  private void moveCommitted(Node node, long index) {
    node.committed = Math.max(node.committed, index);
    for (CommitRecordCodec.Group g; (g = node.received.nextGroup(node.committed, 0)) != null; ) {
      Transient t = node.store.asTransient();
      for (CommitRecord c : g.commits()) {
        assertEquals(acknowledged.get(c.version()), c, "shown, not acknowledged as such");
        t.applyCommit(c);
      }
      node.store = t.persistent();
      node.received.applied(node.store.version());
    }
  }

  /** A replica follows the current writer: {@link ReplicaActor}'s handling of Subscribed. */
  private void follow(Node node) {
    assertTrue(writer.term() >= node.promised, "a lower term than promised");
    node.promised = writer.term();
    if (writer.term() != node.followTerm) {
      node.followTerm = writer.term();
      node.received.follow(writer.terms());
      node.committed = Math.min(node.committed, node.received.received());
    }
    moveCommitted(node, committed);
  }

  /**
   * A new writer on the {@code at}-th survivor, with the promises of {@code quorum} survivors from
   * the {@code from}-th on: it starts from its node's replica and fetches the rest from the most
   * up-to-date promise.
   */
  private void elect(int at, int from, int minAcks) {
    List<Integer> alive = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (!nodes.get(i).lost) {
        alive.add(i);
      }
    }
    // The candidate counts the store's nodes as WriterElection does: those the receptionist lists
    // (here: every node but a joiner, whose listing may not have spread), the promisers, and the
    // newest follower set a promise reports; the quorum grows with what the promises tell.
    List<Integer> voters = new ArrayList<>();
    for (int quorum = 1; voters.size() < quorum; ) {
      voters.add(alive.get((from + voters.size()) % alive.size()));
      Node newest = null;
      for (int i : voters) {
        Node v = nodes.get(i);
        if (newest == null
            || v.knownTerm > newest.knownTerm
            || (v.knownTerm == newest.knownTerm && v.knownSeq > newest.knownSeq)) {
          newest = v;
        }
      }
      Set<Integer> counted = new HashSet<>(newest.known);
      counted.addAll(voters); // a promise says its node opened the store
      for (int i : storeNodes) {
        if (!nodes.get(i).joiner) {
          counted.add(i);
        }
      }
      quorum = Quorum.needed(counted.size(), minAcks);
      assertTrue(quorum <= alive.size(), "a covered failover has its quorum");
    }
    long term = 0;
    for (int i : voters) {
      term = Math.max(term, nodes.get(i).promised);
    }
    term++;
    Node source = null;
    for (int i : voters) {
      Node v = nodes.get(i);
      v.promised = term;
      if (source == null
          || TermBoundaries.newer(
              v.received.receivedCreationTerm(),
              v.received.received(),
              source.received.receivedCreationTerm(),
              source.received.received())) {
        source = v;
      }
    }
    int writerAt = alive.get(at % alive.size());
    Node own = nodes.get(writerAt);
    Snapshot seed = own.store;
    TermBoundaries terms = own.received.history().upTo(seed.version());
    // A restarted durable replica may have applied past Raft's source: take its applied versions.
    Node holder = source;
    long to = source == null ? 0 : source.received.received();
    TermBoundaries sourceTerms = source == null ? terms : source.received.history();
    for (int i : voters) {
      Node v = nodes.get(i);
      if (source != null && v.store.version() > to) {
        holder = v;
        to = v.store.version();
        sourceTerms = source.received.history().upTo(source.received.received());
      }
    }
    // The acknowledged version the writer starts with: its node's replica's, or a transferred one.
    long base = own.store.version();
    if (holder != null && to > seed.version()) {
      if (seed.version() < holder.store.watermark()) {
        // The holder no longer retains the next version: take its store's state (acknowledged
        // versions only), then fetch what it received beyond.
        seed = holder.store;
        base = seed.version();
        terms = sourceTerms.upTo(seed.version());
      }
      if (to > seed.version()) {
        List<CommitRecord> fetched = holder.received.fetch(holder.store, seed.version() + 1, to);
        assertTrue(fetched != null, "the source holds what it promised");
        Transient t = seed.asTransient();
        for (CommitRecord c : fetched) {
          t.applyCommit(c);
        }
        seed = t.persistent();
        terms = sourceTerms.upTo(seed.version());
      }
    }
    TreeMap<String, String> pruned = new TreeMap<>();
    for (var e : acknowledged.entrySet()) {
      assertTrue(
          e.getKey() <= seed.version(),
          "acknowledged version "
              + e.getKey()
              + " lost: the new writer starts at "
              + seed.version());
      if (e.getKey() > seed.watermark()) {
        assertEquals(e.getValue(), seed.commit(e.getKey()), "acknowledged content changed");
      } else {
        // Pruned by the state taken over: its write shows in the state at the watermark unless a
        // later acknowledged version below it overwrote its key.
        for (var c : e.getValue().changes()) {
          pruned.put(c.keyUtf8(), c.valueUtf8());
        }
      }
    }
    for (var e : pruned.entrySet()) {
      assertEquals(
          e.getValue(),
          seed.get(e.getKey(), seed.watermark()),
          "acknowledged content of " + e.getKey() + " changed below the watermark");
    }
    long lastKept = terms.size() == 0 ? 0 : terms.term(terms.size() - 1);
    if (lastKept >= term) {
      // The history was extended in a term the promises did not know (they restarted): the
      // candidate proposes the term after it, as WriterElection does.
      term = lastKept + 1;
      for (int i : voters) {
        nodes.get(i).promised = term;
      }
    }
    writer = new Writer(writerAt, term, seed, terms.extend(seed.version(), term));
    published.clear();
    published.put(seed.version(), seed);
    committed = base;
    seedVersion = seed.version();
    // A removed node still counted stays counted: the new writer's set cannot drop it.
    followerSet = new FollowerSet();
    for (int i : alive) {
      follow(nodes.get(i));
      followerSet.add(address(i));
    }
    tellAll();
  }
}
