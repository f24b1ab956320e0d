package dev.zverse.persistence;

import static dev.zverse.persistence.PersistenceTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.state.DurableStateStoreRegistry;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.state.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.state.javadsl.DurableStateBehavior;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code DurableStateBehavior} keeps its state in a durable ZVerse store through the plug-in, and
 * finds it again in a new actor system on the same data directory, as after a restart.
 */
class DurableStateBehaviorTest {
  /** A counter whose state is a {@link Long}, serialized by Pekko's built-in serializer. */
  static final class Counter extends DurableStateBehavior<Counter.Command, Long> {
    interface Command {}

    record Add(long amount, ActorRef<Long> replyTo) implements Command {}

    record Get(ActorRef<Long> replyTo) implements Command {}

    static Behavior<Command> create(String id) {
      return new Counter(PersistenceId.of("Counter", id));
    }

    private Counter(PersistenceId id) {
      super(id);
    }

    @Override
    public Long emptyState() {
      return 0L;
    }

    @Override
    public String tag() {
      return "counters";
    }

    @Override
    public CommandHandler<Command, Long> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(
              Add.class,
              (state, c) -> Effect().persist(state + c.amount()).thenReply(c.replyTo(), s -> s))
          .onCommand(Get.class, (state, c) -> Effect().reply(c.replyTo(), state))
          .build();
    }
  }

  private static Config durableAt(Path directory) {
    return ConfigFactory.empty()
        .withValue(
            "zverse.stores.durable-state.durability.data-directory",
            ConfigValueFactory.fromAnyRef(directory.toString()))
        .withFallback(PersistenceTestKit.CONFIG);
  }

  private static long ask(
      ActorTestKit kit,
      ActorRef<Counter.Command> counter,
      Function<ActorRef<Long>, Counter.Command> msg) {
    TestProbe<Long> probe = kit.createTestProbe();
    counter.tell(msg.apply(probe.getRef()));
    return probe.receiveMessage(PersistenceTestKit.TIMEOUT);
  }

  @Test
  void theStateSurvivesARestartOfTheActorSystemOnADurableStore(@TempDir Path directory) {
    ActorTestKit first = ActorTestKit.create("counters", durableAt(directory));
    try {
      ActorRef<Counter.Command> a = first.spawn(Counter.create("a"));
      ActorRef<Counter.Command> b = first.spawn(Counter.create("b"));
      assertEquals(5, ask(first, a, r -> new Counter.Add(5, r)));
      assertEquals(12, ask(first, a, r -> new Counter.Add(7, r)));
      assertEquals(1, ask(first, b, r -> new Counter.Add(1, r)));
    } finally {
      first.shutdownTestKit();
    }
    try (var files = Files.list(directory)) {
      // The store wrote its log and a final checkpoint into the directory.
      assertEquals(true, files.findAny().isPresent(), "nothing was written to " + directory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }

    ActorTestKit second = ActorTestKit.create("counters", durableAt(directory));
    try {
      ActorRef<Counter.Command> a = second.spawn(Counter.create("a"));
      ActorRef<Counter.Command> b = second.spawn(Counter.create("b"));
      assertEquals(12, ask(second, a, Counter.Get::new), "a's state after the restart");
      assertEquals(1, ask(second, b, Counter.Get::new), "b's state after the restart");
      assertEquals(13, ask(second, a, r -> new Counter.Add(1, r)));
      assertEquals(3, ask(second, b, r -> new Counter.Add(2, r)));

      @SuppressWarnings("unchecked")
      ZVerseDurableStateStore<Object> store =
          DurableStateStoreRegistry.get(Adapter.toClassic(second.system()))
              .getDurableStateStoreFor(ZVerseDurableStateStore.class, "");
      assertEquals(3, await(store.getObject("Counter|a")).revision());
      assertEquals(2, await(store.getObject("Counter|b")).revision());
      List<String> changes =
          await(
                  store
                      .currentChanges("counters", Offset.noOffset())
                      .runWith(Sink.seq(), second.system()))
              .stream()
              .map(c -> PersistenceTestKit.describe(c).replaceAll("@\\d+$", ""))
              .toList();
      assertEquals(List.of("Counter|a@3=13", "Counter|b@2=3"), changes);
      // Every version of a before the restart is readable: time travel through the plug-in.
      assertEquals(5L, store.getObject("Counter|a", 1).value().get());
      assertEquals(12L, store.getObject("Counter|a", 2).value().get());
    } finally {
      second.shutdownTestKit();
    }
  }
}
