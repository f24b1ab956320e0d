package dev.zverse.cluster;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.VersionPin;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CorruptSnapshotException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SnapshotExport;
import dev.zverse.engine.SnapshotImport;
import dev.zverse.engine.VersionCompactedException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.jspecify.annotations.Nullable;

/**
 * State transfer: a store's state at one version, with its retained history, sent from one node to
 * another in chunks; what a replica that joins late, restarts or falls behind the writer's
 * retention catches up with before it follows the commits after that version.
 *
 * <h2>Design</h2>
 *
 * The serving side is an actor next to a store ({@link #server}). On a {@link Request} it opens a
 * read transaction at the latest version and hands its pin to a {@link VersionPin}, so that the
 * version and every later one stay readable on the source (the receiver follows the commits after
 * it), then offers the snapshot as a Pekko Streams {@link SourceRef} of the engine's {@link
 * SnapshotExport} chunks. The pin is released when that stream fails in any way (failed, cancelled
 * by the receiver, or never subscribed to within {@code
 * pekko.stream.materializer.stream-ref.subscription-timeout}); after a stream that completed, it is
 * held until the receiver's node follows the writer from after the version (the writer beside the
 * server tells it, {@link #followed}), or for {@code zverse.cluster.transfer.follow-timeout}: so
 * the commits right after the version are still retained when the receiver asks for them.
 *
 * <p>Two kinds of server: the writer's, which offers its acknowledged state to replicas behind its
 * retention, and one beside every replica, which offers the replica's last published snapshot to a
 * new writer whose own node's replica is behind that replica's retention ({@link WriterElection});
 * there the replica tells {@link #followed} once the new writer fetched the versions after the
 * transferred one, or follows it.
 *
 * <p>The receiving side ({@link #receive}) asks for the offer, runs the stream ref into the
 * engine's {@link SnapshotImport} on {@code zverse.cluster.transfer.dispatcher}, and completes with
 * the snapshot, or fails with a {@link StateTransferException}.
 *
 * <h2>Memory and back-pressure</h2>
 *
 * The export writes a chunk only when the stream pulls one, and a stream ref sends only what its
 * receiver asked for: at most {@code pekko.stream.materializer.stream-ref.buffer-capacity} chunks
 * are in flight, whatever the snapshot's size. The source holds no copy of the state (the pinned
 * snapshot is the store's own, immutable); the receiver holds the snapshot it builds and the chunks
 * in flight. Chunks ({@code zverse.cluster.transfer.chunk-bytes} of snapshot bytes plus a 16-byte
 * frame) cross as byte arrays, under Artery's frame size, never through Java serialization; the
 * request and offer cross through {@link WireSerializer}.
 *
 * <h2>Failure</h2>
 *
 * A chunk the import refuses (damaged, cut, out of order) fails the transfer naming the byte
 * offset; so does a stream that ends before the snapshot does. A stream that passes no chunk for
 * {@code zverse.cluster.transfer.stall-timeout} fails, and so does one whose source node stops (the
 * stream ref watches its partner). Either way the receiver cancels its side, which lets the
 * source's stream end and release its pin.
 */
final class StateTransfer {
  private StateTransfer() {}

