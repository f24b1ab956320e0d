package dev.zverse.cluster;

import dev.zverse.actors.PublishListener;
import dev.zverse.actors.StoreOverloadedException;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.VersionPin;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.cluster.WriterProtocol.Ack;
import dev.zverse.cluster.WriterProtocol.Chunk;
import dev.zverse.cluster.WriterProtocol.Command;
import dev.zverse.cluster.WriterProtocol.Commits;
import dev.zverse.cluster.WriterProtocol.Committed;
import dev.zverse.cluster.WriterProtocol.ConditionsFailed;
import dev.zverse.cluster.WriterProtocol.Failed;
import dev.zverse.cluster.WriterProtocol.Follow;
import dev.zverse.cluster.WriterProtocol.FollowerGone;
import dev.zverse.cluster.WriterProtocol.GetLatest;
import dev.zverse.cluster.WriterProtocol.Invalid;
import dev.zverse.cluster.WriterProtocol.Overloaded;
import dev.zverse.cluster.WriterProtocol.Published;
import dev.zverse.cluster.WriterProtocol.Reply;
import dev.zverse.cluster.WriterProtocol.Stop;
import dev.zverse.cluster.WriterProtocol.Tick;
import dev.zverse.cluster.WriterProtocol.Write;
import dev.zverse.cluster.WriterProtocol.Written;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.jspecify.annotations.Nullable;

/**
 * The writer of a cluster store: a cluster singleton that owns a local {@link ZVerseStore} on the
 * node it runs on, commits the writes every node sends it, and sends its commits to every node's
 * replica. Each write is answered exactly once, with its version or with the reason the local store
 * refused it, carried as a {@link Reply} so the sender fails with the same exception type as a
 * local write would.
 *
 * <h2>Replicas</h2>
 *
 * A replica asks to be followed from its next version ({@link Follow}); the writer watches it and
 * sends it its commits as it publishes them, in {@link Commits} of consecutive versions read from
 * its latest snapshot, split into chunks when larger than {@code chunk-bytes}. It sends at most
 * {@code replica-window} versions beyond the replica's last {@link Ack}: the commits in flight to
 * one replica, and what a replica that stopped acknowledging (unreachable, or slow) costs, are
 * bounded, and the others are served as before. The writer keeps no commit for a replica: it reads
 * them from its retained history, so a replica whose next version was pruned meanwhile is told to
 * catch up by state transfer ({@link ReplicaProtocol.NeedsTransfer}). A replica that asks again
 * (after a gap it saw in the versions) is followed again from the version it names.
 *
 * <h2>Acknowledgement</h2>
 *
 * A write is committed on the writer's local store only while at least {@code replication.min-acks}
 * (k) replicas on other nodes follow this writer; otherwise it waits, up to {@code ack-timeout},
 * and then fails as {@link WriterProtocol.NotEnoughReplicas}, nothing written. A committed write is
 * answered once k of them said they received it: the writer's acknowledged version (commit index)
 * is the k-th highest received version among them, sent with every {@link Commits} and on its own
 * ({@link ReplicaProtocol.CommitIndex}) when it moves, and replicas show readers nothing beyond it.
 * A committed write that k replicas did not acknowledge within {@code ack-timeout}, or that was
 * waiting when the writer stopped, is answered as {@link WriterProtocol.OutcomeUnknown}: it may
 * survive a failover, or not. Every message to a replica carries the writer's term ({@link
 * WriterElection}), so a writer a newer one replaced gets no acknowledgement and answers nothing.
 *
 * <p>About 600 lines: the write path, the acknowledgement count and the followers' windows share
 * the followers' bookkeeping; how an incarnation starts is {@link WriterElection}.
 *
 * <p>Confined to its actor; the store's own writer orders the commits, and its publish listener
 * only tells this actor. The local store is closed when the singleton stops (hand-over or the
 * system's termination).
 */
final class WriterSingleton extends AbstractBehavior<Command> {
  /** Versions per {@link Commits} message at most, so that one group stays one reasonable read. */
  private static final int MAX_GROUP_VERSIONS = 256;

  /** The shortest and longest interval of the deadline checks. */
  private static final Duration MIN_TICK = Duration.ofMillis(10);

