package dev.zverse.cluster;

import dev.zverse.actors.DurabilitySettings;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.cluster.WriterProtocol.Chunk;
import dev.zverse.cluster.WriterProtocol.Command;
import dev.zverse.cluster.WriterProtocol.FetchRefused;
import dev.zverse.cluster.WriterProtocol.Fetched;
import dev.zverse.cluster.WriterProtocol.Follow;
import dev.zverse.cluster.WriterProtocol.Promised;
import dev.zverse.cluster.WriterProtocol.Write;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import java.io.NotSerializableException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.jspecify.annotations.Nullable;

/**
 * How a writer incarnation starts: it takes a term, learns where the cluster is, and starts from
 * there, before it accepts a single write (they wait in its stash meanwhile).
 *
 * <h2>Protocol</h2>
 *
 * <ol>
 *   <li><b>Term.</b> The candidate proposes the term after the highest its node's replica has
 *       promised and asks every replica that asks to follow it ({@link Follow}) to promise it
 *       ({@link ReplicaProtocol.Promise}). A replica promises only a term higher than any it
 *       promised, and from then on refuses the commits of lower terms; a refusal names the higher
 *       term, and the candidate proposes the term after it. The term is taken once a quorum of the
 *       store's nodes promised it ({@link Quorum}: max(majority, N - min-acks)), with no timeout: a
 *       candidate without its quorum waits, and logs that once. The promises must also come from a
 *       majority of the role's Up and WeaklyUp members, so a first writer at a cold start does not
 *       take its term alone. The store's nodes are the members with the writer's role, Up, WeaklyUp
 *       or unreachable, known to have opened the store (listed by the receptionist under {@link
 *       ReplicaProtocol#replicaKey}, or asked to follow), plus the nodes that followed the previous
 *       writer (the set of the highest term a promise reports, members or not).
 *   <li><b>Where the cluster is.</b> Each promise carries the replica's applied version (what its
 *       readers see, acknowledged writes only), its received version, the term that version was
 *       created in, and its history's creation terms ({@link TermBoundaries}).
 *   <li><b>Catch-up.</b> It starts from its own node's replica's latest snapshot (in this JVM, no
 *       copy) and takes the commits after it from the most up-to-date replica that promised (the
 *       highest creation term of its last received version, then the highest version: Raft's
 *       election restriction; a tail re-sent by a newer writer keeps its creation term), or from
 *       the replica that applied the most if that is beyond the source's received version (a
 *       replica whose creation terms were lost, say with a replica log recovered past damage), with
 *       {@link ReplicaProtocol.Fetch}; the answer comes in chunks when large. Its history's
 *       creation terms are the source's up to where it starts, then its own term. Its local store
 *       {@code <name>-writer} opens from that state (memory-only: the node's replica is what a
 *       durable node logs), so versions continue and none is reused.
 *   <li><b>State transfer.</b> When the source's promise says it no longer retains the version
 *       after the own replica's (its watermark is at or above it: the own replica lagged, and the
 *       source's retention pruned past it), the candidate takes the source's state instead: the
 *       source replica's last published snapshot, by state transfer ({@link StateTransfer}) from
 *       the server on the source's node named in the promise, and then the commits the source
 *       received beyond that snapshot's version, with a fetch as above. A replica shows only
 *       acknowledged versions, so the transferred version becomes the writer's acknowledged one.
 *       One transfer at a time: the election waits for it, and the transfer's own offer and stall
 *       timeouts end it if the source goes.
 * </ol>
 *
 * Then it becomes {@link WriterSingleton}, whose acknowledged version starts at its node's
 * replica's applied version (or the transferred version), and which answers linearizable reads once
 * it acknowledged the tail it took over. A refused fetch (the source's watermark may have moved
 * since its promise, which the next election's promise then reports), a failed transfer, or a fetch
 * unanswered for {@code ack-timeout}, starts the election again with the next term.
 *
 * <p>Actor-confined.
 */
final class WriterElection extends AbstractBehavior<Command> {
  /** Writes, follows and reads that arrive while the writer starts wait here, at most this many. */
  private static final int STASH_CAPACITY = 10_000;

