package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

@ExtendWith(LogCapturingExtension.class)
class CloseTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /** What one writer thread saw: the writes it sent, and whether the store refused it as closed. */
  private static final class Writer {
    final List<String> keys = new ArrayList<>();
    final List<CompletionStage<Long>> versions = new ArrayList<>();
    volatile Throwable refusal;
  }

  @Test
  void closeDuringWritesAnswersEveryWriteAndCommitsEveryOneItAdmitted() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    // Every version kept: the check below reads each write at its version, and an epoch tick during
    // a slow run would otherwise prune the first ones (seen with caller-runs: 2,500 writes in 1.7
    // s).
    ZVerseStore store =
        kit.open(
            kit.settings().withMaxPendingWrites(100_000).withRetentionVersions(Long.MAX_VALUE),
            applier);
    int threads = 4;
    List<Writer> writers = new ArrayList<>();
    List<Thread> workers = new ArrayList<>();
    CountDownLatch started = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      Writer w = new Writer();
      writers.add(w);
      int id = t;
      Thread worker =
          new Thread(
              () -> {
                started.countDown();
                try {
                  for (int i = 0; ; i++) {
                    String key = "t" + id + "/" + i;
                    CompletionStage<Long> v = store.put(key, "v");
                    w.keys.add(key);
                    w.versions.add(v);
                    if (i % 64 == 0) {
                      Thread.yield();
                    }
                  }
                } catch (Throwable e) {
                  w.refusal = e;
                }
              });
      workers.add(worker);
      worker.start();
    }
    started.await();
    // Close while the writers are well under way: once commits have come back, not after a time.
    while (store.version() < 200 && workers.stream().anyMatch(Thread::isAlive)) {
      Thread.yield();
    }
    CompletionStage<?> closed = store.close();
    for (Thread worker : workers) {
      worker.join(TimeUnit.SECONDS.toMillis(10));
    }
    await(closed);

    Set<Long> versions = new HashSet<>();
    int written = 0;
    for (Writer w : writers) {
      IllegalStateException e = assertInstanceOf(IllegalStateException.class, w.refusal);
      assertTrue(e.getMessage().contains("is closed"), e.getMessage());
      for (CompletionStage<Long> v : w.versions) {
        CompletableFuture<Long> f = v.toCompletableFuture();
        assertTrue(f.isDone(), "every write is answered before close completes");
        if (f.isCompletedExceptionally()) {
          // Only a write refused at the gate may fail here; it was never sent.
          assertInstanceOf(StoreOverloadedException.class, StoreTestKit.awaitFailure(f));
        } else {
          assertTrue(versions.add(f.join()), "distinct versions");
          written++;
        }
      }
    }
    assertTrue(written > 0, "the writers wrote before the close");
    assertEquals(written, applier.applied.get(), "every admitted write reached the writer, once");
    Snapshot last = store.advanced().lastPublished();
    assertEquals(written, last.version(), "versions 1.." + written + ", all committed");
    for (Writer w : writers) {
      for (int i = 0; i < w.keys.size(); i++) {
        CompletableFuture<Long> f = w.versions.get(i).toCompletableFuture();
        if (!f.isCompletedExceptionally()) {
          assertEquals("v", last.get(w.keys.get(i), f.join()));
        }
      }
    }
  }

  @Test
  void closeWaitsForAWriteInProgressAndCommitsIt() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    // About the WriterActor held inside a write (CallerRunsTest holds a caller instead).
    ZVerseStore store = kit.open(kit.settings().withCallerRuns(false), applier);
    WriteBatch slow = WriteBatch.ofPut("k", "slow");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(slow, entered, release);
    CompletionStage<Long> v = store.write(slow);
    CompletionStage<Long> queued = store.put("k", "queued");
    entered.await();

    CompletionStage<?> closed = store.close();
    // No wait needed: the writer is held inside the slow batch's apply, and an actor stops only
    // between messages, so the stage can complete at the earliest after the release below.
    assertTrue(!closed.toCompletableFuture().isDone(), "close waits for the admitted writes");
    assertTrue(store.isClosed());
    release.countDown();

    await(closed);
    assertEquals(1, await(v));
    assertEquals(2, await(queued));
    assertEquals("queued", store.advanced().lastPublished().get("k"));
  }

  /**
   * The stage close() returns completes only once the name is free again: whoever waits for it can
   * open a store of the same name at once, every time.
   */
  @Test
  void aClosedStoresNameCanBeOpenedAgainAsSoonAsCloseCompletes() {
    String name = "reopened";
    for (int i = 0; i < 50; i++) {
      ZVerseStore store = ZVerseStore.open(kit.testKit.system(), name, kit.settings());
      assertEquals(1L, await(store.put("k", "v" + i)));
      await(store.close());
    }
  }
}
