package dev.zverse.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.engine.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An actor test kit plus what the store tests share: fresh store names, awaiting stages and stats.
 *
 * <p>It is a JUnit 5 extension: a test class keeps one in a static field with
 * {@code @RegisterExtension}, its actor system starts with the class and is shut down after it.
 * (jqwik runs no JUnit extensions: a property class shuts its kit down in {@code @AfterContainer}.)
 */
final class StoreTestKit implements AfterAllCallback {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static final AtomicInteger NAMES = new AtomicInteger();

  final ActorTestKit testKit;

  private StoreTestKit(ActorTestKit testKit) {
    this.testKit = testKit;
  }

  static StoreTestKit create() {
    return create(ConfigFactory.empty());
  }

  static StoreTestKit create(Config overrides) {
    Config config =
        overrides
            .withFallback(
                ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.log-dead-letters = off"))
            .withFallback(ConfigFactory.load());
    return new StoreTestKit(ActorTestKit.create("zverse-test", config));
  }

  void shutdown() {
    testKit.shutdownTestKit();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    shutdown();
  }

  /** Puts versions {@code from} to {@code to} of key {@code k}, one write each, in order. */
  static void putVersions(ZVerseStore store, int from, int to) {
    for (int i = from; i <= to; i++) {
      await(store.put("k", "v" + i));
    }
  }

  /** Default settings of this test kit's actor system, for stores configured in code. */
  StoreSettings settings() {
    return StoreSettings.create(testKit.system().settings().config().getConfig("zverse.store"));
  }

  static String freshName(String prefix) {
    return prefix + "-" + NAMES.incrementAndGet();
  }

  ZVerseStore open(StoreSettings settings) {
    return ZVerseStore.open(testKit.system(), freshName("store"), settings);
  }

  ZVerseStore open(StoreSettings settings, WriterActor.Applier applier) {
    return ZVerseStore.open(testKit.system(), freshName("store"), settings, applier);
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

  /** The work of one of {@link #onThreads}' threads. */
  interface ThreadBody {
    void run(int id) throws Exception;
  }

  /**
   * Runs {@code body} on {@code threads} new threads ({@code id} 0 to {@code threads - 1}),
   * released together by a barrier; returns when all are done, and throws the first failure of any
   * of them.
   */
  static void onThreads(int threads, ThreadBody body) throws InterruptedException {
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread worker =
          new Thread(
              () -> {
                try {
                  start.await();
                  body.run(id);
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      workers.add(worker);
      worker.start();
    }
    for (Thread worker : workers) {
      worker.join();
    }
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError(failures.size() + " thread(s) failed", failures.get(0));
      failures.stream().skip(1).forEach(e::addSuppressed);
      throw e;
    }
  }
}