  /** The receptionist's listing of the store's replicas: the nodes that opened the store. */
  private record Listed(Receptionist.Listing listing)
      implements Command, NoSerializationVerificationNeeded {}

  /**
   * The state transfer of term {@code term} from {@code source} ended with {@code snapshot}, or
   * with {@code failure}; {@code to} is the last version to take from the source.
   */
  private record Transferred(
      long term, Promised source, long to, @Nullable Snapshot snapshot, @Nullable Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  /** Check whether the election can end, or a fetch took too long. */
  private enum Check implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private final String name;
  private final StoreSettings storeSettings;
  private final ClusterSettings settings;
  private final ZVerseStore local;
  private final ReplicaState localState;
  private final StashBuffer<Command> stash;
  private final TimerScheduler<Command> timers;
  private final Chunking.Reassembly reassembly;

  /** Chunked writes being put together; the writer goes on with them once it serves. */
  private final ChunkedWrites chunkedWrites;

  private long term;
  private final Map<ActorRef<ReplicaProtocol.Command>, Promised> votes = new HashMap<>();

  /**
   * The latest follow of each replica, kept out of the stash: a replica asks again every {@code
   * follow-retry}, and during a long wait for a quorum its repeats would fill the stash, after
   * which writes are refused. Only the latest says where the replica is.
   */
  private final Map<ActorRef<ReplicaProtocol.Command>, Follow> follows = new LinkedHashMap<>();

  /** When this term's election began, in nanoseconds ({@link System#nanoTime()}). */
  private long termStarted;

  /** Whether this term's wait for a quorum was logged. */
  private boolean waitLogged;

  /** The nodes known to have opened the store: listed by the receptionist, or asked to follow. */
  private final Set<Address> opened = new HashSet<>();

  /** The highest term whose writer's follower nodes a promise reported, and those nodes. */
  private long followersTerm;

  /** The sequence number of {@link #previousFollowers} within {@link #followersTerm}. */
  private long followersSeq;

  private Set<Address> previousFollowers = Set.of();

  /** The own replica's snapshot the writer starts from, once fetching; null before. */
  private @Nullable Snapshot base;

  /** The creation terms of the catch-up source's history, once fetching. */
  private TermBoundaries sourceTerms = TermBoundaries.NONE;

  private long fetchStarted;

  /**
   * The term of the state transfer that runs, 0 if none: one at a time, whatever the term, and
   * while it runs the election waits for it (its own offer and stall timeouts end it, {@link
   * StateTransfer}), so no second one starts; a later term's catch-up starts once it ended.
   */
  private long transferring;

  /** Whether a catch-up fetch of the current term waits for its answer. */
  private boolean fetching;

  /** The state the writer's store could not yet be opened from; opened on the next check. */
  private @Nullable Snapshot unopened;

  private WriterElection(
      ActorContext<Command> context,
      String name,
      StoreSettings storeSettings,
      ClusterSettings settings,
      ZVerseStore local,
      ReplicaState localState,
      StashBuffer<Command> stash,
      TimerScheduler<Command> timers) {
    super(context);
    this.name = name;
    // Memory-only: a new writer starts from its node's replica. On the actor path (caller-runs
    // off): the singleton is the one caller of this store and never awaits a write, so running
    // writes on its thread would save no wake-up, but it would apply each write as a group of its
    // own on the thread that also serves replication and acknowledgements, where the store's own
    // writer groups the writes that arrive together (one publish and one replication round for
    // many) and applies them beside the singleton's work.
    this.storeSettings =
        storeSettings.withDurability(DurabilitySettings::withMemoryOnly).withCallerRuns(false);
    this.settings = settings;
    this.local = local;
    this.localState = localState;
    this.stash = stash;
    this.timers = timers;
    this.reassembly =
        new Chunking.Reassembly(WireSerializer.of(context.getSystem()), settings.maxMessageBytes());
    this.chunkedWrites =
        new ChunkedWrites(WireSerializer.of(context.getSystem()), settings.maxMessageBytes());
    this.term = localState.promisedTerm + 1;
    this.termStarted = System.nanoTime();
    context
        .getSystem()
        .receptionist()
        .tell(
            Receptionist.subscribe(
                ReplicaProtocol.replicaKey(name),
                context.messageAdapter(Receptionist.Listing.class, Listed::new)));
    timers.startTimerWithFixedDelay(Check.INSTANCE, settings.followRetry().dividedBy(4));
    context
        .getLog()
        .info("[{}] Writer starting on {}, term {}", name, context.getSystem().address(), term);
  }

  /**
   * The singleton's behavior: elects, catches up, then serves as {@link WriterSingleton}.
   *
   * @param name the store's name
   * @param storeSettings the writer's local store's settings (used memory-only)
   * @param settings the cluster settings
   * @param local this node's replica store
   * @param localState this node's replica's shared state
   * @return the behavior
   */
  static Behavior<Command> create(
      String name,
      StoreSettings storeSettings,
      ClusterSettings settings,
      ZVerseStore local,
      ReplicaState localState) {
    return Behaviors.setup(
        context -> {
          context.setLoggerName(WriterSingleton.class);
          return Behaviors.withStash(
              STASH_CAPACITY,
              stash ->
                  Behaviors.withTimers(
                      timers ->
                          new WriterElection(
                              context,
                              name,
                              storeSettings,
                              settings,
                              local,
                              localState,
                              stash,
                              timers)));
        });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Follow.class, this::onFollow)
        .onMessage(Promised.class, this::onPromised)
        .onMessage(Listed.class, this::onListed)
        .onMessage(Fetched.class, this::onFetched)
        .onMessage(FetchRefused.class, this::onFetchRefused)
        .onMessage(Transferred.class, this::onTransferred)
        .onMessage(Chunk.class, this::onChunk)
        .onMessageEquals(Check.INSTANCE, this::onCheck)
        .onMessageEquals(WriterProtocol.Stop.INSTANCE, Behaviors::stopped)
        .onMessage(WriterProtocol.Ack.class, a -> this)
        .onMessage(WriterProtocol.FollowerGone.class, g -> this)
        .onMessage(WriterProtocol.FollowersKnown.class, k -> this)
        .onAnyMessage(this::keep)
        .build();
  }

