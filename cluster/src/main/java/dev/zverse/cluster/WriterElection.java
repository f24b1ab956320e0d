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
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import java.io.NotSerializableException;
import java.util.HashMap;
import java.util.HashSet;
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
 *       term, and the candidate proposes the term after it. The term is taken once a majority of
 *       the store's nodes promised it: the members with the writer's role that are Up or WeaklyUp
 *       when it counts, unreachable ones included in the denominator (Raft's vote, one step).
 *   <li><b>Where the cluster is.</b> Each promise carries the replica's applied version (what its
 *       readers see, acknowledged writes only), its received version, and the term it received them
 *       from. Once a majority promised, the candidate waits for the reachable rest, at most {@code
 *       follow-retry}.
 *   <li><b>Catch-up.</b> It starts from its own node's replica's latest snapshot (in this JVM, no
 *       copy) and takes the commits after it from the most advanced replica that promised (the
 *       highest received term, then version) with {@link ReplicaProtocol.Fetch}; the answer comes
 *       in chunks when large. Its local store {@code <name>-writer} opens from that state
 *       (memory-only: the node's replica is what a durable node logs), so versions continue and
 *       none is reused.
 * </ol>
 *
 * Then it becomes {@link WriterSingleton}, whose acknowledged version starts at its node's
 * replica's applied version. A refused fetch, or one unanswered for {@code ack-timeout}, starts the
 * election again with the next term.
 *
 * <p>Actor-confined.
 */
final class WriterElection extends AbstractBehavior<Command> {
  /** Writes, follows and reads that arrive while the writer starts wait here, at most this many. */
  private static final int STASH_CAPACITY = 10_000;

  /** Check whether the election can end, or a fetch took too long. */
  private enum Check implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private final String name;
  private final StoreSettings storeSettings;
  private final ClusterSettings settings;
  private final ZVerseStore local;
  private final StashBuffer<Command> stash;
  private final TimerScheduler<Command> timers;
  private final Chunking.Reassembly reassembly;

  private long term;
  private final Map<ActorRef<ReplicaProtocol.Command>, Promised> votes = new HashMap<>();

  /** When a majority first promised, in nanoseconds ({@link System#nanoTime()}); 0 before. */
  private long majorityAt;

  /** The own replica's snapshot the writer starts from, once fetching; null before. */
  private @Nullable Snapshot base;

  private long fetchStarted;

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
    this.storeSettings = storeSettings.withDurability(DurabilitySettings::withMemoryOnly);
    this.settings = settings;
    this.local = local;
    this.stash = stash;
    this.timers = timers;
    this.reassembly =
        new Chunking.Reassembly(WireSerializer.of(context.getSystem()), settings.maxMessageBytes());
    this.term = localState.promisedTerm + 1;
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
        .onMessage(Fetched.class, this::onFetched)
        .onMessage(FetchRefused.class, this::onFetchRefused)
        .onMessage(Chunk.class, this::onChunk)
        .onMessageEquals(Check.INSTANCE, this::onCheck)
        .onMessageEquals(WriterProtocol.Stop.INSTANCE, Behaviors::stopped)
        .onMessage(WriterProtocol.Ack.class, a -> this)
        .onMessage(WriterProtocol.FollowerGone.class, g -> this)
        .onAnyMessage(this::keep)
        .build();
  }

  /** Keeps {@code m} for the writer once it serves; refuses a write when the stash is full. */
  private Behavior<Command> keep(Command m) {
    if (!stash.isFull()) {
      stash.stash(m);
    } else if (m instanceof WriterProtocol.Write w) {
      w.replyTo().tell(new WriterProtocol.Failed("the writer is starting and holds too many"));
    }
    return this;
  }

  private Behavior<Command> onFollow(Follow f) {
    keep(f);
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
    return checkElected();
  }

  /** Starts over with {@code next}: the replicas' retried follows are asked again. */
  private void restart(long next) {
    term = next;
    votes.clear();
    majorityAt = 0;
    base = null;
    reassembly.reset();
  }

  private Behavior<Command> onCheck() {
    if (base != null) {
      if (System.nanoTime() - fetchStarted > settings.ackTimeout().toNanos()) {
        getContext().getLog().warn("[{}] No answer to the catch-up fetch; electing again", name);
        restart(term + 1);
      }
      return this;
    }
    return checkElected();
  }

  /** Whether a majority of the store's nodes promised, and the reachable others had their say. */
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
    Set<Address> unreachable = new HashSet<>();
    for (Member m : state.getUnreachable()) {
      unreachable.add(m.address());
    }
    Address self = cluster.selfMember().address();
    Set<Address> voters = new HashSet<>();
    for (ActorRef<ReplicaProtocol.Command> r : votes.keySet()) {
      Address a = r.path().address();
      voters.add(a.hasLocalScope() ? self : a);
    }
    voters.retainAll(nodes);
    if (voters.size() < nodes.size() / 2 + 1) {
      return this;
    }
    boolean allReachable = true;
    for (Address a : nodes) {
      allReachable &= voters.contains(a) || unreachable.contains(a);
    }
    if (!allReachable) {
      if (majorityAt == 0) {
        majorityAt = System.nanoTime();
      }
      if (System.nanoTime() - majorityAt < settings.followRetry().toNanos()) {
        return this;
      }
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
          || p.receivedTerm() > source.receivedTerm()
          || (p.receivedTerm() == source.receivedTerm() && p.received() > source.received())) {
        source = p;
      }
    }
    if (source == null || source.received() <= own.version()) {
      return serve(own);
    }
    fetchStarted = System.nanoTime();
    source
        .replica()
        .tell(
            new ReplicaProtocol.Fetch(
                term, own.version() + 1, source.received(), getContext().getSelf()));
    return this;
  }

  private Behavior<Command> onChunk(Chunk chunk) {
    if (!chunk.manifest().equals(WireSerializer.FETCHED)) {
      return keep(chunk);
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
    if (own == null || f.term() != term) {
      return this;
    }
    Transient t = own.asTransient();
    for (CommitRecord c : f.group().commits()) {
      if (c.version() > own.version()) {
        t.applyCommit(c);
      }
    }
    return serve(t.persistent());
  }

  private Behavior<Command> onFetchRefused(FetchRefused r) {
    if (base != null && r.term() == term) {
      getContext()
          .getLog()
          .warn("[{}] The catch-up fetch was refused ({}); electing again", name, r.message());
      restart(term + 1);
    }
    return this;
  }

  /** Opens the writer's store at {@code seed} and serves, with what waited in the stash. */
  private Behavior<Command> serve(Snapshot seed) {
    Snapshot own = base != null ? base : seed;
    ZVerseStore store;
    try {
      store =
          ZVerse.get(getContext().getSystem())
              .openFrom(WriterSingleton.writerStoreName(name), storeSettings, seed);
    } catch (IllegalStateException e) {
      // The previous writer's store on this node is still closing: try again on the next check.
      getContext()
          .getLog()
          .debug("[{}] The writer's store is not free yet: {}", name, e.getMessage());
      base = null;
      majorityAt = 0;
      return this;
    }
    timers.cancel(Check.INSTANCE);
    long committed = settings.minAcks() == 0 ? seed.version() : own.version();
    getContext()
        .getLog()
        .info(
            "[{}] Writer of term {} serving at version {} (its node's replica was at {})",
            name,
            term,
            seed.version(),
            own.version());
    return stash.unstashAll(
        WriterSingleton.serving(getContext(), name, store, term, committed, settings, timers));
  }
}