  private static final Duration MAX_TICK = Duration.ofSeconds(1);

  /** Linearizable reads held until the taken-over tail is acknowledged, at most this many. */
  static final int MAX_HELD_READS = 10_000;

  /** What the writer knows of one replica. Actor-confined. */
  private static final class Follower {
    /** Whether it is on another node than the writer's: only those count towards min-acks. */
    final boolean counted;

    /** Its node. */
    final Address node;

    /**
     * The follower set's sequence number when it started to follow: it was told the set of then,
     * before any commit, so it knows every node named up to it.
     */
    final long since;

    /** The newest follower set of this term it said it knows ({@link FollowersKnown}). */
    long knownSeq;

    /** The last version sent. */
    long sent;

    /** The last version the replica said it received. */
    long received;

    /** The last version the replica said it applied: the window counts from it. */
    long acked;

    Follower(boolean counted, Address node, long since) {
      this.counted = counted;
      this.node = node;
      this.since = since;
    }

    /** The latest version it was told of with {@link ReplicaProtocol.Latest}. */
    long told;
  }

  /** A committed write waiting for its acknowledgements. */
  private record Pending(ActorRef<Reply> replyTo, long deadline) {}

  /** A write waiting for enough replicas to follow before it is committed. */
  private record Waiting(Write write, long deadline) {}

  private final String name;
  private final ZVerseStore store;
  private final long term;

  /** The creation terms of this writer's history: fixed for its term, sent with Subscribed. */
  private final TermBoundaries terms;

  /** The acknowledged version: every version up to it is held by min-acks replicas. */
  private long committed;

  /**
   * The version this writer started from. Its tail after the node's replica's applied version may
   * hold the previous writer's acknowledged writes: a linearizable read waits in {@link #heldReads}
   * until this writer acknowledged it too, so it never answers an older version than one a client
   * was told was written.
   */
  private final long seed;

  /** The higher term a replica promised instead of this writer's, once one said so; 0 before. */
  private long fencedBy;

  /** Linearizable reads waiting for {@link #committed} to reach {@link #seed}. */
  private final List<GetLatest> heldReads = new ArrayList<>();

  /** Committed writes not yet acknowledged, by version. */
  private final TreeMap<Long, Pending> pending = new TreeMap<>();

  /** Writes not yet committed for want of replicas, oldest first. */
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();

  /** Serves the store's state to replicas that must catch up by state transfer. */
  private final ActorRef<StateTransfer.Request> transfers;

  /** What the transfers offer: the newest snapshot at or below {@link #committed}. */
  private final AcknowledgedSnapshots acknowledged;

  private final ClusterSettings settings;
  private final WireSerializer serializer;
  private final Map<ActorRef<ReplicaProtocol.Command>, Follower> followers = new HashMap<>();

  /**
   * The nodes whose replicas followed this writer in its term, less the removed ones that stopped
   * counting: told to every follower as it changes, so a later election counts a node that left
   * since ({@link Quorum}).
   */
  private final FollowerSet followerNodes = new FollowerSet();

  /** Chunked writes being put together, from the election on. */
  private final ChunkedWrites chunkedWrites;

  /**
   * Pins {@link #committed} while min-acks is above 0, so that the commits after it stay retained
   * (the writer sends only commits above its store's watermark); null until taken. Without it, the
   * store's retention pruned them while replicas were behind (10,000 commits/s, 1,000 versions
   * kept): the replicas that acknowledge were sent to state transfer, which offers only
   * acknowledged versions, and came back needing the next version, pruned again; writes failed with
   * NotEnoughReplicasException. With it the k replicas that received {@link #committed} can always
   * go on. It holds back only versions not yet acknowledged, while k followers are watched:
   * replicas slower than the writes make it grow (the store's long-pin warning names it), where
   * they were sent to state transfer before.
   */
  private @Nullable VersionPin unacknowledged;

  private long chunkIds;

