package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.WriteBatch;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Reads never wait for the writer. The property is tested as such, not as a speed: every read
 * completes while the writer is stuck inside a write, which it leaves only when the test lets it
 * (or, after 30 s, on its own with a failure; a read that waited for the writer would finish only
 * then, and find the write no longer pending). How fast readers are under concurrent writes is a
 * figure, measured by {@code ReadLatencyBenchmark} in the benchmarks module.
 */
@ExtendWith(LogCapturingExtension.class)
class ReadersNeverWaitTest {
  private static final int READERS = 4;
  private static final int READS_PER_READER = 10_000;

  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  @Test
  void readsCompleteAndSeeThePreviousVersionWhileTheWriterIsStuckInAWrite() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store = kit.open(kit.settings().withCallerRuns(false), applier);
    for (int i = 0; i < 100; i++) {
      await(store.put("k" + i, "old"));
    }
    WriteBatch slow = WriteBatch.builder().put("k0", "new").put("k99", "new").build();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(slow, entered, release);
    CompletionStage<Long> slowVersion = store.write(slow);
    assertTrue(entered.await(10, TimeUnit.SECONDS), "the writer never started the slow write");

    // The writer is stuck inside the slow write until released. Readers on several threads must
    // all finish their reads meanwhile, each seeing the last published version.
    long[] reads = new long[READERS];
    boolean stillBlocked;
    try {
      StoreTestKit.onThreads(
          READERS,
          id -> {
            for (int n = 0; n < READS_PER_READER; n++) {
              String v0 = store.get("k0");
              long version = store.version();
              try (ReadTransaction tx = store.readTransaction()) {
                if (!"old".equals(tx.snapshot().get("k99")) || tx.version() != 100) {
                  throw new AssertionError("a read transaction saw the unpublished write");
                }
              }
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

    assertTrue(stillBlocked, "the readers finished only once the writer had left the slow write");
    for (int r = 0; r < READERS; r++) {
      assertEquals(READS_PER_READER, reads[r], "reads of reader " + r);
    }
    assertEquals(101, await(slowVersion));
    assertEquals("new", store.get("k0"), "once answered, the write is visible");
    assertEquals("new", store.get("k99"));
    assertEquals(101, store.version());
    await(store.close());
  }
}
