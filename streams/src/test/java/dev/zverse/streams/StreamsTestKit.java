package dev.zverse.streams;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.EpochStats;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

  /** Polls the EpochActor until its stats satisfy {@code condition}. */
  static EpochStats awaitStats(ZVerseStore store, Predicate<EpochStats> condition, String what) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    EpochStats last = null;
    while (System.nanoTime() < deadline) {
      last = await(store.epochStats());
      if (condition.test(last)) {
        return last;
      }
      sleep(5);
    }
    throw new AssertionError("timed out waiting for " + what + "; last stats " + last);
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