  /**
   * Keeps {@code m} for the writer once it serves. When the stash is full, a request is answered at
   * once: a write fails as overloaded (nothing written), a linearizable read as unavailable
   * (follows are kept apart, the latest of each replica: {@link #follows}).
   */
  private Behavior<Command> keep(Command m) {
    if (!stash.isFull()) {
      stash.stash(m);
    } else if (m instanceof WriterProtocol.Write w) {
      w.replyTo().tell(new WriterProtocol.Overloaded(name, STASH_CAPACITY));
    } else if (m instanceof WriterProtocol.GetLatest g) {
      g.replyTo().tell(ReplicaProtocol.Latest.UNAVAILABLE);
    }
    return this;
  }

  private Behavior<Command> onListed(Listed l) {
    for (ActorRef<ReplicaProtocol.Command> r :
        l.listing().getAllServiceInstances(ReplicaProtocol.replicaKey(name))) {
      opened.add(nodeOf(r));
    }
    return this;
  }

  /** The node {@code r} lives on, this node's address for a local reference. */
  private Address nodeOf(ActorRef<?> r) {
    Address a = r.path().address();
    return a.hasLocalScope() ? Cluster.get(getContext().getSystem()).selfMember().address() : a;
  }

  private Behavior<Command> onFollow(Follow f) {
    opened.add(nodeOf(f.replica()));
    follows.put(f.replica(), f);
    if (!votes.containsKey(f.replica())) {
      f.replica().tell(new ReplicaProtocol.Promise(term, getContext().getSelf()));
    }
    return this;
  }

