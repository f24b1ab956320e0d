package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.LogFaults;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LogCapturingExtension.class)
class StoreHealthTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static boolean check(Supplier<CompletionStage<Boolean>> check) {
    CompletionStage<Boolean> answer = check.get();
    assertTrue(answer.toCompletableFuture().isDone(), "answers at once");
    return await(answer);
  }

  @Test
  void readinessIsFalseUntilOpenThenTrueUntilTheLogFails(@TempDir Path dir) {
    String name = StoreTestKit.freshName("ready");
    Supplier<CompletionStage<Boolean>> ready = StoreHealth.readiness(kit.testKit.system(), name);
    assertFalse(check(ready), "not open yet (a durable store is recovering until open returns)");

    ZVerseStore store =
        ZVerseStore.open(kit.testKit.system(), name, kit.settings().withDataDirectory(dir));
    assertTrue(check(ready));
    await(store.put("k", "v"));
    assertTrue(check(ready));

    LogFaults.failWrites(store.durableLog(), new IOException("disk full"));
    awaitFailure(store.put("k", "w"));
    assertFalse(check(ready), "failed: " + store.failure());
    await(store.close());
    assertFalse(check(ready), "closed");
  }

  /**
   * While a durable store recovers, its opening holds the name in the registry (so a second open is
   * refused) but no store is findable: readiness is false until the recovered store is published,
   * and a recovered store is ready with what it recovered.
   */
  @Test
  void readinessIsFalseWhileAnOpeningHoldsTheNameAndTrueOnceRecovered(@TempDir Path dir) {
    String name = StoreTestKit.freshName("recovering");
    Supplier<CompletionStage<Boolean>> ready = StoreHealth.readiness(kit.testKit.system(), name);
    ZVerseStore first =
        ZVerseStore.open(kit.testKit.system(), name, kit.settings().withDataDirectory(dir));
    await(first.put("k", "v"));
    await(first.close());

    ZVerse registry = ZVerse.get(kit.testKit.system());
    long opening = registry.reserve(name); // what StoreOpener holds while the log is replayed
    try {
      assertFalse(check(ready), "an opening that is still recovering is not ready");
    } finally {
      registry.release(name, opening);
    }
    ZVerseStore recovered =
        ZVerseStore.open(kit.testKit.system(), name, kit.settings().withDataDirectory(dir));
    assertTrue(check(ready));
    assertEquals("v", recovered.get("k"));
    await(recovered.close());
  }

  @Test
  void readinessOfAClosedMemoryStoreIsFalse() {
    ZVerseStore store = kit.open(kit.settings());
    Supplier<CompletionStage<Boolean>> ready =
        StoreHealth.readiness(kit.testKit.system(), store.name());
    assertTrue(check(ready));
    store.close();
    assertFalse(check(ready));
  }

  @Test
  void livenessFailsOnlyWhileWritesWaitPastTheStallTimeoutWithoutProgress() throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store = kit.open(kit.settings().withClock(clock).withCallerRuns(false), applier);
    Supplier<CompletionStage<Boolean>> live = StoreHealth.liveness(store, Duration.ofSeconds(5));
    assertTrue(check(live), "idle");
    clock.move(Duration.ofMinutes(1));
    assertTrue(check(live), "idle for long is still alive");

    WriteBatch stuck = WriteBatch.ofPut("k", "stuck");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(stuck, entered, release);
    CompletionStage<Long> written = store.write(stuck);
    try {
      entered.await();
      assertTrue(check(live), "pending, but the window starts now");
      clock.move(Duration.ofSeconds(5));
      assertTrue(check(live), "at the timeout, not past it");
      clock.move(Duration.ofMillis(1));
      assertFalse(check(live), "pending and unanswered past the timeout");
    } finally {
      release.countDown(); // a failed assertion must not leave the writer's thread blocked
    }
    assertEquals(1, await(written));
    assertTrue(check(live), "answered: progress");
    await(store.close());
  }

  @Test
  void livenessRefusesAStallTimeoutThatIsNotPositive() {
    ZVerseStore store = kit.open(kit.settings());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> StoreHealth.liveness(store, Duration.ZERO));
    assertEquals("stallTimeout must be positive, was PT0S", e.getMessage());
    store.close();
  }
}
