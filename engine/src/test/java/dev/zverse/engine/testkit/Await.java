package dev.zverse.engine.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waiting in tests for a {@link CompletionStage} or for a polled state, turning a timeout, a
 * failure and an interrupt into an {@link AssertionError} that says which. Every module's test kit
 * waits through these, each with its own timeout.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Await {
  /** Pause between two polls of {@link #until}, in milliseconds. */
  private static final long POLL_MILLIS = 5;

  private Await() {}

  /**
   * The value {@code stage} completes with.
   *
   * @param stage the stage to wait for
   * @param timeout the longest wait
   * @param <T> the value's type
   * @return the value
   * @throws AssertionError if the stage failed (the cause is its exception), did not complete in
   *     time, or the wait was interrupted (the interrupt flag is set again)
   */
  public static <T> T result(CompletionStage<T> stage, Duration timeout) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } catch (ExecutionException e) {
      throw new AssertionError("stage failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("stage did not complete within " + timeout, e);
    }
  }

  /**
   * The exception {@code stage} completes with.
   *
   * @param stage the stage to wait for
   * @param timeout the longest wait
   * @return the exception (unwrapped from the {@link ExecutionException})
   * @throws AssertionError if the stage completed normally, did not complete in time, or the wait
   *     was interrupted (the interrupt flag is set again)
   */
  public static Throwable failure(CompletionStage<?> stage, Duration timeout) {
    try {
      Object value = stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return fail("expected a failure, got " + value);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("stage did not complete within " + timeout, e);
    }
  }

  /**
   * Polls {@code poll} every few milliseconds until its value satisfies {@code condition}.
   *
   * @param poll asked for a fresh value each time, such as an actor's stats
   * @param condition what the test waits for
   * @param what the condition in words, for the failure message
   * @param timeout the longest wait, for all polls together (each also waits at most this long)
   * @param <T> the polled value's type
   * @return the first value that satisfies {@code condition}
   * @throws AssertionError if no value did within {@code timeout}, naming {@code what} and the last
   *     value, or a poll failed
   */
  public static <T> T until(
      Supplier<CompletionStage<T>> poll, Predicate<T> condition, String what, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = result(poll.get(), timeout);
      if (condition.test(last)) {
        return last;
      }
      sleep(POLL_MILLIS);
    }
    throw new AssertionError("timed out waiting for " + what + "; last value " + last);
  }

  /**
   * Sleeps, turning an interrupt into an {@link AssertionError}.
   *
   * @param millis how long, in milliseconds, at least 0
   * @throws AssertionError if interrupted (the interrupt flag is set again)
   */
  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
