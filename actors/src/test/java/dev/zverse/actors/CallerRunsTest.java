package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.WriteBatch;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a write runs: on its caller's thread when the writer is idle and caller-runs is on, on the
 * WriterActor otherwise; and what the actor does with messages that arrive meanwhile.
 */
@ExtendWith(LogCapturingExtension.class)
class CallerRunsTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /** Records the thread that applied the last batch. */
  private static final class ThreadRecorder implements WriterActor.Applier {
    final AtomicReference<Thread> last = new AtomicReference<>();

    @Override
    public long apply(
        dev.zverse.engine.Transient tx, WriteBatch batch, java.time.Instant clockReading) {
      last.set(Thread.currentThread());
      return tx.apply(batch, clockReading);
    }
  }

  @Test
  void aWriteToAnIdleWriterIsPublishedOnItsCallersThreadBeforePutReturns() {
    ThreadRecorder applier = new ThreadRecorder();
    ZVerseStore store = kit.open(kit.settings().withCallerRuns(true), applier);
    for (int i = 1; i <= 3; i++) {
      // Idle: the writer started (it may still be starting when the store opens) and nothing is
      // pending or being handled; nothing else sends it a message in this test.
      awaitIdle(store);
      CompletionStage<Long> put = store.put("k", "v" + i);
      assertTrue(put.toCompletableFuture().isDone(), "answered before put returned");
      assertEquals(i, await(put));
      assertSame(Thread.currentThread(), applier.last.get());
      assertEquals("v" + i, store.get("k"), "published before put returned");
    }
    assertEquals(3, store.metrics().callerRunWrites());
    await(store.close());
  }

  /** Waits until no write is pending and nobody owns the writer's state. */
  static void awaitIdle(ZVerseStore store) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!store.gate().ownerless()) {
      assertTrue(System.nanoTime() < deadline, "the writer never became idle");
      Thread.onSpinWait();
    }
  }

  @Test
  void aMemoryOnlyStoreRunsAWriteOnItsCallerByDefault() {
    ThreadRecorder applier = new ThreadRecorder();
    ZVerseStore store = kit.open(kit.settings(), applier);
    assertTrue(store.settings().callerRuns(), "on by default");
    awaitIdle(store);
    CompletionStage<Long> put = store.put("k", "v");
    assertTrue(put.toCompletableFuture().isDone(), "answered before put returned");
    assertEquals(1, await(put));
    assertSame(Thread.currentThread(), applier.last.get());
    assertEquals(1, store.metrics().callerRunWrites());
    await(store.close());
  }

  @Test
  void withCallerRunsOffEveryWriteGoesToTheActor() {
    ThreadRecorder applier = new ThreadRecorder();
    ZVerseStore store = kit.open(kit.settings().withCallerRuns(false), applier);
    awaitIdle(store);
    assertEquals(1, await(store.put("k", "v")));
    assertNotSame(Thread.currentThread(), applier.last.get());
    assertEquals(0, store.metrics().callerRunWrites());
    await(store.close());
  }

  @Test
  void aDurableStoreNeverRunsAWriteOnItsCaller(@TempDir Path dir) {
    ThreadRecorder applier = new ThreadRecorder();
    ZVerseStore store =
        kit.open(kit.settings().withCallerRuns(true).withDataDirectory(dir), applier);
    assertEquals(1, await(store.put("k", "v")));
    assertNotSame(Thread.currentThread(), applier.last.get());
    assertEquals(0, store.metrics().callerRunWrites());
    await(store.close());
  }

  /**
   * A caller owns the writer's state (paused inside its write) while another write and the close
   * reach the actor: the actor keeps them until the caller hands the state over, then commits the
   * write after the caller's and stops only once both are answered.
   */
  @Test
  void messagesThatArriveWhileACallerWritesWaitForItAndKeepTheirOrder() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store = kit.open(kit.settings().withCallerRuns(true), applier);
    WriteBatch first = WriteBatch.ofPut("k", "caller");
    awaitIdle(store);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(first, entered, release);
    CompletableFuture<Long> callerPut = new CompletableFuture<>();
    Thread caller =
        new Thread(
            () -> {
              try {
                callerPut.complete(await(store.write(first)));
              } catch (Throwable e) {
                callerPut.completeExceptionally(e);
              }
            });
    caller.start();
    assertTrue(entered.await(10, TimeUnit.SECONDS), "the caller's write began");

    CompletionStage<Long> second = store.put("k", "actor");
    CompletionStage<org.apache.pekko.Done> closed = store.close();
    // The actor got the write and kept it: it cannot handle anything while the caller owns.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!store.gate().actorWaiting()) {
      assertTrue(System.nanoTime() < deadline, "the actor never got the write");
      Thread.onSpinWait();
    }
    assertFalse(second.toCompletableFuture().isDone(), "the actor waited for the caller");
    assertFalse(closed.toCompletableFuture().isDone(), "the close waited for the caller");

    release.countDown();
    assertEquals(1, await(callerPut));
    assertEquals(2, await(second), "the actor's write commits after the caller's");
    await(closed);
    caller.join();
    assertEquals("actor", store.advanced().lastPublished().get("k"));
    assertEquals(1, store.metrics().handOvers());
  }
}