  private WriterSingleton(
      ActorContext<Command> context,
      String name,
      ZVerseStore store,
      long term,
      TermBoundaries terms,
      long committed,
      long seed,
      ActorRef<StateTransfer.Request> transfers,
      AcknowledgedSnapshots acknowledged,
      ClusterSettings settings,
      WireSerializer serializer,
      ChunkedWrites chunkedWrites) {
    super(context);
    this.name = name;
    this.store = store;
    this.term = term;
    this.terms = terms;
    this.committed = committed;
    this.seed = seed;
    this.transfers = transfers;
    this.acknowledged = acknowledged;
    this.settings = settings;
    this.serializer = serializer;
    this.chunkedWrites = chunkedWrites;
    // A removed follower's node stops counting once its acknowledged versions are elsewhere.
    ActorRef<ClusterEvent.MemberRemoved> removals =
        context.messageAdapter(
            ClusterEvent.MemberRemoved.class,
            e -> new WriterProtocol.MemberRemoved(e.member().address()));
    Cluster.get(context.getSystem())
        .subscriptions()
        .tell(Subscribe.create(removals, ClusterEvent.MemberRemoved.class));
    retainUnacknowledged();
  }

  /**
   * The singleton's behavior: elects and catches up ({@link WriterElection}), then serves.
   *
   * @param name the store's name
   * @param storeSettings the local store's settings
   * @param settings the cluster settings
   * @param local this node's replica store, which a new writer starts from
   * @param localState this node's replica's shared state
   * @return the behavior
   */
  static Behavior<Command> create(
      String name,
      StoreSettings storeSettings,
      ClusterSettings settings,
      ZVerseStore local,
      ReplicaState localState) {
    return WriterElection.create(name, storeSettings, settings, local, localState);
  }

  /**
   * The writer serving {@code store}, opened at where the cluster is, in {@code term}, going on
   * with the chunked writes its election began to put together.
   *
   * @param terms the creation terms of its history
   * @param committed the state at the acknowledged version it starts with (its store's state at
   *     that version: offered to replicas' state transfers until a newer one is acknowledged)
   * @param seed the version it starts from, at least {@code committed}
   * @param chunkedWrites the chunked writes in progress
   */
  static WriterSingleton serving(
      ActorContext<Command> context,
      String name,
      ZVerseStore store,
      long term,
      TermBoundaries terms,
      Snapshot committed,
      long seed,
      ClusterSettings settings,
      TimerScheduler<Command> timers,
      ChunkedWrites chunkedWrites) {
    ActorRef<Command> self = context.getSelf();
    // A state transfer offers only acknowledged versions: the store publishes a version once
    // committed, before min-acks replicas received it, and a replica reset to it would show its
    // readers a version a failover could lose (and take it for acknowledged).
    AcknowledgedSnapshots acknowledged =
        new AcknowledgedSnapshots(committed, store.advanced().lastPublished());
    // The state the writer started from is acknowledged and offered at once: its store's history
    // starts where its source's did, and a replica behind that must be able to catch up before the
    // tail taken over is acknowledged again, which may need that very replica's acknowledgement.
    store
        .advanced()
        .addPublishListener(
            new PublishListener() {
              @Override
              public void published(Snapshot snapshot) {
                // On the store's writer thread: only hand the news over.
                acknowledged.published(snapshot);
                self.tell(new Published(snapshot.version()));
              }

              @Override
              public void stopped(Snapshot last) {
                // The singleton closes the store itself, when it stops.
              }
            });
    ActorRef<StateTransfer.Request> transfers =
        context.spawn(
            StateTransfer.server(
                store,
                TransferSettings.create(context.getSystem()),
                StateTransfer.Listener.NONE,
                acknowledged::offered),
            "transfers-" + term);
    Duration tick = settings.ackTimeout().dividedBy(10);
    timers.startTimerWithFixedDelay(
        Tick.INSTANCE,
        tick.compareTo(MIN_TICK) < 0 ? MIN_TICK : tick.compareTo(MAX_TICK) > 0 ? MAX_TICK : tick);
    return new WriterSingleton(
        context,
        name,
        store,
        term,
        terms,
        committed.version(),
        seed,
        transfers,
        acknowledged,
        settings,
        WireSerializer.of(context.getSystem()),
        chunkedWrites);
  }

