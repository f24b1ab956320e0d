package dev.zverse.actors;

import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import java.time.Instant;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The writer's apply seam, scripted per batch (by identity): pause a batch until released, or make
 * it throw, possibly after changing the transient first, to simulate a write that breaks halfway.
 */
final class ScriptedApplier implements WriterActor.Applier {
  /** What a scripted batch does before (or instead of) being applied. */
  @FunctionalInterface
  interface Action {
    /**
     * @param tx the open transient
     * @param call 1 for the first time this batch is applied, 2 for a replay, ...
     */
    void before(Transient tx, int call);
  }

  /** The exception tests inject. */
  static final class InjectedFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InjectedFault(String message) {
      super(message);
    }
  }

  private final Map<WriteBatch, Action> actions =
      Collections.synchronizedMap(new IdentityHashMap<>());
  private final Map<WriteBatch, AtomicInteger> calls =
      Collections.synchronizedMap(new IdentityHashMap<>());
  final AtomicInteger applied = new AtomicInteger();

  @Override
  public long apply(Transient tx, WriteBatch batch, Instant clockReading) {
    applied.incrementAndGet();
    Action action = actions.get(batch);
    if (action != null) {
      int call = calls.computeIfAbsent(batch, b -> new AtomicInteger()).incrementAndGet();
      action.before(tx, call);
    }
    return tx.apply(batch, clockReading);
  }

  void on(WriteBatch batch, Action action) {
    actions.put(batch, action);
  }

  /**
   * Pauses the writer on {@code batch}: counts {@code entered} down, then waits for {@code
   * release}. To pause the WriterActor, open the store with {@code writer.caller-runs} off: with it
   * on, a write sent to an idle writer pauses its own caller's thread instead.
   */
  void pause(WriteBatch batch, CountDownLatch entered, CountDownLatch release) {
    on(
        batch,
        (tx, call) -> {
          entered.countDown();
          try {
            if (!release.await(30, TimeUnit.SECONDS)) {
              throw new IllegalStateException("test never released the writer");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        });
  }

  /** Makes {@code batch} put {@code poison} into the transient and then throw {@code fault}. */
  void breakHalfway(WriteBatch batch, WriteBatch poison, RuntimeException fault) {
    on(
        batch,
        (tx, call) -> {
          tx.apply(poison);
          throw fault;
        });
  }
}
