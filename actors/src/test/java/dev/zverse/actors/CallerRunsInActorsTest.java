package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a Pekko application sees now that a write to an idle memory-only store runs on its caller
 * (the default): a put from inside an actor's message handler, awaited there, completes whether the
 * write runs on the actor's thread or waits for a busy WriterActor; the actor protocol's reply
 * arrives; and publish listeners run on the caller's thread, before the put returns.
 */
@ExtendWith(LogCapturingExtension.class)
class CallerRunsInActorsTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /** The scripted applier, also recording the thread of the last apply. */
  private static final class Recorder implements WriterActor.Applier {
    final ScriptedApplier scripted = new ScriptedApplier();
    final AtomicReference<Thread> last = new AtomicReference<>();

    @Override
    public long apply(Transient tx, WriteBatch batch, Instant clockReading) {
      last.set(Thread.currentThread());
      return scripted.apply(tx, batch, clockReading);
    }
  }

  /** What the writing actor tells the test: the version, its own thread, the applier's. */
  record Outcome(long version, Thread handler, Thread applier) {}

  /** Asks the writing actor to put and await the put inside its handler. */
  record Put(String key, String value, ActorRef<Outcome> replyTo) {}

  /** An application actor that puts and blocks on the put's stage in its message handler. */
  private static Behavior<Put> awaitingWriter(ZVerseStore store, Recorder applier) {
    return Behaviors.receive(Put.class)
        .onMessage(
            Put.class,
            p -> {
              long version = store.put(p.key(), p.value()).toCompletableFuture().join();
              p.replyTo().tell(new Outcome(version, Thread.currentThread(), applier.last.get()));
              return Behaviors.same();
            })
        .build();
  }

  @Test
  void aPutAwaitedInsideAnActorsHandlerRunsOnTheActorsThread() {
    Recorder applier = new Recorder();
    ZVerseStore store = kit.open(kit.settings(), applier);
    ActorRef<Put> writer = kit.testKit.spawn(awaitingWriter(store, applier));
    TestProbe<Outcome> probe = kit.testKit.createTestProbe();
    CallerRunsTest.awaitIdle(store);
    writer.tell(new Put("k", "v", probe.getRef()));
    Outcome outcome = probe.receiveMessage();
    assertEquals(1, outcome.version());
    assertSame(outcome.handler(), outcome.applier(), "applied on the actor's own thread");
    assertEquals("v", store.get("k"));
    assertEquals(1, store.metrics().callerRunWrites());
    await(store.close());
  }

  /**
   * A caller owns the writer's state (paused inside its write) when the actor puts: the actor's
   * write goes to the WriterActor's mailbox, the actor's thread waits in {@code join}, and both
   * complete once the caller leaves, the actor's write applied by the WriterActor.
   */
  @Test
  void aPutAwaitedInsideAnActorsHandlerCompletesWhenTheWriterIsBusy() throws Exception {
    Recorder applier = new Recorder();
    ZVerseStore store = kit.open(kit.settings(), applier);
    ActorRef<Put> writer = kit.testKit.spawn(awaitingWriter(store, applier));
    TestProbe<Outcome> probe = kit.testKit.createTestProbe();
    WriteBatch first = WriteBatch.ofPut("k", "caller");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.scripted.pause(first, entered, release);
    CallerRunsTest.awaitIdle(store);
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

    writer.tell(new Put("k", "actor", probe.getRef()));
    // Admitted behind the caller's write: it waits in the WriterActor's mailbox.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (store.pendingWrites() < 2) {
      assertTrue(System.nanoTime() < deadline, "the actor's put was never admitted");
      Thread.onSpinWait();
    }
    release.countDown();
    Outcome outcome = probe.receiveMessage();
    assertEquals(1, await(callerPut));
    assertEquals(2, outcome.version(), "the actor's write commits after the caller's");
    assertNotSame(outcome.handler(), outcome.applier(), "applied by the WriterActor");
    assertNotSame(caller, outcome.applier(), "applied by the WriterActor");
    caller.join();
    assertEquals("actor", store.get("k"));
    await(store.close());
  }

  @Test
  void theActorProtocolsReplyArrivesWhenTheWriteRanOnTheSendersThread() {
    Recorder applier = new Recorder();
    ZVerseStore store = kit.open(kit.settings(), applier);
    TestProbe<WriteReply> probe = kit.testKit.createTestProbe();
    AtomicReference<Thread> handler = new AtomicReference<>();
    ActorRef<String> writer =
        kit.testKit.spawn(
            Behaviors.receive(String.class)
                .onMessage(
                    String.class,
                    value -> {
                      handler.set(Thread.currentThread());
                      store.write(WriteBatch.ofPut("k", value), probe.getRef());
                      return Behaviors.same();
                    })
                .build());
    CallerRunsTest.awaitIdle(store);
    writer.tell("v");
    assertEquals(WriteReply.committed(1), probe.receiveMessage());
    assertSame(handler.get(), applier.last.get(), "applied on the actor's own thread");
    await(store.close());
  }

  @Test
  void publishListenersRunOnTheCallersThreadBeforeThePutReturns() {
    ZVerseStore store = kit.open(kit.settings());
    List<Thread> threads = new CopyOnWriteArrayList<>();
    List<Long> versions = new CopyOnWriteArrayList<>();
    store
        .advanced()
        .addPublishListener(
            new PublishListener() {
              @Override
              public void published(Snapshot snapshot) {
                threads.add(Thread.currentThread());
                versions.add(snapshot.version());
              }

              @Override
              public void stopped(Snapshot last) {}
            });
    for (long v = 1; v <= 3; v++) {
      CallerRunsTest.awaitIdle(store);
      CompletionStage<Long> put = store.put("k", "v" + v);
      assertEquals(v, versions.size(), "told before the put returned");
      assertEquals(v, await(put));
      assertEquals(v, versions.get((int) v - 1));
      assertSame(Thread.currentThread(), threads.get((int) v - 1));
    }
    await(store.close());
  }
}
