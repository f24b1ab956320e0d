package dev.zverse.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.EpochStats;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseSetup;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;

/**
 * An actor test kit for ZVerse tests: an actor system with quiet logging, stores opened under fresh
 * names, and waits for stages, stats and streams that fail with a message saying what did not
 * happen within {@link #TIMEOUT}.
 *
 * <p>Create one per test class and {@link #shutdown} it after the class. The kit is safe for
 * concurrent use from test threads; a {@link Pull} belongs to one thread.
 */
public final class ZVerseTestKit {
  /** How long every wait of this kit waits before failing: generous, as builds share the CPU. */
  public static final Duration TIMEOUT = Duration.ofSeconds(20);

  /** Quiet logging: warnings only, no dead-letter lines from stores closed under the test. */
  private static final Config QUIET =
      ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.log-dead-letters = off");

  private static final AtomicInteger NAMES = new AtomicInteger();

  private final ActorTestKit testKit;

  private ZVerseTestKit(ActorTestKit testKit) {
    this.testKit = testKit;
  }

  /**
   * Starts an actor system for tests.
   *
   * @param systemName the actor system's name (letters, digits and {@code -})
   * @param overrides configuration over quiet logging and then {@link ConfigFactory#load()}
   * @return the kit, whose system is running
   * @throws NullPointerException if an argument is null
   */
  public static ZVerseTestKit create(String systemName, Config overrides) {
    Objects.requireNonNull(systemName, "systemName");
    Objects.requireNonNull(overrides, "overrides");
    Config config = overrides.withFallback(QUIET).withFallback(ConfigFactory.load());
    return new ZVerseTestKit(ActorTestKit.create(systemName, config));
  }

  /**
   * Starts an actor system for tests whose {@link ZVerse} registry is created by {@code setup}, for
   * example to give every store opened by name (also by a plug-in) a manual clock.
   *
   * @param systemName the actor system's name (letters, digits and {@code -})
   * @param overrides configuration over quiet logging and then {@link ConfigFactory#load()}
   * @param setup how the system's registry opens stores by name
   * @return the kit, whose system is running
   * @throws NullPointerException if an argument is null
   */
  public static ZVerseTestKit create(String systemName, Config overrides, ZVerseSetup setup) {
    Objects.requireNonNull(systemName, "systemName");
    Objects.requireNonNull(overrides, "overrides");
    Objects.requireNonNull(setup, "setup");
    Config config = overrides.withFallback(QUIET).withFallback(ConfigFactory.load());
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            systemName,
            ActorSystemSetup.create(BootstrapSetup.create(config)).withSetup(setup));
    return new ZVerseTestKit(ActorTestKit.create(system));
  }

  /**
   * The Pekko test kit underneath, for its probes and log expectations.
   *
   * @return the test kit
   */
  public ActorTestKit testKit() {
    return testKit;
  }

  /**
   * The actor system of this kit.
   *
   * @return the system
   */
  public ActorSystem<Void> system() {
    return testKit.system();
  }

  /** Terminates the actor system and waits for it; stores still open are stopped with it. */
  public void shutdown() {
    testKit.shutdownTestKit();
  }

  /**
   * The default store settings of this kit's system ({@code zverse.store}), for stores configured
   * in code.
   *
   * @return the settings
   */
  public StoreSettings settings() {
    return StoreSettings.create(system().settings().config().getConfig("zverse.store"));
  }

  /**
   * Opens a store under a fresh name ({@code store-<n>}), so that tests sharing the system never
   * meet each other's stores.
   *
   * @param settings the store's settings
   * @return the open store
   */
  public ZVerseStore open(StoreSettings settings) {
    return ZVerseStore.open(system(), freshName("store"), settings);
  }

  /**
   * A name no other call in this JVM returned: {@code prefix} followed by {@code -} and a number.
   *
   * @param prefix the start of the name
   * @return the name
   */
  public static String freshName(String prefix) {
    return prefix + "-" + NAMES.incrementAndGet();
  }

  /**
   * The value {@code stage} completes with.
   *
   * @param stage the stage to wait for
   * @param <T> the value's type
   * @return the value
   * @throws AssertionError if it failed (with its exception as the cause) or took over {@link
   *     #TIMEOUT}
   */
  public static <T> T await(CompletionStage<T> stage) {
    return Await.result(stage, TIMEOUT);
  }

  /**
   * The exception {@code stage} completes with.
   *
   * @param stage the stage to wait for
   * @return the exception
   * @throws AssertionError if it completed normally or took over {@link #TIMEOUT}
   */
  public static Throwable awaitFailure(CompletionStage<?> stage) {
    return Await.failure(stage, TIMEOUT);
  }

  /**
   * Polls the store's EpochActor until its stats satisfy {@code condition}.
   *
   * @param store the store to poll
   * @param condition what the test waits for
   * @param what the condition in words, for the failure message
   * @return the first stats that satisfy it
   * @throws AssertionError if none did within {@link #TIMEOUT}, naming {@code what}
   */
  public static EpochStats awaitStats(
      ZVerseStore store, Predicate<EpochStats> condition, String what) {
    return Await.until(store::epochStats, condition, what, TIMEOUT);
  }

  /**
   * Runs {@code source} into a queue that asks for one element at a time (an input buffer of one),
   * counting what the source emitted, so that a test can see backpressure reach the source.
   *
   * @param source the stream to run
   * @param <T> the element type
   * @return the running stream's queue
   */
  public <T> Pull<T> pull(Source<T, NotUsed> source) {
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

  /**
   * Runs {@code source} to its end.
   *
   * @param source a finite stream
   * @param <T> the element type
   * @return every element, in order
   * @throws AssertionError if the stream failed or did not end within {@link #TIMEOUT}
   */
  public <T> List<T> collect(Source<T, NotUsed> source) {
    return await(source.runWith(Sink.seq(), system()));
  }

  /**
   * A running stream's queue and how many elements its source emitted so far.
   *
   * @param queue the queue the test pulls from
   * @param emitted elements the source emitted, pulled or not
   * @param <T> the element type
   */
  public record Pull<T>(SinkQueueWithCancel<T> queue, AtomicInteger emitted) {
    /**
     * The next element.
     *
     * @return the element
     * @throws AssertionError if the stream completed or failed instead, or took over {@link
     *     #TIMEOUT}
     */
    public T next() {
      return await(queue.pull())
          .orElseThrow(() -> new AssertionError("the stream completed, expected an element"));
    }

    /**
     * Whether the stream completed or has an element next (which this takes).
     *
     * @return true if it completed, false if it had an element
     * @throws AssertionError if the stream failed or took over {@link #TIMEOUT}
     */
    public boolean completed() {
      return await(queue.pull()).isEmpty();
    }

    /** Cancels the stream. */
    public void cancel() {
      queue.cancel();
    }
  }
}