  /** The name of the writer's local store: the node's replica holds the store's own name. */
  static String writerStoreName(String name) {
    return name + "-writer";
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Write.class, this::onWrite)
        .onMessage(Chunk.class, this::onChunk)
        .onMessage(Follow.class, this::onFollow)
        .onMessage(Ack.class, this::onAck)
        .onMessage(WriterProtocol.FollowersKnown.class, this::onFollowersKnown)
        .onMessage(GetLatest.class, this::onGetLatest)
        .onMessage(Published.class, this::onPublished)
        .onMessage(FollowerGone.class, this::onFollowerGone)
        .onMessage(WriterProtocol.MemberRemoved.class, this::onMemberRemoved)
        .onMessage(Committed.class, this::onCommitted)
        .onMessage(WriterProtocol.Fenced.class, this::onFenced)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(WriterProtocol.Promised.class, p -> this)
        .onMessage(WriterProtocol.Fetched.class, f -> this)
        .onMessage(WriterProtocol.FetchRefused.class, f -> this)
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onWrite(Write write) {
    if (fencedBy > 0) {
      write.replyTo().tell(new Failed(fencedMessage()));
      return this;
    }
    if (countedFollowers() < settings.minAcks()) {
      int max = store.settings().maxPendingWrites();
      if (waiting.size() >= max) {
        // Bounded like the store's own queue: refuse at once, nothing written.
        write.replyTo().tell(new Overloaded(name, max));
        return this;
      }
      waiting.addLast(new Waiting(write, System.nanoTime() + settings.ackTimeout().toNanos()));
      return this;
    }
    commit(write);
    return this;
  }

  private void commit(Write write) {
    ActorRef<Command> self = getContext().getSelf();
    try {
      store
          .write(write.batch())
          .whenComplete(
              // ActorRef.tell is safe from any thread: the answer leaves from the store's writer.
              (version, failure) -> {
                if (failure == null) {
                  self.tell(new Committed(version, write.replyTo()));
                } else {
                  write.replyTo().tell(reply(failure, name));
                }
              });
    } catch (IllegalStateException e) {
      write.replyTo().tell(new Failed(String.valueOf(e.getMessage())));
    }
  }

  private Behavior<Command> onCommitted(Committed c) {
    if (fencedBy > 0) {
      c.replyTo()
          .tell(
              new WriterProtocol.OutcomeUnknown(
                  "the writer committed version "
                      + c.version()
                      + " after it was replaced by term "
                      + fencedBy
                      + "; it may or may not survive in the new writer's history"));
    } else if (c.version() <= committed) {
      c.replyTo().tell(new Written(c.version()));
    } else {
      pending.put(
          c.version(),
          new Pending(c.replyTo(), System.nanoTime() + settings.ackTimeout().toNanos()));
    }
    return this;
  }

  /** Fails what waited past {@code ack-timeout}: definitely if not committed, else as unknown. */
  private Behavior<Command> onTick() {
    // A removed node's follower may have gone only after its last acknowledgement came.
    dropRemovedNodes();
    for (Map.Entry<ActorRef<ReplicaProtocol.Command>, Follower> e : followers.entrySet()) {
      if (e.getValue().knownSeq < followerNodes.seq()) {
        e.getKey().tell(followerSet()); // the set or its answer may have been lost with a restart
      }
    }
    long now = System.nanoTime();
    while (!waiting.isEmpty() && now - waiting.peekFirst().deadline() > 0) {
      waiting
          .removeFirst()
          .write()
          .replyTo()
          .tell(
              new WriterProtocol.NotEnoughReplicas(
                  name, settings.minAcks(), countedFollowers(), storeNodes()));
    }
    for (var it = pending.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Pending> e = it.next();
      if (now - e.getValue().deadline() > 0) {
        it.remove();
        e.getValue()
            .replyTo()
            .tell(
                new WriterProtocol.OutcomeUnknown(
                    "the writer committed version "
                        + e.getKey()
                        + " but fewer than replication.min-acks = "
                        + settings.minAcks()
                        + " replicas acknowledged it within replication.ack-timeout; it may"
                        + " or may not survive a failover"));
      }
    }
    return this;
  }

