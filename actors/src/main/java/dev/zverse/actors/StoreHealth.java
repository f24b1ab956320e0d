package dev.zverse.actors;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Health checks of a store in the shape Pekko Management's health checks take (a {@code
 * Supplier<CompletionStage<Boolean>>}), so that an application registers them without ZVerse
 * depending on Pekko Management: wrap one in a class with a public constructor taking the classic
 * {@code ActorSystem}, and name that class under {@code pekko.management.health-checks}.
 *
 * <p><b>Readiness</b> ({@link #readiness}): the store takes writes. False until the store is open
 * (a durable store recovers its data directory first), once its log failed ({@link
 * ZVerseStore#failure()}) and once it is closed.
 *
 * <p><b>Liveness</b> ({@link #liveness}): the writer makes progress. False once writes have been
 * waiting, with none answered, for longer than a stall timeout, as measured by the store's clock
 * between successive checks; true otherwise, an idle store included.
 *
 * <p>Thread-safe: the checks may be called from any thread, concurrently. Neither sends a message
 * or blocks: each completes at once.
 */
public final class StoreHealth {
  private StoreHealth() {}

  /**
   * A readiness check of the store named {@code storeName} in {@code system}: found by name on each
   * check, so it may be registered before the store is opened.
   *
   * @param system the actor system the store is (or will be) opened in
   * @param storeName the store's name
   * @return completes at once with whether the store is open, not failed and not closed
   * @throws NullPointerException if an argument is null
   */
  public static Supplier<CompletionStage<Boolean>> readiness(
      ActorSystem<?> system, String storeName) {
    Objects.requireNonNull(system, "system");
    Objects.requireNonNull(storeName, "storeName");
    ZVerse stores = ZVerse.get(system);
    return () ->
        CompletableFuture.completedFuture(
            stores.store(storeName).map(s -> s.failure().isEmpty()).orElse(false));
  }

  /**
   * A liveness check of {@code store}'s writer: false once writes have been pending for more than
   * {@code stallTimeout} of the store's clock ({@link StoreSettings#clock()}) with none answered
   * meanwhile. Each check compares with what the previous one saw, so a stall is seen by the first
   * check at least {@code stallTimeout} after the last check that saw progress or an empty queue.
   *
   * @param store the store
   * @param stallTimeout how long pending writes may go unanswered, positive; well above the store's
   *     usual commit latency (with a durable store, its fsync)
   * @return completes at once with whether the writer is making progress
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code stallTimeout} is not positive
   */
  public static Supplier<CompletionStage<Boolean>> liveness(
      ZVerseStore store, Duration stallTimeout) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(stallTimeout, "stallTimeout");
    if (stallTimeout.isNegative() || stallTimeout.isZero()) {
      throw new IllegalArgumentException("stallTimeout must be positive, was " + stallTimeout);
    }
    return new Progress(store, stallTimeout.toMillis())::check;
  }

  /** What the previous liveness check saw. */
  private record Seen(long answered, long sinceMillis) {}

  /** The state of one liveness check. */
  private static final class Progress {
    private final ZVerseStore store;
    private final long stallMillis;
    private final AtomicReference<Seen> seen;

    Progress(ZVerseStore store, long stallMillis) {
      this.store = store;
      this.stallMillis = stallMillis;
      this.seen = new AtomicReference<>(new Seen(answered(), now()));
    }

    CompletionStage<Boolean> check() {
      long answered = answered();
      long now = now();
      Seen before = seen();
      if (store.pendingWrites() == 0 || answered != before.answered()) {
        // Progress (or nothing to do): restart the stall window. Two racing checks both saw it.
        seen.compareAndSet(before, new Seen(answered, now));
        return CompletableFuture.completedFuture(true);
      }
      return CompletableFuture.completedFuture(now - before.sinceMillis() <= stallMillis);
    }

    /** What the previous check saw. */
    // The constructor sets seen non-null and each check only replaces it by a new Seen: never
    // null, which NullAway cannot tell from AtomicReference.get.
    @SuppressWarnings("NullAway")
    private Seen seen() {
      return seen.get();
    }

    private long answered() {
      return store.metrics().answeredWrites();
    }

    private long now() {
      return store.settings().clock().millis();
    }
  }
}
