package dev.zverse.streams;

import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.EpochStats;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.testkit.Await;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;

/** An actor test kit plus what the streams tests share: fresh stores, awaiting stages and stats. */
final class StreamsTestKit {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger NAMES = new AtomicInteger();

  final ActorTestKit testKit;

  StreamsTestKit() {
    this.testKit =
        ActorTestKit.create(
            "zverse-streams-test",
            ConfigFactory.parseString(
                    "pekko.loglevel = WARNING\npekko.log-dead-letters = off\n"
                        // One thread, for tests that show a stage never blocks it.
                        + "one-thread-dispatcher { type = Dispatcher,"
                        + " executor = thread-pool-executor,"
                        + " thread-pool-executor.fixed-pool-size = 1, throughput = 1 }")
                .withFallback(ConfigFactory.load()));
  }

  ActorSystem<Void> system() {
    return testKit.system();
  }

  void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Default settings with a 5 ms epoch tick, so that pruning keeps up with the tests. */
  StoreSettings settings() {
    return StoreSettings.create(testKit.system().settings().config().getConfig("zverse.store"))
        .withEpochTick(Duration.ofMillis(5));
  }

  ZVerseStore open(StoreSettings settings) {
    return ZVerseStore.open(testKit.system(), "store-" + NAMES.incrementAndGet(), settings);
  }

  static <T> T await(CompletionStage<T> stage) {
    return Await.result(stage, TIMEOUT);
  }

  /** The exception a stage completed with; fails if it completed normally or not in time. */
  static Throwable awaitFailure(CompletionStage<?> stage) {
    return Await.failure(stage, TIMEOUT);
  }

  /** Polls the EpochActor until its stats satisfy {@code condition}. */
  static EpochStats awaitStats(ZVerseStore store, Predicate<EpochStats> condition, String what) {
    return Await.until(store::epochStats, condition, what, TIMEOUT);
  }

  static void sleep(long millis) {
    Await.sleep(millis);
  }
}
