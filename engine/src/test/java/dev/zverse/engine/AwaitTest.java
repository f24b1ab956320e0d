package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.testkit.Await;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The waits every module's test kit shares: each outcome of a stage, and polling. */
class AwaitTest {
  private static final Duration LONG = Duration.ofSeconds(20);

  @Test
  void resultGivesTheValueAndFailsWithTheStagesException() {
    assertEquals("v", Await.result(CompletableFuture.completedFuture("v"), LONG));
    IllegalStateException cause = new IllegalStateException("for the test");
    AssertionError e =
        assertThrows(
            AssertionError.class, () -> Await.result(CompletableFuture.failedFuture(cause), LONG));
    assertSame(cause, e.getCause());
  }

  @Test
  void failureGivesTheExceptionAndFailsOnAValue() {
    IllegalStateException cause = new IllegalStateException("for the test");
    assertSame(cause, Await.failure(CompletableFuture.failedFuture(cause), LONG));
    AssertionError e =
        assertThrows(
            AssertionError.class, () -> Await.failure(CompletableFuture.completedFuture(7), LONG));
    assertEquals("expected a failure, got 7", e.getMessage());
  }

  @Test
  void aStageThatNeverCompletesFailsNamingTheTimeout() {
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> Await.result(new CompletableFuture<>(), Duration.ofMillis(1)));
    assertEquals("stage did not complete within PT0.001S", e.getMessage());
  }

  @Test
  void untilPollsUntilTheConditionHoldsAndElseNamesWhatItWaitedFor() {
    AtomicInteger polls = new AtomicInteger();
    int got =
        Await.until(
            () -> CompletableFuture.completedFuture(polls.incrementAndGet()),
            n -> n == 3,
            "3",
            LONG);
    assertEquals(3, got);
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () ->
                Await.until(
                    () -> CompletableFuture.completedFuture(-1),
                    n -> false,
                    "a positive number",
                    Duration.ofMillis(1)));
    assertTrue(
        e.getMessage().startsWith("timed out waiting for a positive number"), e.getMessage());
  }
}