  /** Replicas on other nodes that follow this writer and count ({@link #counts}). */
  private int countedFollowers() {
    int n = 0;
    for (Follower f : followers.values()) {
      if (counts(f)) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether {@code f}'s acknowledgements count towards min-acks: it is on another node than the
   * writer's, and every follower on another node that followed before the set named {@code f}'s
   * node knows that set (those that followed later were told it first). Until then a new writer
   * that learns the store's nodes from the promises might not count its node, and its quorum could
   * miss a version only it and this writer held ({@link FollowerSet}).
   */
  private boolean counts(Follower f) {
    if (!f.counted) {
      return false;
    }
    long joined = followerNodes.joinedAt(f.node);
    for (Follower other : followers.values()) {
      if (!other.node.equals(f.node) && other.since < joined && other.knownSeq < joined) {
        return false;
      }
    }
    return true;
  }

  /** The store's nodes: members with the role, Up or WeaklyUp. */
  private int storeNodes() {
    int n = 0;
    for (Member m : Cluster.get(getContext().getSystem()).state().getMembers()) {
      boolean up =
          m.status().equals(MemberStatus.up()) || m.status().equals(MemberStatus.weaklyUp());
      if (up && (settings.role().isEmpty() || m.hasRole(settings.role().get()))) {
        n++;
      }
    }
    return n;
  }

  /**
   * Moves the acknowledged version to what min-acks replicas received, answers the writes it covers
   * and tells the replicas.
   */
  private void advanceCommitted() {
    long latest = store.advanced().lastPublished().version();
    long candidate;
    int k = settings.minAcks();
    if (k == 0) {
      candidate = latest;
    } else {
      List<Long> received = new ArrayList<>();
      for (Follower f : followers.values()) {
        if (counts(f)) {
          received.add(f.received);
        }
      }
      if (received.size() < k) {
        return;
      }
      received.sort(Collections.reverseOrder());
      candidate = Math.min(latest, received.get(k - 1));
    }
    if (candidate <= committed) {
      return;
    }
    committed = candidate;
    acknowledged.acknowledged(committed);
    retainUnacknowledged();
    // The replicas first: they show the version on receipt of the index, while the answers below
    // each complete a future at its sender.
    ReplicaProtocol.CommitIndex index = new ReplicaProtocol.CommitIndex(term, committed);
    for (ActorRef<ReplicaProtocol.Command> r : followers.keySet()) {
      r.tell(index);
    }
    for (Map.Entry<Long, Pending> e;
        (e = pending.firstEntry()) != null && e.getKey() <= committed; ) {
      pending.pollFirstEntry();
      e.getValue().replyTo().tell(new Written(e.getKey()));
    }
    if (committed >= seed && !heldReads.isEmpty()) {
      for (GetLatest g : heldReads) {
        g.replyTo().tell(new ReplicaProtocol.Latest(committed));
      }
      heldReads.clear();
    }
  }

  /** Moves (or takes) {@link #unacknowledged} to {@link #committed}. */
  private void retainUnacknowledged() {
    if (settings.minAcks() == 0 || store.isClosed()) {
      return;
    }
    long from = committed;
    try {
      VersionPin pin = unacknowledged;
      if (pin == null) {
        unacknowledged =
            store.advanced().tryPin(from, "unacknowledged versions of " + name).orElse(null);
      } else if (pin.version() < from) {
        // False while the EpochActor decides a watermark: it stays lower, moved later.
        pin.moveTo(from);
      }
    } catch (VersionCompactedException e) {
      // Pruned past it already (a writer that started from a transferred state): taken later.
    }
  }

  /** A part of a write too large for one frame ({@link ChunkedWrites}). */
  private Behavior<Command> onChunk(Chunk chunk) {
    Optional<Write> whole =
        chunkedWrites.accept(
            chunk, why -> getContext().getLog().warn("[{}] Dropped {}", store.name(), why));
    return whole.isPresent() ? onWrite(whole.get()) : this;
  }

  private Behavior<Command> onFollow(Follow f) {
    if (fencedBy > 0) {
      return this; // the replica asks again and reaches the new writer once the singleton moved
    }
    StoreSettings mine = store.settings();
    if (f.maxKeyBytes() != mine.maxKeyBytes() || f.maxValueBytes() != mine.maxValueBytes()) {
      f.replica()
          .tell(
              new ReplicaProtocol.Refused(
                  "store ["
                      + name()
                      + "]: this node's limits differ from the writer's: maxKeyBytes "
                      + f.maxKeyBytes()
                      + " here, "
                      + mine.maxKeyBytes()
                      + " on the writer; maxValueBytes "
                      + f.maxValueBytes()
                      + " here, "
                      + mine.maxValueBytes()
                      + " on the writer: open the store with the same limits on every node"));
      return this;
    }
    Snapshot s = store.advanced().lastPublished();
    if (f.from() > s.version() + 1) {
      f.replica()
          .tell(
              new ReplicaProtocol.Refused(
                  "store ["
                      + name()
                      + "]: the replica is at version "
                      + (f.from() - 1)
                      + ", ahead of the writer's "
                      + s.version()
                      + ": it holds acknowledged versions the new writer does not (more nodes"
                      + " were lost than replication.min-acks covers)"));
      return this;
    }
    if (f.from() <= s.watermark()) {
      if (followers.remove(f.replica()) != null) {
        getContext().unwatch(f.replica());
      }
      f.replica()
          .tell(
              new ReplicaProtocol.NeedsTransfer(
                  term,
                  getContext().getSelf(),
                  f.from(),
                  s.watermark(),
                  s.version(),
                  transfers,
                  terms));
      return this;
    }
    Follower follower = followers.get(f.replica());
    if (follower == null) {
      Address at = f.replica().path().address();
      boolean counted =
          !at.hasLocalScope()
              && !at.equals(Cluster.get(getContext().getSystem()).selfMember().address());
      Address node =
          at.hasLocalScope() ? Cluster.get(getContext().getSystem()).selfMember().address() : at;
      boolean added = followerNodes.add(node);
      follower = new Follower(counted, node, followerNodes.seq());
      followers.put(f.replica(), follower);
      getContext().watchWith(f.replica(), new FollowerGone(f.replica()));
      if (added) {
        if (!isMember(node)) {
          // A follow sent before its node's removal came after it (a starting writer keeps the
          // follows of its election, and subscribes to removals only once it serves).
          followerNodes.removed(node, Math.max(committed, seed));
        }
        tellFollowerNodes();
      } else {
        f.replica().tell(followerSet());
      }
    }
    follower.sent = f.from() - 1;
    follower.received = f.from() - 1;
    follower.acked = f.from() - 1;
    follower.told = 0;
    f.replica()
        .tell(new ReplicaProtocol.Subscribed(term, getContext().getSelf(), committed, terms));
    send(f.replica(), follower, s);
    // Taken on: a transfer's pin that kept version f.from() retained until now may go.
    StateTransfer.followed(transfers, f.replica(), f.from());
    // A replica that already holds the whole tail up to the seed has nothing to receive and sends
    // no Ack: its follow alone may acknowledge the tail, and release the held reads.
    advanceCommitted();
    while (!waiting.isEmpty() && countedFollowers() >= settings.minAcks()) {
      commit(waiting.removeFirst().write());
    }
    return this;
  }

  private Behavior<Command> onAck(Ack a) {
    Follower follower = followers.get(a.replica());
    if (follower == null || a.term() != term) {
      return this;
    }
    if (a.received() > follower.received) {
      follower.received = Math.min(a.received(), follower.sent);
      dropRemovedNodes();
      advanceCommitted();
    }
    if (a.applied() > follower.acked) {
      follower.acked = a.applied();
      send(a.replica(), follower, store.advanced().lastPublished());
    }
    return this;
  }

  private Behavior<Command> onGetLatest(GetLatest g) {
    if (fencedBy > 0) {
      // A replaced writer's acknowledged version may be older than the new writer's.
      g.replyTo().tell(ReplicaProtocol.Latest.UNAVAILABLE);
      return this;
    }
    if (committed < seed) {
      // The tail taken over may hold acknowledged writes this writer has not acknowledged yet.
      if (heldReads.size() < MAX_HELD_READS) {
        heldReads.add(g);
      } else {
        g.replyTo().tell(ReplicaProtocol.Latest.UNAVAILABLE);
      }
      return this;
    }
    // The acknowledged version: what every reader may be shown, and what a write was told.
    g.replyTo().tell(new ReplicaProtocol.Latest(committed));
    return this;
  }

  private Behavior<Command> onPublished(Published p) {
    Snapshot s = store.advanced().lastPublished();
    if (s.version() < p.version()) {
      return this; // cannot be: the listener ran after the publish
    }
    for (Map.Entry<ActorRef<ReplicaProtocol.Command>, Follower> e :
        new ArrayList<>(followers.entrySet())) {
      send(e.getKey(), e.getValue(), s);
    }
    advanceCommitted();
    return this;
  }

  /**
   * A replica promised a newer writer: this one steps down. Its unacknowledged writes end as
   * unknown outcomes (they may survive in the new writer's history, or not), those waiting for
   * replicas fail (nothing written), and every later write fails at once with a retryable error,
   * until the singleton moves (the partition that cut this node off is resolved by downing it).
   */
  private Behavior<Command> onFenced(WriterProtocol.Fenced f) {
    if (f.term() <= term || fencedBy > 0) {
      return this;
    }
    fencedBy = f.term();
    getContext()
        .getLog()
        .warn(
            "[{}] The writer of term {} was replaced by term {}: stepping down",
            name,
            term,
            fencedBy);
    for (Pending p : pending.values()) {
      p.replyTo()
          .tell(
              new WriterProtocol.OutcomeUnknown(
                  "the writer of term "
                      + term
                      + " was replaced by term "
                      + fencedBy
                      + " before replication.min-acks replicas acknowledged the write; it may or"
                      + " may not survive in the new writer's history"));
    }
    pending.clear();
    for (Waiting w : waiting) {
      w.write().replyTo().tell(new Failed(fencedMessage()));
    }
    waiting.clear();
    for (GetLatest g : heldReads) {
      g.replyTo().tell(ReplicaProtocol.Latest.UNAVAILABLE);
    }
    heldReads.clear();
    for (ActorRef<ReplicaProtocol.Command> r : followers.keySet()) {
      getContext().unwatch(r);
    }
    followers.clear();
    if (unacknowledged != null) {
      unacknowledged.close();
    }
    store.close();
    return this;
  }

  private String fencedMessage() {
    return "store ["
        + name
        + "]: the writer of term "
        + term
        + " was replaced by a writer of term "
        + fencedBy
        + "; nothing was written, retry (the write goes to the new writer once the singleton moved)";
  }

  private Behavior<Command> onFollowerGone(FollowerGone gone) {
    followers.remove(gone.replica());
    // A follower that never said it knows a new node's set no longer holds that node back.
    countsChanged();
    return this;
  }

  private Behavior<Command> onFollowersKnown(WriterProtocol.FollowersKnown k) {
    Follower follower = followers.get(k.replica());
    if (follower != null && k.term() == term && k.seq() > follower.knownSeq) {
      follower.knownSeq = k.seq();
      countsChanged();
    }
    return this;
  }

  /** Which followers count may have changed: acknowledge and commit what that allows. */
  private void countsChanged() {
    dropRemovedNodes();
    advanceCommitted();
    while (!waiting.isEmpty() && countedFollowers() >= settings.minAcks()) {
      commit(waiting.removeFirst().write());
    }
  }

  private boolean isMember(Address node) {
    for (Member m : Cluster.get(getContext().getSystem()).state().getMembers()) {
      if (m.address().equals(node)) {
        return true;
      }
    }
    return false;
  }

  private Behavior<Command> onMemberRemoved(WriterProtocol.MemberRemoved removed) {
    // Up to the seed, versions may have been acknowledged by an earlier writer, though this one
    // has not acknowledged them again yet.
    followerNodes.removed(removed.node(), Math.max(committed, seed));
    dropRemovedNodes();
    return this;
  }

  /**
   * Drops the removed nodes whose acknowledged versions min-acks followers on current members
   * received again ({@link FollowerSet#dropCaughtUp}), and tells the followers the smaller set.
   */
  private void dropRemovedNodes() {
    if (!followerNodes.removalsPending()) {
      return;
    }
    Set<Address> members = new HashSet<>();
    for (Member m : Cluster.get(getContext().getSystem()).state().getMembers()) {
      members.add(m.address());
    }
    // One holder per node: a restarted replica's old follower may not be gone yet.
    Map<Address, Long> received = new HashMap<>();
    Set<Address> following = new HashSet<>();
    for (Map.Entry<ActorRef<ReplicaProtocol.Command>, Follower> e : followers.entrySet()) {
      Address at = e.getKey().path().address();
      following.add(at);
      if (counts(e.getValue()) && members.contains(at)) {
        received.merge(at, e.getValue().received, Math::max);
      }
    }
    if (followerNodes.dropCaughtUp(settings.minAcks(), received.values(), following)) {
      tellFollowerNodes();
    }
  }

  /** Tells every follower the follower set as it is now. */
  private void tellFollowerNodes() {
    ReplicaProtocol.Followers told = followerSet();
    for (ActorRef<ReplicaProtocol.Command> r : followers.keySet()) {
      r.tell(told);
    }
  }

  private ReplicaProtocol.Followers followerSet() {
    return new ReplicaProtocol.Followers(
        term, followerNodes.seq(), followerNodes.nodes(), getContext().getSelf());
  }

  /**
   * Sends {@code replica} what its window allows of what {@code s} holds after what it was sent;
   * tells it to catch up by state transfer if {@code s} no longer holds its next version.
   */
  private void send(ActorRef<ReplicaProtocol.Command> replica, Follower follower, Snapshot s) {
    long next = follower.sent + 1;
    if (next > s.version()) {
      return;
    }
    if (next <= s.watermark()) {
      replica.tell(
          new ReplicaProtocol.NeedsTransfer(
              term, getContext().getSelf(), next, s.watermark(), s.version(), transfers, terms));
      followers.remove(replica);
      getContext().unwatch(replica);
      return;
    }
    long to = Math.min(s.version(), follower.acked + settings.replicaWindow());
    for (long from = next; from <= to; from += MAX_GROUP_VERSIONS) {
      long last = Math.min(to, from + MAX_GROUP_VERSIONS - 1);
      List<CommitRecord> commits = new ArrayList<>((int) (last - from + 1));
      for (long v = from; v <= last; v++) {
        commits.add(s.commit(v));
      }
      tell(
          replica,
          new Commits(term, committed, new CommitRecordCodec.Group(s.watermark(), commits)));
      follower.sent = last;
    }
    if (follower.sent < s.version() && follower.told < s.version()) {
      // The window is full: say how far the writer is, so the replica knows its lag.
      replica.tell(new ReplicaProtocol.Latest(s.version()));
      follower.told = s.version();
    }
  }

  /** Sends {@code message}, in chunks if larger than {@code chunk-bytes}. */
  private void tell(ActorRef<ReplicaProtocol.Command> replica, Commits message) {
    List<Chunk> parts = Chunking.split(serializer, message, ++chunkIds, settings.chunkBytes());
    if (parts.size() == 1) {
      replica.tell(message);
    } else {
      for (Chunk part : parts) {
        replica.tell(part);
      }
    }
  }

  private String name() {
    return name;
  }

  private Behavior<Command> onStop() {
    return Behaviors.stopped();
  }

  private Behavior<Command> onPostStop() {
    getContext().getLog().info("[{}] Writer of term {} stopped", name, term);
    for (Pending p : pending.values()) {
      p.replyTo()
          .tell(
              new WriterProtocol.OutcomeUnknown(
                  "the writer stopped before replication.min-acks replicas acknowledged the"
                      + " write; it may or may not survive the failover"));
    }
    for (Waiting w : waiting) {
      w.write().replyTo().tell(new Failed("the writer stopped before committing the write"));
    }
    if (unacknowledged != null) {
      unacknowledged.close();
    }
    store.close();
    return this;
  }

  /**
   * The reply that makes the sender fail as a local write failing with {@code failure} does, naming
   * the cluster store {@code storeName} (not the writer's local store) where a name is carried.
   */
  static Reply reply(Throwable failure, String storeName) {
    Throwable f =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (f instanceof ConditionFailedException c) {
      return new ConditionsFailed(c.failures());
    } else if (f instanceof StoreOverloadedException o) {
      return new Overloaded(storeName, o.maxPendingWrites());
    } else if (f instanceof IllegalArgumentException) {
      return new Invalid(String.valueOf(f.getMessage()));
    }
    return new Failed(f.getClass().getName() + ": " + f.getMessage());
  }
}
