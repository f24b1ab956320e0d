package dev.zverse.cluster;

import dev.zverse.actors.StoreFailedException;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.cluster.ReplicaProtocol.Command;
import dev.zverse.cluster.ReplicaProtocol.CommitIndex;
import dev.zverse.cluster.ReplicaProtocol.Fetch;
import dev.zverse.cluster.ReplicaProtocol.Latest;
import dev.zverse.cluster.ReplicaProtocol.NeedsTransfer;
import dev.zverse.cluster.ReplicaProtocol.Promise;
import dev.zverse.cluster.ReplicaProtocol.Refused;
import dev.zverse.cluster.ReplicaProtocol.Subscribed;
import dev.zverse.cluster.WriterProtocol.Chunk;
import dev.zverse.cluster.WriterProtocol.Commits;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Snapshot;
import java.io.IOException;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.cluster.typed.Unsubscribe;
import org.jspecify.annotations.Nullable;

/**
 * A node's replica of a cluster store: follows the writer's commits into the node's replica {@link
 * ZVerseStore}, which publishes them as a local store publishes its writes.
 *
 * <h2>Following</h2>
 *
 * The replica asks the writer, through the singleton proxy, to follow it from its next version
 * ({@link WriterProtocol.Follow}), again every {@code follow-retry} until the writer answers. The
 * answer names the writer itself, which the replica watches and acknowledges to directly. Commits
 * arrive in {@link Commits} of consecutive versions (or their chunks), are applied in order through
 * the replica store's writer, and each applied group is acknowledged with its last version, which
 * opens the writer's window for more.
 *
 * <p>The versions prove the order: a group that starts after the next version expected is a gap (a
 * message lost on the way, say while the writer moved): it is dropped and the replica asks again
 * from the version it expects, once per gap; the writer then sends from there. A group that starts
 * before it overlaps what was already received: the part already held is dropped. So the replica
 * applies every version once and in order, whatever the writer resends.
 *
 * <h2>Received, visible, and terms</h2>
 *
 * A replica acknowledges what it received ({@link WriterProtocol.Ack}) and holds it ({@link
 * ReceivedCommits}); it hands to its store, where readers see it, only what the writer declared
 * acknowledged (the commit index carried by {@link Commits} and {@link CommitIndex}). It promises
 * terms to new writers ({@link Promise}: only a term higher than any it promised), follows only a
 * writer whose term is at least the one it promised, and ignores commits of any other term: an old
 * writer cut off from the others gets no acknowledgement from it, so cannot answer a write. A new
 * writer may {@link Fetch} what it received; once it follows a new writer it keeps what it held up
 * to the first version the new writer created in another term ({@link ReceivedCommits#follow}),
 * drops from there, and follows the new writer's history. A new writer whose own node is behind
 * this replica's retention takes the replica's state from the transfer server beside it, which each
 * promise names ({@link #serveState}).
 *
 * <h2>Durable replicas</h2>
 *
 * A durable replica (its store has a data directory) keeps a {@link ReplicaLog}: what it received,
 * the term it promised and its history's creation terms are appended as they change, and forced
 * before it acknowledges a received group (one force for every group received before the force
 * runs: a {@link Flush} it sends itself queues behind them), before it asks a writer to follow it
 * (the writer counts a {@link WriterProtocol.Follow} from v as v - 1 received) and before it
 * answers a promise. So "has it" means forced to its log, and a restarted durable replica still
 * holds what it acknowledged, promises with it, and refuses terms lower than one it promised. A
 * memory-only replica has no log and acknowledges on receipt.
 *
 * <p>A replica whose next version the writer no longer retains is told so and must catch up by
 * state transfer ({@link #catchUp}), a durable one too (its replica log records the reset, forced,
 * before its store writes the state as a checkpoint and restarts its log after it). Until the
 * writer answers again, and while its node is unreachable, the replica's reads go on at the version
 * it has, and {@link ReplicaStatus} says it cannot reach the writer.
 *
 * <p>It logs under {@code dev.zverse.cluster.ReplicaActor}: a lag past the configured threshold is
 * warned about once, until the replica is back under it.
 *
 * <p>Its own timers and local messages never leave the node ({@link
 * NoSerializationVerificationNeeded}); what crosses the wire is a {@link WireMessage}.
 *
 * <p>Actor-confined; {@link ReplicaState} is what it shares.
 *
 * <p>One class of about 700 lines, because following, gap repair, terms, catching up and the lag
 * watch all turn on the same expected version, promised term and writer reference; what it holds is
 * in {@link ReceivedCommits}.
 */