  private Behavior<Command> onPromised(Promised p) {
    if (p.term() != term || base != null) {
      return this;
    }
    if (!p.granted()) {
      if (p.promisedTerm() >= term) {
        getContext()
            .getLog()
            .info("[{}] Term {} refused: a replica promised {}", name, term, p.promisedTerm());
        restart(p.promisedTerm() + 1);
      }
      return this;
    }
    votes.put(p.replica(), p);
    opened.add(nodeOf(p.replica()));
    // The newest set: an older, larger one would only make the election slower.
    if (p.followersTerm() > followersTerm
        || (p.followersTerm() == followersTerm && p.followersSeq() > followersSeq)) {
      followersTerm = p.followersTerm();
      followersSeq = p.followersSeq();
      previousFollowers = p.followers();
    }
    return checkElected();
  }

  /** Starts over with {@code next}: the replicas' retried follows are asked again. */
  private void restart(long next) {
    term = next;
    votes.clear();
    termStarted = System.nanoTime();
    waitLogged = false;
    base = null;
    unopened = null;
    fetching = false;
    reassembly.reset();
  }

  private Behavior<Command> onCheck() {
    if (transferring != 0) {
      return this;
    }
    Snapshot seed = unopened;
    if (seed != null) {
      unopened = null;
      return serve(seed);
    }
    if (base != null) {
      if (System.nanoTime() - fetchStarted > settings.ackTimeout().toNanos()) {
        getContext().getLog().warn("[{}] No answer to the catch-up fetch; electing again", name);
        restart(term + 1);
      }
      return this;
    }
    return checkElected();
  }

  /**
   * Whether a quorum of the store's nodes promised ({@link Quorum}): the store's nodes are the
   * members with the role, Up, WeaklyUp or unreachable, known to have opened the store, and the
   * nodes that followed the previous writer (the highest term a promise reported), members or not:
   * a node that left since counts, and can only be missing from the promises.
   */
  private Behavior<Command> checkElected() {
    Cluster cluster = Cluster.get(getContext().getSystem());
    ClusterEvent.CurrentClusterState state = cluster.state();
    Set<Address> nodes = new HashSet<>();
    for (Member m : state.getMembers()) {
      boolean up =
          m.status().equals(MemberStatus.up()) || m.status().equals(MemberStatus.weaklyUp());
      if (up && (settings.role().isEmpty() || m.hasRole(settings.role().get()))) {
        nodes.add(m.address());
      }
    }
    // At a cold start the store's nodes may be only this one: the role's members also need a
    // majority of promises, so a first writer does not start behind acknowledged data that durable
    // replicas restarting together hold, but have not yet said they opened.
    int members = nodes.size();
    nodes.retainAll(opened);
    nodes.addAll(previousFollowers);
    Set<Address> voters = new HashSet<>();
    for (ActorRef<ReplicaProtocol.Command> r : votes.keySet()) {
      voters.add(nodeOf(r));
    }
    voters.retainAll(nodes);
    int needed =
        Math.max(Quorum.needed(Math.max(1, nodes.size()), settings.minAcks()), members / 2 + 1);
    if (voters.size() < needed) {
      if (!waitLogged && System.nanoTime() - termStarted > settings.followRetry().toNanos()) {
        waitLogged = true;
        getContext()
            .getLog()
            .warn(
                "[{}] Term {} waits for promises: {} of the {} needed from the store's {} nodes {}"
                    + " (and a majority of the role's {} members)",
                name,
                term,
                voters.size(),
                needed,
                nodes.size(),
                nodes,
                members);
      }
      return this;
    }
    getContext()
        .getLog()
        .debug("[{}] Term {} promised by {} of {} nodes", name, term, voters.size(), nodes.size());
    return catchUp();
  }

