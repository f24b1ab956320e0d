package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

@ExtendWith(LogCapturingExtension.class)
class OverloadTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  @Test
  void writesPastTheBoundFailFastWithoutReachingTheWriter() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store =
        kit.open(kit.settings().withMaxPendingWrites(8).withCallerRuns(false), applier);
    WriteBatch first = WriteBatch.ofPut("k", "0");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(first, entered, release);

    List<CompletionStage<Long>> admitted = new ArrayList<>();
    admitted.add(store.write(first));
    entered.await();
    for (int i = 1; i < 8; i++) {
      admitted.add(store.put("k", Integer.toString(i)));
    }
    List<CompletionStage<Long>> refused = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      refused.add(store.put("k", "refused" + i));
    }
    TestProbe<WriteReply> probe = kit.testKit.createTestProbe();
    store.write(WriteBatch.ofPut("k", "refused by actor"), probe.getRef());

    assertEquals(8, store.pendingWrites());
    for (CompletionStage<Long> r : refused) {
      CompletableFuture<Long> f = r.toCompletableFuture();
      assertTrue(f.isCompletedExceptionally(), "failed at once, not after the writer answered");
      StoreOverloadedException e =
          assertInstanceOf(StoreOverloadedException.class, awaitFailure(f));
      assertEquals(8, e.maxPendingWrites());
      assertEquals(store.name(), e.storeName());
      assertTrue(e.getMessage().contains("max-pending-writes = 8"), e.getMessage());
    }
    WriteReply reply = probe.receiveMessage();
    assertInstanceOf(StoreOverloadedException.class, reply.failure());

    release.countDown();
    for (int i = 0; i < 8; i++) {
      assertEquals(i + 1, await(admitted.get(i)));
    }
    assertEquals(8, applier.applied.get(), "refused writes never reached the writer");
    assertEquals("7", store.get("k"));
    assertEquals(0, store.pendingWrites());
    assertEquals(9, await(store.put("k", "again")), "accepted again once below the bound");
    await(store.close());
  }

  @Test
  void aFloodOfWritesNeverExceedsTheBound() throws Exception {
    ZVerseStore store = kit.open(kit.settings().withMaxPendingWrites(64));
    List<CompletionStage<Long>> stages = new ArrayList<>();
    int maxSeen = 0;
    for (int i = 0; i < 20_000; i++) {
      stages.add(store.put("k" + (i % 100), "v"));
      maxSeen = Math.max(maxSeen, store.pendingWrites());
    }
    int committed = 0;
    int overloaded = 0;
    for (CompletionStage<Long> s : stages) {
      try {
        await(s);
        committed++;
      } catch (AssertionError e) {
        assertInstanceOf(StoreOverloadedException.class, e.getCause());
        overloaded++;
      }
    }
    assertTrue(maxSeen <= 64, "pending writes reached " + maxSeen);
    assertEquals(20_000, committed + overloaded);
    assertEquals(committed, store.version(), "every admitted write committed, no other");
    await(store.close());
  }
}