final class ReplicaActor extends AbstractBehavior<Command> {
  /** Ask the writer again. */
  private enum Retry implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Update the lag and check it against the thresholds. */
  private enum Tick implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Force the replica log, then acknowledge what it holds; see the class comment. */
  private enum Flush implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** Stop following; sent by {@link ClusterStore#close()}. */
  enum Stop implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  /** The replica store applied a group up to {@code version}, or failed to. */
  private record Applied(long version, @Nullable Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  /** A state transfer that {@code offer} asked for delivered {@code snapshot}, or failed. */
  private record Received(
      NeedsTransfer offer, @Nullable Snapshot snapshot, @Nullable Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  /** A state transfer ended: the replica was reset to {@code version}, or it failed. */
  private record Transferred(long version, @Nullable Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  /** The writer the replica followed stopped, or its node left the cluster. */
  private record WriterGone(ActorRef<WriterProtocol.Command> writer)
      implements Command, NoSerializationVerificationNeeded {}

  /** A change of a member's reachability, as the cluster's failure detector sees it. */
  private record Reachability(ClusterEvent.ReachabilityEvent event)
      implements Command, NoSerializationVerificationNeeded {}

  private final String name;
  private final ZVerseStore replica;
  private final ActorRef<WriterProtocol.Command> proxy;
  private final ClusterSettings settings;
  private final ReplicaState state;
  private final TimerScheduler<Command> timers;
  private final Chunking.Reassembly reassembly;
  private final ActorRef<ClusterEvent.ReachabilityEvent> reachability;

  /** The writer itself, once it answered; null before and after it went. */
  private @Nullable ActorRef<WriterProtocol.Command> writer;

  /** What was received and not yet applied; the next version expected is its received() + 1. */
  private final ReceivedCommits received;

  /** The version last asked for with {@link WriterProtocol.Follow}, so a gap is asked for once. */
  private long askedFrom = -1;

  /** The writer's acknowledged version as last told: what the replica may show its readers. */
  private long committed;

  /** The highest term promised to a writer; commits of lower terms are refused. */
  private long promisedTerm;

  /** The writer {@link #promisedTerm} was promised to, if a promise was asked for. */
  private @Nullable ActorRef<WriterProtocol.Command> promisedTo;

  /** The term of the writer followed, 0 before one answered. */
  private long followTerm;

  /**
   * The writers followed, by term, the last {@link #WRITERS_KEPT}: a stale commit is answered with
   * {@link WriterProtocol.Fenced} also once this replica follows a newer writer (the commit names
   * its term, not its writer), so the replaced writer steps down at once.
   */
  private final TreeMap<Long, ActorRef<WriterProtocol.Command>> writers = new TreeMap<>();

  private static final int WRITERS_KEPT = 8;

  /** The last writer's watermark received, carried to the replica store with each group. */
  private long watermark;

  /** The term of {@link #followerNodes}: the highest a writer told its followers in. */
  private long followersTerm;

  /** The sequence number of {@link #followerNodes} within {@link #followersTerm}. */
  private long followersSeq;

  /** The nodes that followed the writer of {@link #followersTerm}, as it last told. */
  private Set<Address> followerNodes = Set.of();

  /** The lowest stale term refused and logged, so that each is logged once. */
  private long loggedStaleTerm;

  private final WireSerializer serializer;

  /** Whether an apply failed and the replica starts over once the others in flight are done. */
  private boolean resyncing;

  /** Groups handed to the replica store and not yet applied. */
  private int applying;

  /** The most groups handed to the replica store at once: within its bound of pending writes. */
  private final int maxApplying;

  /** Whether the lag warning was logged and the replica has not been back under it since. */
  private boolean warned;

  private boolean stopped;

  /**
   * Whether a state transfer runs, from the {@link NeedsTransfer} to the replica store's reset:
   * further {@link NeedsTransfer} answers are ignored, and the replica follows no writer meanwhile
   * (it takes no commits and no {@link Subscribed}; it still asks, so that a new writer's election
   * asks for its promise), so that nothing received while its store is reset can be dropped with
   * what the state replaces.
   */
  private boolean transferring;

  /** The version of the last state transferred here, -1 before one. */
  private long transferredTo = -1;

  /** The writer that offered the state being transferred, or the last one transferred here. */
  private @Nullable ActorRef<WriterProtocol.Command> offeredBy;

  /** The writer that offered the last state transferred here, which pinned its next version. */
  private @Nullable ActorRef<WriterProtocol.Command> transferredBy;

  /**
   * State transfers that failed in a row, none fatally: the next is asked for after a wait that
   * doubles with each ({@link TransferSettings#retryDelay}), so that a failure that lasts (a full
   * disk) does not cost a whole transfer every {@code follow-retry} for ever. 0 once a transfer
   * succeeds or the replica follows on its log.
   */
  private int failedTransfers;

  /**
   * Whether the replica waits out that back-off: its status tick, which asks again when nothing
   * arrives, leaves the asking to the {@link Retry} timer meanwhile.
   */
  private boolean backingOff;

  private final TransferSettings transferSettings;

  /** A durable replica's log; null for a memory-only replica. */
  private final @Nullable ReplicaLog log;

  /** The last version received and forced to {@link #log}: what an acknowledgement reports. */
  private long logged;

  /** Whether a {@link Flush} is on its way. */
  private boolean flushing;

  /**
   * {@link #promisedTo} as {@link ActorRefResolver} writes it, kept in the log: after a restart the
   * promise is granted again to the same writer only.
   */
  private @Nullable String promisedToName;

  /**
   * Offers this replica's last published snapshot to a new writer that cannot fetch the commits
   * after its own node's version from here ({@link WriterElection}); reported in each promise.
   */
  private final ActorRef<StateTransfer.Request> transfers;

  /** Completed once the actor stopped and closed its log: {@link ClusterStore#close()} waits. */
  private final CompletableFuture<Done> terminated;

  /** The next version expected at the last status tick: unchanged while behind is a stall. */
  private long expectedAtLastTick = -1;

  private ReplicaActor(
      ActorContext<Command> context,
      String name,
      ZVerseStore replica,
      ActorRef<WriterProtocol.Command> proxy,
      ClusterSettings settings,
      ReplicaState state,
      @Nullable ReplicaLog log,
      CompletableFuture<Done> terminated,
      TimerScheduler<Command> timers) {
    super(context);
    this.terminated = terminated;
    this.name = name;
    this.replica = replica;
    this.proxy = proxy;
    this.settings = settings;
    this.state = state;
    this.timers = timers;
    this.serializer = WireSerializer.of(context.getSystem());
    this.reassembly = new Chunking.Reassembly(serializer, settings.maxMessageBytes());
    long version = replica.advanced().lastPublished().version();
    this.received = new ReceivedCommits(version);
    this.committed = version;
    this.log = log;
    if (log != null) {
      // Held, not handed: the writer followed next declares them acknowledged again, or not.
      ReplicaLog.Recovered r = log.recovered();
      received.restore(r.history(), r.commits());
      promisedTerm = r.promisedTerm();
      promisedToName = r.promisedTo();
      state.promisedTerm = promisedTerm;
      state.history = received.history();
      state.received = received.received();
    }
    this.logged = received.received();
    this.maxApplying = Math.max(1, Math.min(16, replica.settings().maxPendingWrites()));
    this.transferSettings = TransferSettings.create(context.getSystem());
    this.transfers = serveState(context, replica, state);
    this.reachability =
        context.messageAdapter(ClusterEvent.ReachabilityEvent.class, Reachability::new);
    Cluster.get(context.getSystem())
        .subscriptions()
        .tell(Subscribe.create(reachability, ClusterEvent.ReachabilityEvent.class));
  }

  /**
   * The replica actor of {@code replica}, asking the writer behind {@code proxy} to follow it.
   *
   * @param name the cluster store's name
   * @param replica the node's replica store
   * @param proxy the writer singleton's proxy
   * @param settings the cluster settings
   * @param state what the actor shares with the facade
   * @param log a durable replica's log, opened and recovered; null for a memory-only replica
   * @param terminated completed once the actor stopped and closed {@code log}
   * @return the behavior
   */
  static Behavior<Command> create(
      String name,
      ZVerseStore replica,
      ActorRef<WriterProtocol.Command> proxy,
      ClusterSettings settings,
      ReplicaState state,
      @Nullable ReplicaLog log,
      CompletableFuture<Done> terminated) {
    return Behaviors.setup(
        context -> {
          context.setLoggerName(ReplicaActor.class);
          return Behaviors.withTimers(
              timers -> {
                ReplicaActor actor =
                    new ReplicaActor(
                        context, name, replica, proxy, settings, state, log, terminated, timers);
                // Listed, so that a starting writer counts this node among the store's nodes.
                context
                    .getSystem()
                    .receptionist()
                    .tell(
                        Receptionist.register(ReplicaProtocol.replicaKey(name), context.getSelf()));
                actor.warnIfLogNew();
                actor.askToFollow();
                timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.statusInterval());
                return actor;
              });
        });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Subscribed.class, this::onSubscribed)
        .onMessage(Commits.class, this::onCommits)
        .onMessage(Chunk.class, this::onChunk)
        .onMessage(CommitIndex.class, this::onCommitIndex)
        .onMessage(Promise.class, this::onPromise)
        .onMessage(ReplicaProtocol.Followers.class, this::onFollowers)
        .onMessage(Fetch.class, this::onFetch)
        .onMessage(Applied.class, this::onApplied)
        .onMessage(Latest.class, this::onLatest)
        .onMessage(NeedsTransfer.class, this::onNeedsTransfer)
        .onMessage(Received.class, this::onReceived)
        .onMessage(Transferred.class, this::onTransferred)
        .onMessage(Refused.class, this::onRefused)
        .onMessage(WriterGone.class, this::onWriterGone)
        .onMessage(Reachability.class, this::onReachability)
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onMessageEquals(Retry.INSTANCE, this::onRetry)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  /**
   * Warns when a durable replica with data found no replica log (its data directory predates
   * replica logs): it cannot know the term it promised before, nor what it acknowledged beyond what
   * it applied.
   */
  private void warnIfLogNew() {
    long version = received.handed();
    if (log != null && log.created() && version > 0) {
      getContext()
          .getLog()
          .warn(
              "[{}] The durable replica is at version {} but has no replica log ({}): the term it"
                  + " promised and what it acknowledged beyond its version are not known; a"
                  + " replica from before replica logs starts one now",
              name,
              version,
              log.file());
    }
  }

  /**
   * The state transfer server of this replica: it offers the replica store's latest snapshot, which
   * holds acknowledged versions only (the replica hands its store nothing beyond the commit index),
   * so a new writer that takes it starts from nothing a failover could lose. The server pins the
   * offered version until the receiving node's writer fetches the versions after it or is followed
   * ({@link StateTransfer#followed}, told from {@link #onFetch} and {@link #onSubscribed}), or for
   * {@code follow-timeout}, as it does for the writer's replicas. It refuses a writer of a term
   * below the one this replica promised since ({@link StateTransfer#replicaServer}): its state may
   * then hold versions of a newer writer, which the requester would take for its source's history.
   */
  private static ActorRef<StateTransfer.Request> serveState(
      ActorContext<Command> context, ZVerseStore replica, ReplicaState state) {
    return context.spawn(
        StateTransfer.replicaServer(
            replica, TransferSettings.create(context.getSystem()), () -> state.promisedTerm),
        "transfers");
  }

  /** The next version expected from the writer followed. */
  private long expected() {
    return received.received() + 1;
  }

  /**
   * Asks the writer (the known one, else through the proxy) to follow: from the next version
   * expected when it is the writer already followed, else from the first version not handed to the
   * store (a new writer's history decides what comes after it). Again after {@code follow-retry}
   * unless it answers.
   */
  private void askToFollow() {
    // Asked during a transfer too: a new writer's election asks for promises only the replicas
    // that asked it to follow. What answers is not followed until the store is reset (onSubscribed,
    // onCommits), and a Follow counts only what is held and forced, which the reset keeps.
    // The writer counts a Follow from v as v - 1 received, so it may acknowledge writes with it
    // alone: a durable replica forces what it received first, and asks nothing if it cannot.
    if (!syncLog()) {
      return;
    }
    logged = received.received();
    long from = writer != null ? expected() : received.handed() + 1;
    askedFrom = from;
    WriterProtocol.Follow follow =
        new WriterProtocol.Follow(
            from,
            replica.settings().maxKeyBytes(),
            replica.settings().maxValueBytes(),
            getContext().getSelf());
    (writer != null ? writer : proxy).tell(follow);
    timers.startSingleTimer(Retry.INSTANCE, settings.followRetry());
  }

  private Behavior<Command> onSubscribed(Subscribed s) {
    if (transferring) {
      // Not followed while the store is reset: the replica asks again once it is.
      timers.cancel(Retry.INSTANCE);
      return this;
    }
    if (stopped || state.failure != null) {
      return this;
    }
    if (s.term() < promisedTerm) {
      refuseStale(s.term(), s.writer());
      return this;
    }
    promise(s.term(), s.writer());
    writers.put(s.term(), s.writer());
    if (writers.size() > WRITERS_KEPT) {
      writers.pollFirstEntry();
    }
    if (s.term() != followTerm) {
      // A new writer: keep what was received up to where its history differs (Raft's log
      // matching), and apply the old term's commit index only to what is known to match.
      followTerm = s.term();
      logFollow(received.received(), received.follow(s.terms()), s.terms());
      committed = Math.min(committed, received.received());
      state.received = received.received();
      state.history = received.history();
    }
    if (!s.writer().equals(writer)) {
      // The writer serves: a transfer of this replica's state to its node is done.
      StateTransfer.followed(transfers, s.writer(), Long.MAX_VALUE);
      if (writer != null) {
        getContext().unwatch(writer);
      }
      writer = s.writer();
      getContext().watchWith(s.writer(), new WriterGone(s.writer()));
      getContext().getLog().debug("[{}] Following the writer at {}", name, s.writer().path());
    }
    timers.cancel(Retry.INSTANCE);
    state.writerReachable = true;
    knowWriterAt(s.latest());
    moveCommitted(s.latest());
    if (askedFrom != expected()) {
      askToFollow();
    }
    // Followed on the log, not by a transfer: a transfer that failed earlier (and was retried as a
    // follow) no longer makes the replica catch up, nor wait longer before it asks again.
    state.catchingUp = false;
    transferSucceededOrNotNeeded();
    state.following.complete(s.latest());
    return this;
  }

  /** Raises the promised term to {@code term}, if higher. */
  private void promise(long term, ActorRef<WriterProtocol.Command> to) {
    if (term > promisedTerm) {
      promisedTerm = term;
      promisedTo = to;
      state.promisedTerm = term;
      if (log != null) {
        promisedToName = ActorRefResolver.get(getContext().getSystem()).toSerializationFormat(to);
        log.promised(term, promisedToName);
      }
    }
  }

  /** Whether the promise of {@link #promisedTerm} went to {@code w}, before a restart too. */
  private boolean isPromisedTo(ActorRef<WriterProtocol.Command> w) {
    return w.equals(promisedTo)
        || (promisedTo == null
            && promisedToName != null
            && promisedToName.equals(
                ActorRefResolver.get(getContext().getSystem()).toSerializationFormat(w)));
  }

  /**
   * Logs that the replica follows a writer with the creation terms {@code terms}, and dropped what
   * it received from {@code dropped} on if that is at or below {@code before}, its last version
   * received until then. Forced with the next acknowledgement or promise: until one is answered,
   * nobody relies on it.
   */
  private void logFollow(long before, long dropped, TermBoundaries terms) {
    if (log != null) {
      if (dropped <= before) {
        log.truncate(dropped);
        logged = Math.min(logged, dropped - 1);
      }
      log.history(terms);
    }
  }

  /**
   * Acknowledges {@code commits}, just received: a memory-only replica at once; a durable one logs
   * them and acknowledges once a {@link Flush} forced the log.
   */
  private void acknowledgeReceived(List<CommitRecord> commits, long groupWatermark) {
    if (log == null) {
      ack();
      return;
    }
    log.received(commits, groupWatermark);
    if (!flushing) {
      flushing = true;
      getContext().getSelf().tell(Flush.INSTANCE);
    }
  }

  private Behavior<Command> onFlush() {
    flushing = false;
    if (log == null || stopped || state.failure != null || !syncLog()) {
      return this;
    }
    logged = received.received();
    if (log.needsCompaction()) {
      try {
        log.compact(promisedTerm, promisedToName, received.history(), received.held());
      } catch (IOException e) {
        failLog(e);
        return this;
      }
    }
    ack();
    return this;
  }

  /** Forces the replica log; on failure fails the replica, which then acknowledges nothing more. */
  private boolean syncLog() {
    if (log == null) {
      return true;
    }
    try {
      log.sync();
      return true;
    } catch (IOException e) {
      failLog(e);
      return false;
    }
  }

  private void failLog(IOException e) {
    if (log == null || state.failure != null) {
      return;
    }
    String why =
        "store ["
            + name
            + "]: the replica log "
            + log.file()
            + " could not be written or forced ("
            + e
            + "): the replica acknowledges and promises nothing more until it is opened again";
    getContext().getLog().warn("[{}] {}", name, why);
    state.fail(new IllegalStateException(why, e));
  }

  /**
   * Refuses a message of the stale {@code term} and tells its writer ({@code from}, if known) that
   * it was replaced, so that it steps down at once.
   */
  private void refuseStale(long term, @Nullable ActorRef<WriterProtocol.Command> from) {
    if (from != null) {
      from.tell(new WriterProtocol.Fenced(promisedTerm));
    }
    state.staleRefused.complete(term);
    if (term != loggedStaleTerm) {
      loggedStaleTerm = term;
      getContext()
          .getLog()
          .info(
              "[{}] Refused the writer of term {}: this replica promised term {}",
              name,
              term,
              promisedTerm);
    }
  }

  private Behavior<Command> onPromise(Promise p) {
    if (stopped) {
      return this;
    }
    boolean granted =
        p.term() > promisedTerm || (p.term() == promisedTerm && isPromisedTo(p.writer()));
    if (granted) {
      promise(p.term(), p.writer());
    }
    if (!syncLog()) {
      return this; // Not answered: a promise not on the disk would be forgotten by a crash.
    }
    p.writer()
        .tell(
            new WriterProtocol.Promised(
                p.term(),
                granted,
                promisedTerm,
                received.handed(),
                replica.advanced().lastPublished().watermark(),
                received.received(),
                received.receivedCreationTerm(),
                received.history(),
                followersTerm,
                followersSeq,
                followerNodes,
                getContext().getSelf(),
                transfers));
    return this;
  }

  private Behavior<Command> onFollowers(ReplicaProtocol.Followers f) {
    // The newest set wins: a later one of the same term may have dropped a removed node.
    boolean newer =
        f.term() > followersTerm || (f.term() == followersTerm && f.seq() >= followersSeq);
    if (newer && f.term() >= promisedTerm) {
      followersTerm = f.term();
      followersSeq = f.seq();
      followerNodes = f.nodes();
    }
    if (f.term() == followersTerm) {
      // The writer counts a new node's acknowledgements once every other follower knows it.
      f.writer()
          .tell(
              new WriterProtocol.FollowersKnown(
                  followersTerm, followersSeq, getContext().getSelf()));
    }
    return this;
  }

  private Behavior<Command> onFetch(Fetch f) {
    if (stopped || f.term() < promisedTerm) {
      f.writer()
          .tell(
              new WriterProtocol.FetchRefused(
                  f.term(), "the replica promised term " + promisedTerm + " or stopped"));
      return this;
    }
    Snapshot s = replica.advanced().lastPublished();
    List<CommitRecord> commits = received.fetch(s, f.from(), f.to());
    if (commits == null || commits.isEmpty() || commits.size() != f.to() - f.from() + 1) {
      f.writer()
          .tell(
              new WriterProtocol.FetchRefused(
                  f.term(),
                  "the replica holds versions "
                      + (s.watermark() + 1)
                      + " to "
                      + received.received()
                      + ", not "
                      + f.from()
                      + " to "
                      + f.to()));
      return this;
    }
    WriterProtocol.Fetched answer =
        new WriterProtocol.Fetched(f.term(), new CommitRecordCodec.Group(s.watermark(), commits));
    List<Chunk> parts = Chunking.split(serializer, answer, f.from(), settings.chunkBytes());
    if (parts.size() == 1) {
      f.writer().tell(answer);
    } else {
      for (Chunk part : parts) {
        f.writer().tell(part);
      }
    }
    // A writer that took this replica's state fetches what follows it: the pin may go.
    StateTransfer.followed(transfers, f.writer(), f.from());
    return this;
  }

  private Behavior<Command> onChunk(Chunk chunk) {
    try {
      Optional<WireMessage> whole = reassembly.accept(chunk);
      if (whole.isPresent() && whole.get() instanceof Commits c) {
        return onCommits(c);
      }
    } catch (IllegalStateException | NotSerializableException e) {
      // A lost part: the versions it carried are a gap, asked for again when the next group comes.
      getContext().getLog().debug("[{}] Dropped a chunked group: {}", name, e.getMessage());
    }
    return this;
  }

  private Behavior<Command> onCommits(Commits c) {
    if (stopped || resyncing || state.failure != null || transferring) {
      return this;
    }
    if (c.term() < promisedTerm) {
      // Fencing: a writer of a lower term than promised, even the one followed until now.
      refuseStale(c.term(), writers.get(c.term()));
      return this;
    }
    if (c.term() != followTerm) {
      // Not followed (yet): its Subscribed comes first, so no commit of the followed one is lost.
      return this;
    }
    CommitRecordCodec.Group group = c.group();
    long first = group.firstVersion();
    long last = first + group.commits().size() - 1;
    knowWriterAt(last);
    state.knowCommitTimes(group.commits().get(0), group.commits().get(group.commits().size() - 1));
    watermark = Math.max(watermark, group.watermark());
    long expected = expected();
    if (last >= expected && first > expected) {
      // A gap: ask once for what is missing; the writer sends again from there.
      if (askedFrom != expected) {
        getContext()
            .getLog()
            .debug("[{}] Versions {} to {} are missing; asking again", name, expected, first - 1);
        askToFollow();
      }
    } else if (last >= expected) {
      List<CommitRecord> commits = group.commits();
      if (first < expected) {
        commits = commits.subList((int) (expected - first), commits.size());
      }
      received.add(commits);
      state.received = received.received();
      acknowledgeReceived(commits, group.watermark());
    }
    moveCommitted(c.committed());
    return this;
  }

  private Behavior<Command> onCommitIndex(CommitIndex ci) {
    if (ci.term() < promisedTerm) {
      refuseStale(ci.term(), writers.get(ci.term()));
    } else if (ci.term() == followTerm) {
      moveCommitted(ci.committed());
    }
    return this;
  }

  /** The writer followed acknowledged up to {@code version}: hand what it may to the store. */
  private void moveCommitted(long version) {
    if (version > committed) {
      committed = version;
    }
    applyReceived();
  }

  /** Tells the writer followed what this replica received and applied. */
  private void ack() {
    if (writer != null) {
      writer.tell(
          new WriterProtocol.Ack(
              followTerm,
              log == null ? received.received() : Math.min(logged, received.received()),
              state.applied(),
              getContext().getSelf()));
    }
  }

  /**
   * Hands received groups up to the acknowledged version to the replica store, in order, as many as
   * it may hold pending.
   */
  private void applyReceived() {
    // Nothing is handed while the store is being reset: the transferred state replaces it.
    while (applying < maxApplying && !resyncing && !transferring) {
      CommitRecordCodec.Group g =
          received.nextGroup(committed, Math.min(watermark, received.handed()));
      if (g == null) {
        return;
      }
      applying++;
      getContext()
          .pipeToSelf(
              replica.advanced().applyCommits(g),
              (version, failure) -> new Applied(version == null ? -1 : version, failure));
    }
  }

  private Behavior<Command> onApplied(Applied a) {
    applying--;
    if (a.failure() != null) {
      if (stopped || replica.isClosed()) {
        return this;
      }
      if (!resyncing) {
        // Refused (overloaded, say): what was handed after it cannot follow; start over.
        resyncing = true;
        getContext()
            .getLog()
            .warn(
                "[{}] Applying commits failed at version {}; following again from there: {}",
                name,
                state.applied(),
                a.failure().getMessage());
      }
    } else {
      received.applied(a.version());
      ack();
    }
    if (resyncing && applying == 0) {
      // Hand again from the applied version; what was received stays held (it may be one of the
      // min-acks copies of an acknowledged write).
      resyncing = false;
      received.rewindHanded();
    }
    applyReceived();
    return this;
  }

  private Behavior<Command> onLatest(Latest l) {
    knowWriterAt(l.version());
    return this;
  }

  private Behavior<Command> onNeedsTransfer(NeedsTransfer n) {
    if (stopped || state.failure != null) {
      return this;
    }
    if (n.term() < promisedTerm) {
      // Fenced as its commits are: its state may lack what a newer writer acknowledged.
      refuseStale(n.term(), n.writer());
      return this;
    }
    if (!transferring && n.next() == transferredTo + 1 && n.writer().equals(transferredBy)) {
      // The writer that offered the state pinned its next version; a writer elected since did
      // not, so its answer says nothing about follow-timeout.
      getContext()
          .getLog()
          .warn(
              "[{}] The writer no longer retains version {}, right after this replica was reset to"
                  + " a state at version {} that it offered: its pin of that version possibly"
                  + " ended before the replica asked to follow on (or its store pruned past it for"
                  + " another reason); if this repeats, give the writer's node a"
                  + " zverse.cluster.transfer.follow-timeout above the time this replica takes to"
                  + " receive and reset to a state",
              name,
              n.next(),
              transferredTo);
    }
    timers.cancel(Retry.INSTANCE);
    knowWriterAt(n.latest());
    catchUp(n);
    return this;
  }

  /**
   * The writer no longer retains this replica's next version: the replica receives the writer's
   * state at its latest version V by state transfer ({@link StateTransfer}), is reset to it, and
   * follows from V + 1. Meanwhile its reads answer at the version it has, and its status says it is
   * catching up. A transfer that fails is logged and the replica asks to follow again after {@code
   * follow-retry}: the writer then answers with another transfer, or with commits if it can.
   *
   * <p>A durable replica is reset too: its replica log first records the reset and is forced
   * ({@link #onReceived}), then its store writes the state as a checkpoint and restarts its log
   * after V ({@link dev.zverse.actors.AdvancedOperations#resetTo}); it keeps the state's history
   * from the writer's watermark, as a memory-only replica does.
   *
   * @param n the writer's answer: the version asked for, what it retains, its transfer server and
   *     the creation terms of its history
   */
  private void catchUp(NeedsTransfer n) {
    if (transferring) {
      return;
    }
    transferring = true;
    state.catchingUp = true;
    getContext()
        .getLog()
        .info(
            "[{}] The replica at version {} catches up by state transfer: the writer retains"
                + " versions {} to {}",
            name,
            n.next() - 1,
            n.watermark() + 1,
            n.latest());
    CompletionStage<Snapshot> transfer =
        StateTransfer.receive(
            getContext().getSystem(),
            n.source(),
            WriterSingleton.writerStoreName(name),
            replica.advanced().lastPublished(),
            transferSettings);
    getContext().pipeToSelf(transfer, (snapshot, failure) -> new Received(n, snapshot, failure));
  }

  /**
   * The transferred state arrived: the replica takes the history it is part of, logs that (forced)
   * if durable, then resets its store to the state ({@link #onTransferred} follows on).
   *
   * <p>A state of a writer whose term is below one this replica promised since (or follows) is
   * dropped and the replica asks again: that writer may have been replaced, and its history's
   * creation terms would overwrite the newer writer's, logged as this replica's. Otherwise the
   * replica promises the writer's term (as following it would), so no older writer can be followed
   * on top of the state.
   *
   * <p>The creation terms come from the writer's offer ({@link NeedsTransfer#terms()}): the state
   * is the writer's own at a version of its history, and a writer's boundaries never change during
   * its term, so they are exactly the terms of every version the state holds, and of every commit
   * the writer sends after it. Waiting for the {@link ReplicaProtocol.Subscribed} that follows
   * would be too late: the {@link WriterProtocol.Follow} that asks for it already acknowledges V,
   * and a replica that crashed in between would promise V with its old history's term for it.
   *
   * <p>What it held is kept as a new writer's history keeps it ({@link ReceivedCommits#follow}): up
   * to the first version whose creation term differs. A held version may be one of the min-acks
   * copies of an acknowledged write, so it goes only once the store's reset is durable and the
   * state holds it ({@link ReplicaLog#based}); a crash before then recovers the old state with it.
   */
  private Behavior<Command> onReceived(Received r) {
    Snapshot snapshot = r.snapshot();
    NeedsTransfer n = r.offer();
    if (snapshot == null || stopped || state.failure != null) {
      Throwable failure = r.failure();
      return onTransferred(
          new Transferred(
              -1, failure != null ? failure : new IllegalStateException("the replica stopped")));
    }
    if (n.term() < promisedTerm || n.term() < followTerm) {
      getContext()
          .getLog()
          .info(
              "[{}] Dropped the state at version {} transferred from the writer of term {}: this"
                  + " replica promised term {} since; asking again",
              name,
              snapshot.version(),
              n.term(),
              promisedTerm);
      transferring = false;
      state.catchingUp = false; // until a writer answers with another transfer
      askToFollow();
      return this;
    }
    promise(n.term(), n.writer());
    long before = received.received();
    long dropped = received.follow(n.terms());
    state.received = received.received();
    state.history = received.history();
    if (log != null) {
      log.rebase(dropped, n.terms());
      if (dropped <= before) {
        logged = Math.min(logged, dropped - 1);
      }
      if (!syncLog()) {
        transferring = false;
        return this; // failed: a store reset the log does not know of could be promised wrongly
      }
    }
    offeredBy = n.writer();
    if (writer != null && !writer.equals(n.writer())) {
      // The writer followed until now did not offer the state: ask the proxy once it is reset.
      getContext().unwatch(writer);
      writer = null;
    }
    getContext()
        .pipeToSelf(
            replica.advanced().resetTo(snapshot),
            (version, failure) -> new Transferred(version == null ? -1 : version, failure));
    return this;
  }

  private Behavior<Command> onTransferred(Transferred t) {
    transferring = false;
    if (stopped || state.failure != null) {
      return this;
    }
    Throwable failure = t.failure();
    if (failure instanceof CompletionException && failure.getCause() != null) {
      failure = failure.getCause();
    }
    if (failure instanceof StoreFailedException storeFailed) {
      // Its log may hold the state or the one before: only a reopen knows. Transferring again
      // would fail again, for ever.
      String why =
          "store ["
              + name
              + "]: the replica store failed while it was reset to a transferred state and takes"
              + " nothing more until it is opened again: "
              + storeFailed.getMessage();
      getContext().getLog().warn("[{}] {}", name, why);
      state.fail(new IllegalStateException(why, storeFailed));
      return this;
    }
    if (failure != null) {
      failedTransfers =
          failedTransfers == Integer.MAX_VALUE ? failedTransfers : failedTransfers + 1;
      state.failedTransfers = failedTransfers;
      Duration wait = transferSettings.retryDelay(settings.followRetry(), failedTransfers);
      backingOff = true;
      getContext()
          .getLog()
          .warn(
              "[{}] State transfer failed ({} in a row); asking the writer again in {} ms: {}",
              name,
              failedTransfers,
              wait.toMillis(),
              failure.toString());
      timers.startSingleTimer(Retry.INSTANCE, wait);
      return this;
    }
    getContext().getLog().info("[{}] The replica was reset to version {}", name, t.version());
    state.catchingUp = false;
    transferSucceededOrNotNeeded();
    transferredTo = t.version();
    transferredBy = offeredBy;
    // The state holds what was held up to its version; what was held after it follows it.
    received.applied(t.version());
    state.received = received.received();
    if (log != null) {
      log.based(t.version());
    }
    committed = Math.max(committed, t.version());
    askToFollow();
    return this;
  }

  private Behavior<Command> onRefused(Refused r) {
    if (stopped || state.failure != null) {
      return this;
    }
    timers.cancel(Retry.INSTANCE);
    getContext().getLog().warn("[{}] The writer refused this replica: {}", name, r.message());
    state.fail(new IllegalStateException(r.message()));
    return this;
  }

  private Behavior<Command> onWriterGone(WriterGone gone) {
    if (!gone.writer().equals(writer)) {
      return this;
    }
    writer = null;
    state.writerReachable = false;
    reassembly.reset();
    if (!stopped && state.failure == null) {
      getContext().getLog().info("[{}] The writer stopped; asking its successor", name);
      askToFollow();
    }
    return this;
  }

  private Behavior<Command> onReachability(Reachability r) {
    ActorRef<WriterProtocol.Command> w = writer;
    if (w == null) {
      return this;
    }
    Address at = w.path().address();
    if (at.hasLocalScope()) {
      at = Cluster.get(getContext().getSystem()).selfMember().address();
    }
    if (r.event().member().address().equals(at)) {
      state.writerReachable = r.event() instanceof ClusterEvent.ReachableMember;
    }
    return this;
  }

  /** The back-off after failed transfers ends: the next failure waits {@code follow-retry}. */
  private void transferSucceededOrNotNeeded() {
    failedTransfers = 0;
    state.failedTransfers = 0;
    backingOff = false;
  }

  private Behavior<Command> onRetry() {
    backingOff = false;
    if (!stopped && state.failure == null) {
      askToFollow();
    }
    return this;
  }

  private Behavior<Command> onTick() {
    // A lost group leaves the writer's window full, and no later group would show the gap: a
    // replica that knows of versions it has not received, holds none in hand, and has not moved
    // since the last tick asks to follow again from where it is.
    if (!stopped
        && state.failure == null
        && !transferring
        && !backingOff
        && writer != null
        && state.writerVersion >= expected()
        && applying == 0
        && expected() == expectedAtLastTick) {
      getContext()
          .getLog()
          .debug("[{}] No commit arrived since version {}; asking again", name, expected() - 1);
      askToFollow();
    }
    expectedAtLastTick = expected();
    ReplicaStatus s = state.status();
    boolean over =
        s.lagVersions() > settings.lagWarningVersions()
            || s.lagTime().compareTo(settings.lagWarningTime()) > 0;
    if (over && !warned) {
      warned = true;
      getContext()
          .getLog()
          .warn(
              "[{}] The replica lags the writer by {} versions and {} ms (thresholds {} and {} ms)",
              name,
              s.lagVersions(),
              s.lagTime().toMillis(),
              settings.lagWarningVersions(),
              settings.lagWarningTime().toMillis());
    } else if (!over && warned) {
      warned = false;
      getContext().getLog().info("[{}] The replica is back under its lag thresholds", name);
    }
    return this;
  }

  private Behavior<Command> onStop() {
    return Behaviors.stopped();
  }

  private Behavior<Command> onPostStop() {
    stopped = true;
    Cluster.get(getContext().getSystem()).subscriptions().tell(new Unsubscribe<>(reachability));
    if (log != null) {
      try {
        log.close();
      } catch (IOException e) {
        getContext().getLog().debug("[{}] Closing the replica log failed: {}", name, e.toString());
      }
    }
    terminated.complete(Done.getInstance());
    return this;
  }

  /** The writer is at {@code version} at least. */
  private void knowWriterAt(long version) {
    if (version > state.writerVersion) {
      state.writerVersion = version;
    }
  }
}