  /** Starts from the own replica's state and fetches what the most advanced replica has beyond. */
  private Behavior<Command> catchUp() {
    Snapshot own = local.advanced().lastPublished();
    base = own;
    Promised source = null;
    for (Promised p : votes.values()) {
      if (source == null
          || TermBoundaries.newer(
              p.lastTerm(), p.received(), source.lastTerm(), source.received())) {
        source = p;
      }
    }
    if (source == null) {
      sourceTerms = localState.history;
      return serve(own);
    }
    Promised from = source;
    long to = source.received();
    TermBoundaries terms = source.terms();
    Promised furthest = null;
    for (Promised p : votes.values()) {
      if (furthest == null || p.applied() > furthest.applied()) {
        furthest = p;
      }
    }
    if (furthest != null && furthest.applied() > source.received()) {
      // A replica whose creation terms were lost (a replica log recovered past damage) still
      // reports what it applied, so Raft's rule may choose a shorter source; applied versions are
      // acknowledged by construction: take them from it. They keep the source's last creation
      // term: no writer created a different version in it, or that one would be the source's.
      from = furthest;
      to = furthest.applied();
      terms = source.terms().upTo(source.received());
    }
    if (to <= own.version()) {
      sourceTerms = localState.history;
      return serve(own);
    }
    sourceTerms = terms;
    if (own.version() < from.watermark()) {
      return transfer(from, to, own);
    }
    fetch(from, own.version() + 1, to);
    return this;
  }

  /**
   * Asks {@code from} for the commits {@code first} to {@code last}, answered within ack-timeout.
   */
  private void fetch(Promised from, long first, long last) {
    fetchStarted = System.nanoTime();
    fetching = true;
    from.replica().tell(new ReplicaProtocol.Fetch(term, first, last, getContext().getSelf()));
  }

  /**
   * The source no longer retains the version after {@code own}: takes its state by state transfer
   * ({@link StateTransfer}) from the server on its node, which offers its replica's last published
   * snapshot, then fetches what it received beyond that ({@link #onTransferred}). The transfer's
   * result comes back as a message ({@link Transferred}): nothing blocks this actor meanwhile.
   */
  private Behavior<Command> transfer(Promised from, long to, Snapshot own) {
    if (transferring != 0) {
      // An earlier term's transfer still runs: this term's catch-up starts again once it ended.
      base = null;
      return this;
    }
    if (!aboveHistory(to)) {
      // serve() would refuse this term after the transfer: a higher one is proposed before it.
      return this;
    }
    getContext()
        .getLog()
        .info(
            "[{}] Term {}: its node's replica is at version {}, and the most advanced replica, at"
                + " {}, retains only the versions after {}: taking its state by state transfer",
            name,
            term,
            own.version(),
            from.replica().path().address(),
            from.watermark());
    transferring = term;
    long transferTerm = term;
    // Fenced: the source refuses if it promised a higher term since (its state could hold a newer
    // writer's versions, which this history would label with the source's old creation terms).
    getContext()
        .pipeToSelf(
            StateTransfer.receive(
                getContext().getSystem(),
                from.transfers(),
                name,
                own,
                TransferSettings.create(getContext().getSystem()),
                transferTerm),
            (snapshot, failure) -> new Transferred(transferTerm, from, to, snapshot, failure));
    return this;
  }

  private Behavior<Command> onTransferred(Transferred t) {
    if (t.term() == transferring) {
      transferring = 0;
    }
    Snapshot own = base;
    if (own == null || t.term() != term) {
      return this;
    }
    Snapshot s = t.snapshot();
    Address source = t.source().replica().path().address();
    if (s == null) {
      getContext()
          .getLog()
          .warn(
              "[{}] The state transfer from {} (its state, with the versions after {} up to {},"
                  + " for this node's replica at {}) failed; electing again: {}",
              name,
              source,
              t.source().watermark(),
              t.source().received(),
              own.version(),
              String.valueOf(t.failure()));
      restart(term + 1);
      return this;
    }
    if (s.version() <= own.version() || s.version() > t.source().received()) {
      // The source offers its replica store's last published snapshot: acknowledged versions only,
      // by construction (a replica hands its store nothing beyond the commit index it was told),
      // so never beyond what it received; and above its watermark, which is above this node's.
      getContext()
          .getLog()
          .warn(
              "[{}] The state transfer from {} brought version {}, not in ({}, {}]; electing again",
              name,
              source,
              s.version(),
              own.version(),
              t.source().received());
      restart(term + 1);
      return this;
    }
    getContext()
        .getLog()
        .info(
            "[{}] Term {} took version {} by state transfer from {}",
            name,
            term,
            s.version(),
            source);
    // The transferred version was acknowledged: it becomes the writer's acknowledged version.
    base = s;
    if (t.to() <= s.version()) {
      return serve(s);
    }
    fetch(t.source(), s.version() + 1, t.to());
    return this;
  }