  /**
   * Asks the server of {@code storeName} for its state; answered with one {@link Reply}.
   *
   * @param storeName the store whose state is wanted; a server of another store refuses
   * @param term the highest term the source's node may have promised: a replica's server ({@link
   *     #replicaServer}) refuses when its node promised a higher one, because its state may then
   *     hold versions of a writer the requester does not know of ({@link #UNFENCED} for none)
   * @param replyTo receives the offer or the refusal
   */
  record Request(String storeName, long term, ActorRef<Reply> replyTo)
      implements ServerCommand, WireMessage {
    Request {
      Objects.requireNonNull(storeName, "storeName");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The term of a request that takes the source's state whatever its node promised. */
  static final long UNFENCED = Long.MAX_VALUE;

  /** The answer to a {@link Request}. */
  sealed interface Reply extends WireMessage permits Offer, Refused {}

  /**
   * The state of {@code storeName} at {@code version}, as the chunks of a {@link SnapshotExport},
   * to be subscribed to once within the stream ref's subscription timeout.
   *
   * @param storeName the store
   * @param version the version of the snapshot the chunks hold
   * @param chunks the chunks, in order
   */
  record Offer(String storeName, long version, SourceRef<byte[]> chunks) implements Reply {
    Offer {
      Objects.requireNonNull(storeName, "storeName");
      Objects.requireNonNull(chunks, "chunks");
    }
  }

  /** The server cannot offer its state (another store's server, or its store is closed). */
  record Refused(String reason) implements Reply {
    Refused {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** What a server tells about the transfers it serves; the default tells nobody. */
  interface Listener {
    /** A listener that ignores everything. */
    Listener NONE = new Listener() {};

    /**
     * The stream of {@code version} passed on a chunk of {@code bytes} bytes. Runs in the stream.
     */
    default void chunkSent(long version, int bytes) {}

    /**
     * The stream of {@code version} ended: completed, or failed or cancelled with {@code failure}.
     * Runs in the stream.
     */
    default void ended(long version, @Nullable Throwable failure) {}

    /**
     * The pin of the transfer of {@code version} is released: its stream failed or was cancelled,
     * its receiver follows, or {@code follow-timeout} passed. Runs in the server.
     */
    default void released(long version) {}
  }

  /**
   * What a server handles: a {@link Request} from any node, and from the writer beside it the news
   * that a receiver follows ({@link #followed}).
   */
  sealed interface ServerCommand permits Request, Followed, StreamEnded, HoldExpired {}

  /**
   * The replica on {@code node} asked the writer to follow from {@code from}: the writer has taken
   * it on, so a transfer to that node of a version before {@code from} needs its pin no longer.
   */
  private record Followed(Address node, long from)
      implements ServerCommand, NoSerializationVerificationNeeded {}

  /** The stream of transfer {@code id} ended: completed, or failed or cancelled with failure. */
  private record StreamEnded(long id, @Nullable Throwable failure)
      implements ServerCommand, NoSerializationVerificationNeeded {}

  /** The receiver of transfer {@code id} did not follow within {@code follow-timeout}. */
  private record HoldExpired(long id) implements ServerCommand, NoSerializationVerificationNeeded {}

  /**
   * Tells {@code server} that the replica {@code replica} asked its writer to follow from {@code
   * from}, so that the pin of a completed transfer to the replica's node can go. Called by the
   * writer beside the server after it took the replica on, never before: until then the pin is what
   * keeps version {@code from} retained. A replica's own server is told the same of a new writer
   * (then {@code replica} is the writer) once it fetched from {@code from}, or serves.
   *
   * @param server a server spawned from {@link #server}
   * @param replica the replica that asked to follow, or the new writer, on the receiving node
   * @param from the first version it asked for, at least 1; {@link Long#MAX_VALUE} releases every
   *     transfer to that node
   */
  static void followed(ActorRef<Request> server, ActorRef<?> replica, long from) {
    // The server's behavior takes its whole protocol; only Request is offered to other nodes.
    server.<ServerCommand>unsafeUpcast().tell(new Followed(replica.path().address(), from));
  }

  /**
   * The serving side of {@code store}'s state transfers.
   *
   * @param store the store whose latest state is offered; it stays open while the server runs
   * @param settings chunk size and how long a completed transfer's pin waits for its receiver
   * @return the behavior; spawn it once per store and node that serves
   */
  static Behavior<Request> server(ZVerseStore store, TransferSettings settings) {
    return server(store, settings, Listener.NONE);
  }

  /** {@link #server(ZVerseStore, TransferSettings)} that tells {@code listener} what it does. */
  static Behavior<Request> server(ZVerseStore store, TransferSettings settings, Listener listener) {
    return server(store, settings, listener, null);
  }

  /**
   * {@link #server(ZVerseStore, TransferSettings, Listener)} that offers the snapshot {@code
   * offered} gives rather than the store's latest: the writer offers only what it acknowledged
   * ({@link AcknowledgedSnapshots}).
   *
   * @param offered gives a snapshot of {@code store} to offer, or null when none may be offered yet
   *     (the request is refused, and the replica asks again); null for the store's latest
   */
  static Behavior<Request> server(
      ZVerseStore store,
      TransferSettings settings,
      Listener listener,
      @Nullable Supplier<@Nullable Snapshot> offered) {
    return server(store, settings, listener, offered, () -> 0);
  }

  /**
   * The server beside a replica, which offers the replica store's latest snapshot to a new writer
   * that cannot fetch what it lacks ({@link WriterElection}), fenced by the replica's promises: a
   * request whose term is below {@code promisedTerm} is refused. The term is read after the
   * snapshot is taken, and a replica promises a writer's term before it hands that writer's commits
   * to its store, so an offered snapshot holds no version of a term above the request's.
   *
   * @param store the replica's store
   * @param settings chunk size and how long a completed transfer's pin waits for its receiver
   * @param promisedTerm the highest term the replica's node promised, read on the server's thread
   * @return the behavior
   */
  static Behavior<Request> replicaServer(
      ZVerseStore store, TransferSettings settings, LongSupplier promisedTerm) {
    return server(store, settings, Listener.NONE, null, promisedTerm);
  }

  private static Behavior<Request> server(
      ZVerseStore store,
      TransferSettings settings,
      Listener listener,
      @Nullable Supplier<@Nullable Snapshot> offered,
      LongSupplier promisedTerm) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(promisedTerm, "promisedTerm");
    return Behaviors.<ServerCommand>setup(
            context ->
                Behaviors.withTimers(
                    timers -> {
                      context.setLoggerName(StateTransfer.class);
                      return new Server(
                          context, timers, store, settings, listener, offered, promisedTerm);
                    }))
        .narrow();
  }

  /**
   * The server of one store. A transfer's pin lives from the request until the receiver follows:
   * released when its stream fails or is cancelled, or, once its stream completed, when the writer
   * tells that the receiving node follows from after the version ({@link Followed}), or after
   * {@code follow-timeout}. Ending the pin with the stream would leave a gap: between the stream's
   * end and the receiver's follow request the store could prune the versions just after the
   * transferred one, and the receiver would be told to transfer again. Actor-confined.
   */
  private static final class Server extends AbstractBehavior<ServerCommand> {
    private final TimerScheduler<ServerCommand> timers;
    private final ZVerseStore store;
    private final TransferSettings settings;
    private final Listener listener;
    private final @Nullable Supplier<@Nullable Snapshot> offered;
    private final LongSupplier promisedTerm;
    private final Map<Long, Transfer> transfers = new HashMap<>();
    private long ids;

    /** A transfer's pin and what it waits for before it goes. */
    private static final class Transfer {
      final Address node;
      final long version;
      final VersionPin pin;
      boolean completed;
      boolean followed;

      Transfer(Address node, long version, VersionPin pin) {
        this.node = node;
        this.version = version;
        this.pin = pin;
      }
    }

    Server(
        ActorContext<ServerCommand> context,
        TimerScheduler<ServerCommand> timers,
        ZVerseStore store,
        TransferSettings settings,
        Listener listener,
        @Nullable Supplier<@Nullable Snapshot> offered,
        LongSupplier promisedTerm) {
      super(context);
      this.timers = timers;
      this.store = store;
      this.settings = settings;
      this.listener = listener;
      this.offered = offered;
      this.promisedTerm = promisedTerm;
    }

    @Override
    public Receive<ServerCommand> createReceive() {
      return newReceiveBuilder()
          .onMessage(Request.class, this::onRequest)
          .onMessage(StreamEnded.class, this::onStreamEnded)
          .onMessage(Followed.class, this::onFollowed)
          .onMessage(HoldExpired.class, this::onHoldExpired)
          .onSignal(PostStop.class, signal -> onPostStop())
          .build();
    }

    private Behavior<ServerCommand> onRequest(Request request) {
      if (!request.storeName().equals(store.name())) {
        request
            .replyTo()
            .tell(
                new Refused(
                    "this server offers store ["
                        + store.name()
                        + "], not ["
                        + request.storeName()
                        + "]"));
        return this;
      }
      String owner = "state transfer to " + request.replyTo().path().address();
      VersionPin pin;
      Snapshot snapshot;
      if (offered != null) {
        Snapshot s = offered.get();
        Optional<VersionPin> p;
        try {
          p = s == null ? Optional.empty() : store.advanced().tryPin(s.version(), owner);
        } catch (IllegalStateException | IllegalArgumentException | VersionCompactedException e) {
          // A closed store, or a version pruned since it was acknowledged (then a newer one is).
          request.replyTo().tell(new Refused(String.valueOf(e.getMessage())));
          return this;
        }
        if (s == null || p.isEmpty()) {
          request
              .replyTo()
              .tell(
                  new Refused(
                      "store ["
                          + store.name()
                          + "] has no acknowledged version to offer yet; ask again"));
          return this;
        }
        snapshot = s;
        pin = p.get();
      } else {
        try (ReadTransaction tx = store.readTransaction(owner)) {
          snapshot = tx.snapshot();
          pin = store.advanced().pin(tx, owner);
        } catch (IllegalStateException e) {
          // A closed store: an expected refusal, not an error.
          request.replyTo().tell(new Refused(String.valueOf(e.getMessage())));
          return this;
        }
      }
      long version = snapshot.version();
      // After the snapshot: a term promised before its versions were handed to the store is seen.
      long promised = promisedTerm.getAsLong();
      if (promised > request.term()) {
        pin.close();
        listener.released(version);
        request
            .replyTo()
            .tell(
                new Refused(
                    "the node promised term "
                        + promised
                        + ", above the requester's term "
                        + request.term()));
        return this;
      }
      long id = ++ids;
      ActorRef<ServerCommand> self = getContext().getSelf();
      try {
        SourceRef<byte[]> chunks =
            Source.fromIterator(() -> SnapshotExport.of(snapshot, settings.chunkBytes()))
                .map(
                    chunk -> {
                      listener.chunkSent(version, chunk.length);
                      return chunk;
                    })
                .watchTermination(
                    (notUsed, done) -> {
                      done.whenComplete(
                          (ok, failure) -> {
                            listener.ended(version, failure);
                            self.tell(new StreamEnded(id, failure));
                          });
                      return notUsed;
                    })
                .runWith(StreamRefs.sourceRef(), getContext().getSystem());
        transfers.put(id, new Transfer(request.replyTo().path().address(), version, pin));
        getContext()
            .getLog()
            .debug("[{}] offering version [{}] to [{}]", store.name(), version, request.replyTo());
        request.replyTo().tell(new Offer(store.name(), version, chunks));
      } catch (RuntimeException e) {
        pin.close();
        listener.released(version);
        request.replyTo().tell(new Refused("cannot offer version " + version + ": " + e));
      }
      return this;
    }

    private Behavior<ServerCommand> onStreamEnded(StreamEnded e) {
      Transfer t = transfers.get(e.id());
      if (t == null) {
        return this;
      }
      if (e.failure() != null || t.followed) {
        // A failed transfer is asked for again from the start; a followed one is done.
        release(e.id());
      } else {
        t.completed = true;
        timers.startSingleTimer(e.id(), new HoldExpired(e.id()), settings.followTimeout());
      }
      return this;
    }

    private Behavior<ServerCommand> onFollowed(Followed f) {
      for (Map.Entry<Long, Transfer> e : new ArrayList<>(transfers.entrySet())) {
        Transfer t = e.getValue();
        if (t.node.equals(f.node()) && t.version < f.from()) {
          if (t.completed) {
            release(e.getKey());
          } else {
            // The stream's end may reach this server after the receiver's follow request did.
            t.followed = true;
          }
        }
      }
      return this;
    }

    private Behavior<ServerCommand> onHoldExpired(HoldExpired h) {
      Transfer t = transfers.get(h.id());
      if (t != null) {
        getContext()
            .getLog()
            .info(
                "[{}] Released version {}: its receiver at {} did not follow within {}"
                    + " (zverse.cluster.transfer.follow-timeout)",
                store.name(),
                t.version,
                t.node,
                settings.followTimeout());
        release(h.id());
      }
      return this;
    }

    private void release(long id) {
      Transfer t = transfers.remove(id);
      if (t != null) {
        timers.cancel(id);
        t.pin.close();
        listener.released(t.version);
      }
    }

    private Behavior<ServerCommand> onPostStop() {
      for (Long id : new ArrayList<>(transfers.keySet())) {
        release(id);
      }
      return this;
    }
  }

  /**
   * Receives the state of {@code storeName} from {@code source}.
   *
   * @param system the receiving node
   * @param source the server of the store on the source node
   * @param storeName the store
   * @param like a snapshot of the receiving store: the received one gets its limits and Z-index
   *     options, and a key or value over its limits fails the transfer
   * @param settings timeouts and the dispatcher the snapshot is built on
   * @return the snapshot at the version the source offered, or a failure with a {@link
   *     StateTransferException}
   */
  static CompletionStage<Snapshot> receive(
      ActorSystem<?> system,
      ActorRef<Request> source,
      String storeName,
      Snapshot like,
      TransferSettings settings) {
    return receive(system, source, storeName, like, settings, Flow.create());
  }

  /**
   * {@link #receive(ActorSystem, ActorRef, String, Snapshot, TransferSettings)} with {@code tap}
   * between the stream ref and the import: how tests slow a receiver down or damage a chunk.
   */
  static CompletionStage<Snapshot> receive(
      ActorSystem<?> system,
      ActorRef<Request> source,
      String storeName,
      Snapshot like,
      TransferSettings settings,
      Flow<byte[], byte[], NotUsed> tap) {
    return receive(system, source, storeName, like, settings, UNFENCED, tap);
  }

  /**
   * {@link #receive(ActorSystem, ActorRef, String, Snapshot, TransferSettings)} from a replica's
   * server ({@link #replicaServer}), refused if its node promised a term above {@code term}.
   */
  static CompletionStage<Snapshot> receive(
      ActorSystem<?> system,
      ActorRef<Request> source,
      String storeName,
      Snapshot like,
      TransferSettings settings,
      long term) {
    return receive(system, source, storeName, like, settings, term, Flow.create());
  }

  private static CompletionStage<Snapshot> receive(
      ActorSystem<?> system,
      ActorRef<Request> source,
      String storeName,
      Snapshot like,
      TransferSettings settings,
      long term,
      Flow<byte[], byte[], NotUsed> tap) {
    CompletableFuture<Snapshot> result = new CompletableFuture<>();
    AskPattern.<Request, Reply>ask(
            source,
            replyTo -> new Request(storeName, term, replyTo),
            settings.offerTimeout(),
            system.scheduler())
        .whenComplete(
            (reply, failure) -> {
              if (failure != null) {
                result.completeExceptionally(
                    new StateTransferException(
                        storeName,
                        0,
                        "no offer from "
                            + source.path()
                            + " within "
                            + settings.offerTimeout()
                            + " (zverse.cluster.transfer.offer-timeout)",
                        unwrap(failure)));
              } else if (reply instanceof Refused r) {
                result.completeExceptionally(
                    new StateTransferException(
                        storeName, 0, source.path() + " refused: " + r.reason(), null));
              } else if (reply instanceof Offer offer) {
                try {
                  run(system, offer, like, settings, tap, source, result);
                } catch (RuntimeException | Error e) {
                  // Materializing failed (a dispatcher missing from the configuration, say): the
                  // stage must still complete, or the replica waits for it forever.
                  result.completeExceptionally(
                      new StateTransferException(
                          storeName, 0, "could not start receiving from " + source.path(), e));
                }
              }
            });
    return result;
  }

  private static void run(
      ActorSystem<?> system,
      Offer offer,
      Snapshot like,
      TransferSettings settings,
      Flow<byte[], byte[], NotUsed> tap,
      ActorRef<Request> source,
      CompletableFuture<Snapshot> result) {
    String storeName = offer.storeName();
    SnapshotImport in = SnapshotImport.into(like);
    String what = "version " + offer.version() + " from " + source.path().address();
    offer
        .chunks()
        .getSource()
        .idleTimeout(settings.stallTimeout())
        .via(tap)
        .toMat(Sink.foreach(in::accept), Keep.right())
        .withAttributes(ActorAttributes.dispatcher(settings.dispatcher()))
        .run(system)
        // On the transfer's dispatcher: Pekko's stage would run this on the JDK's default
        // executor, a thread per task on 2 cores or fewer, and building the snapshot is the
        // transfer's heaviest step.
        .whenCompleteAsync(
            (done, failure) -> {
              // The stream has ended: its last use of the import happens-before this completion.
              long at = in.position();
              if (failure != null) {
                result.completeExceptionally(failure(storeName, what, at, settings, failure));
                return;
              }
              try {
                result.complete(in.finish());
              } catch (CorruptSnapshotException e) {
                result.completeExceptionally(failure(storeName, what, at, settings, e));
              } catch (RuntimeException | Error e) {
                // Anything else building the snapshot (out of memory, say) fails the stage too.
                result.completeExceptionally(failure(storeName, what, at, settings, e));
              }
            },
            system.dispatchers().lookup(DispatcherSelector.fromConfig(settings.dispatcher())));
  }

  private static StateTransferException failure(
      String storeName, String what, long at, TransferSettings settings, Throwable failure) {
    Throwable cause = unwrap(failure);
    String message;
    if (cause instanceof CorruptSnapshotException c) {
      return new StateTransferException(
          storeName, c.offset(), what + ": a chunk refused: " + c.getMessage(), c);
    } else if (cause instanceof TimeoutException) {
      message =
          what
              + " stalled: no chunk for "
              + settings.stallTimeout()
              + " (zverse.cluster.transfer.stall-timeout) after byte "
              + at;
    } else {
      message = what + " broke off after byte " + at + ": " + cause;
    }
    return new StateTransferException(storeName, at, message, cause);
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
