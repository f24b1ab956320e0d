package dev.zverse.cluster;

import dev.zverse.actors.StoreOverloadedException;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.cluster.WriterProtocol.Command;
import dev.zverse.cluster.WriterProtocol.ConditionsFailed;
import dev.zverse.cluster.WriterProtocol.Failed;
import dev.zverse.cluster.WriterProtocol.Invalid;
import dev.zverse.cluster.WriterProtocol.Overloaded;
import dev.zverse.cluster.WriterProtocol.Reply;
import dev.zverse.cluster.WriterProtocol.Stop;
import dev.zverse.cluster.WriterProtocol.Write;
import dev.zverse.cluster.WriterProtocol.Written;
import dev.zverse.engine.ConditionFailedException;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The writer of a cluster store: a cluster singleton that owns a local {@link ZVerseStore} on the
 * node it runs on and commits the writes every node sends it. Each write is answered exactly once,
 * with its version or with the reason the local store refused it, carried as a {@link Reply} so the
 * sender fails with the same exception type as a local write would.
 *
 * <p>Confined to its actor; the store's own writer orders the commits. The local store is closed
 * when the singleton stops (hand-over or the system's termination).
 */
final class WriterSingleton extends AbstractBehavior<Command> {
  private final ZVerseStore store;

  private WriterSingleton(ActorContext<Command> context, ZVerseStore store) {
    super(context);
    this.store = store;
  }

  /**
   * The singleton's behavior: opens the local store {@code name} when it starts.
   *
   * @param name the store's name
   * @param settings the local store's settings
   * @return the behavior
   */
  static Behavior<Command> create(String name, StoreSettings settings) {
    return Behaviors.setup(
        context -> {
          context.setLoggerName(WriterSingleton.class);
          ZVerseStore store = ZVerseStore.open(context.getSystem(), name, settings);
          context.getLog().info("[{}] Writer started on {}", name, context.getSystem().address());
          return new WriterSingleton(context, store);
        });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Write.class, this::onWrite)
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onWrite(Write write) {
    try {
      store
          .write(write.batch())
          .whenComplete(
              // ActorRef.tell is safe from any thread: the reply leaves from the store's writer.
              (version, failure) ->
                  write.replyTo().tell(failure == null ? new Written(version) : reply(failure)));
    } catch (IllegalStateException e) {
      write.replyTo().tell(new Failed(String.valueOf(e.getMessage())));
    }
    return this;
  }

  private Behavior<Command> onStop() {
    return Behaviors.stopped();
  }

  private Behavior<Command> onPostStop() {
    getContext().getLog().info("[{}] Writer stopped", store.name());
    store.close();
    return this;
  }

  /** The reply that makes the sender fail as a local write failing with {@code failure} does. */
  static Reply reply(Throwable failure) {
    Throwable f =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (f instanceof ConditionFailedException c) {
      return new ConditionsFailed(c.failures());
    } else if (f instanceof StoreOverloadedException o) {
      return new Overloaded(o.storeName(), o.maxPendingWrites());
    } else if (f instanceof IllegalArgumentException) {
      return new Invalid(String.valueOf(f.getMessage()));
    }
    return new Failed(f.getClass().getName() + ": " + f.getMessage());
  }
}