  private Behavior<Command> onChunk(Chunk chunk) {
    if (!chunk.manifest().equals(WireSerializer.FETCHED)) {
      // Put together here, so that a whole write finding the stash full is refused as such.
      Optional<Write> whole =
          chunkedWrites.accept(
              chunk, why -> getContext().getLog().warn("[{}] Dropped {}", name, why));
      return whole.isPresent() ? keep(whole.get()) : this;
    }
    if (!fetching) {
      // Part of an earlier term's answer: nothing waits for it.
      return this;
    }
    try {
      Optional<WireMessage> whole = reassembly.accept(chunk);
      if (whole.isPresent() && whole.get() instanceof Fetched f) {
        return onFetched(f);
      }
    } catch (IllegalStateException | NotSerializableException e) {
      getContext().getLog().warn("[{}] A catch-up answer was cut: {}", name, e.getMessage());
      restart(term + 1);
    }
    return this;
  }

  private Behavior<Command> onFetched(Fetched f) {
    Snapshot own = base;
    if (own == null || f.term() != term || !fetching) {
      return this;
    }
    fetching = false;
    Transient t = own.asTransient();
    for (CommitRecord c : f.group().commits()) {
      if (c.version() > own.version()) {
        t.applyCommit(c);
      }
    }
    return serve(t.persistent());
  }

  private Behavior<Command> onFetchRefused(FetchRefused r) {
    if (base != null && r.term() == term && fetching) {
      getContext()
          .getLog()
          .warn("[{}] The catch-up fetch was refused ({}); electing again", name, r.message());
      restart(term + 1);
    }
    return this;
  }

  /**
   * Whether this candidate's term is above the creation term of the source's history up to {@code
   * version}; if not (the history was extended in a term it did not outbid), it starts again with a
   * term above that one.
   */
  private boolean aboveHistory(long version) {
    TermBoundaries kept = sourceTerms.upTo(version);
    long lastKept = kept.size() == 0 ? 0 : kept.term(kept.size() - 1);
    if (lastKept < term) {
      return true;
    }
    getContext()
        .getLog()
        .info("[{}] Term {} is not above the history's term {}", name, term, lastKept);
    restart(lastKept + 1);
    return false;
  }

  /** Opens the writer's store at {@code seed} and serves, with what waited in the stash. */
  private Behavior<Command> serve(Snapshot seed) {
    Snapshot own = base != null ? base : seed;
    if (!aboveHistory(seed.version())) {
      return this;
    }
    TermBoundaries terms = sourceTerms.upTo(seed.version()).extend(seed.version(), term);
    ZVerseStore store;
    try {
      store =
          ZVerse.get(getContext().getSystem())
              .openFrom(WriterSingleton.writerStoreName(name), storeSettings, seed);
    } catch (IllegalStateException e) {
      // The previous writer's store on this node is still closing: try again on the next check,
      // with the same state (a transferred one is not transferred again).
      getContext()
          .getLog()
          .debug("[{}] The writer's store is not free yet: {}", name, e.getMessage());
      unopened = seed;
      return this;
    }
    timers.cancel(Check.INSTANCE);
    Snapshot committed = settings.minAcks() == 0 ? seed : own;
    getContext()
        .getLog()
        .info(
            "[{}] Writer of term {} serving at version {} (acknowledged up to {}; its node's"
                + " replica was at {})",
            name,
            term,
            seed.version(),
            committed.version(),
            local.advanced().lastPublished().version());
    // The kept follows reach the writer after what waited in the stash: a write stashed before them
    // waits in the writer for its replicas, and is committed once they follow.
    for (Follow f : follows.values()) {
      getContext().getSelf().tell(f);
    }
    follows.clear();
    return stash.unstashAll(
        WriterSingleton.serving(
            getContext(),
            name,
            store,
            term,
            terms,
            committed,
            seed.version(),
            settings,
            timers,
            chunkedWrites));
  }
}
