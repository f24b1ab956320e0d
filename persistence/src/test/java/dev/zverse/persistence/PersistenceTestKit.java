package dev.zverse.persistence;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.query.DeletedDurableState;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.persistence.query.UpdatedDurableState;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;

/** An actor system with the plug-in selected, and what the tests share: fresh plug-ins, waits. */
final class PersistenceTestKit {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger NAMES = new AtomicInteger();

  /** The test configuration: the plug-in selected, a serializer for {@link Cart}, fast epochs. */
  static final Config CONFIG =
      ConfigFactory.parseString(
              """
              pekko.loglevel = WARNING
              pekko.log-dead-letters = off
              pekko.persistence.state.plugin = "zverse.persistence.state"
              pekko.actor.serializers.cart = "dev.zverse.persistence.Cart$Serializer"
              pekko.actor.serialization-bindings { "dev.zverse.persistence.Cart" = cart }
              zverse.store.epoch.tick = 5ms
              zverse.stores.short-history.retention.versions = 2
              zverse.stores.small { max-key-bytes = 64, max-value-bytes = 100 }
              """)
          .withFallback(ConfigFactory.load());

  final ActorTestKit testKit;

  PersistenceTestKit() {
    this.testKit = ActorTestKit.create("zverse-persistence-test", CONFIG);
  }

  ActorSystem<Void> system() {
    return testKit.system();
  }

  void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A plug-in on a fresh memory-only store with the default store settings. */
  ZVerseDurableStateStore<Object> freshPlugin() {
    return plugin("state-" + NAMES.incrementAndGet());
  }

  /**
   * A plug-in on the store {@code storeName}, opened with its settings from {@link #CONFIG}
   * ({@code short-history} keeps 2 versions; {@code small} takes keys up to 64 bytes and values up
   * to 100).
   */
  ZVerseDurableStateStore<Object> plugin(String storeName) {
    Config block =
        ConfigFactory.parseString("store = " + storeName)
            .withFallback(CONFIG.getConfig("zverse.persistence.state"));
    ExtendedActorSystem classic = (ExtendedActorSystem) Adapter.toClassic(system());
    @SuppressWarnings("unchecked")
    ZVerseDurableStateStore<Object> store =
        (ZVerseDurableStateStore<Object>)
            new ZVerseDurableStateStoreProvider(classic, block, "test." + storeName)
                .javadslDurableStateStore();
    return store;
  }

  /**
   * Runs {@code source} into a queue that asks for one element at a time (an input buffer of one),
   * counting what the source emitted.
   */
  <T> Pull<T> pull(Source<T, NotUsed> source) {
    AtomicInteger emitted = new AtomicInteger();
    SinkQueueWithCancel<T> queue =
        source
            .map(
                e -> {
                  emitted.incrementAndGet();
                  return e;
                })
            .runWith(Sink.<T>queue().withAttributes(Attributes.inputBuffer(1, 1)), system());
    return new Pull<>(queue, emitted);
  }

  /** A stream's queue and how many elements its source emitted so far. */
  record Pull<T>(SinkQueueWithCancel<T> queue, AtomicInteger emitted) {
    /** The next element; fails if the stream completed or failed. */
    T next() {
      return await(queue.pull())
          .orElseThrow(() -> new AssertionError("the stream completed, expected an element"));
    }

    /** Whether the stream completed (true) or has an element next (false). */
    boolean completed() {
      return await(queue.pull()).isEmpty();
    }

    void cancel() {
      queue.cancel();
    }
  }

  <T> List<T> collect(Source<T, NotUsed> source) {
    return await(source.runWith(Sink.seq(), system()));
  }

  /** A change as text: {@code pid@revision=value@offset} or {@code pid@revision deleted@offset}. */
  static String describe(DurableStateChange<?> c) {
    long offset = ((Sequence) c.offset()).value();
    if (c instanceof UpdatedDurableState<?> u) {
      return u.persistenceId() + "@" + u.revision() + "=" + u.value() + "@" + offset;
    }
    DeletedDurableState<?> d = (DeletedDurableState<?>) c;
    return d.persistenceId() + "@" + d.revision() + " deleted@" + offset;
  }

  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } catch (ExecutionException e) {
      throw new AssertionError("stage failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("stage did not complete within " + TIMEOUT, e);
    }
  }

  /** The exception a stage completed with; fails if it completed normally or not in time. */
  static Throwable awaitFailure(CompletionStage<?> stage) {
    try {
      Object value = stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return fail("expected a failure, got " + value);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("stage did not complete within " + TIMEOUT, e);
    }
  }
}
