package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.WriteBatch;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class ReadersNeverWaitTest {
  private static StoreTestKit kit;

  @BeforeAll
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterAll
  static void stop() {
    kit.shutdown();
  }

  @Test
  void readsGoOnAtFullSpeedAndSeeThePreviousVersionWhileAWriteIsSlow() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store = kit.open(kit.settings(), applier);
    for (int i = 0; i < 100; i++) {
      await(store.put("k" + i, "old"));
    }
    WriteBatch slow = WriteBatch.builder().put("k0", "new").put("k99", "new").build();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(slow, entered, release);
    CompletionStage<Long> slowVersion = store.write(slow);
    assertTrue(entered.await(10, TimeUnit.SECONDS));

    // The writer is stuck inside the slow write. Readers on several threads must not notice.
    int readers = 4;
    long[] reads = new long[readers];
    long[] slowestNanos = new long[readers];
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    boolean stillBlocked;
    try {
      StoreTestKit.onThreads(
          readers,
          id -> {
            while (System.nanoTime() < until) {
              long start = System.nanoTime();
              String v0 = store.get("k0");
              long version = store.version();
              try (ReadTransaction tx = store.readTransaction()) {
                if (!"old".equals(tx.snapshot().get("k99"))) {
                  throw new AssertionError("a read transaction saw the unpublished write");
                }
              }
              slowestNanos[id] = Math.max(slowestNanos[id], System.nanoTime() - start);
              if (!"old".equals(v0) || version != 100) {
                throw new AssertionError("saw " + v0 + " at version " + version);
              }
              reads[id]++;
            }
          });
    } finally {
      stillBlocked = !slowVersion.toCompletableFuture().isDone();
      release.countDown();
    }

    assertTrue(stillBlocked, "the write must still have been in progress while reading");
    for (int r = 0; r < readers; r++) {
      // A read is a few hundred nanoseconds; thousands in 300 ms is far below full speed and far
      // above what a reader blocked on the writer could do.
      assertTrue(reads[r] > 10_000, "reader " + r + " made only " + reads[r] + " reads");
      assertTrue(slowestNanos[r] < TimeUnit.MILLISECONDS.toNanos(200),
          "reader " + r + " waited " + slowestNanos[r] / 1_000_000 + " ms once");
    }
    assertEquals(101, await(slowVersion));
    assertEquals("new", store.get("k0"), "once answered, the write is visible");
    assertEquals("new", store.get("k99"));
    assertEquals(101, store.version());
    await(store.close());
  }
}
