package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The WriterActor's protocol on its own, with a probe for the EpochActor. */
@ExtendWith(LogCapturingExtension.class)
class WriterActorTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /**
   * A writer with its gate, root and pins, a probe standing in for the EpochActor, and a listener
   * that records every snapshot the publish listeners are told of.
   */
  private static final class Rig {
    final Root root = new Root(Snapshot.empty());
    final WriteGate gate = new WriteGate(10);
    final Pins pins = new Pins(InstantSource.system());
    final TestProbe<EpochActor.Command> epoch = kit.testKit.createTestProbe();
    final CompletableFuture<Done> stopped = new CompletableFuture<>();
    final BlockingQueue<Snapshot> woken = new LinkedBlockingQueue<>();
    final ActorRef<WriterActor.Command> writer;

    Rig() {
      this(WriterActor.Applier.DEFAULT);
    }

    Rig(WriterActor.Applier applier) {
      root.listeners()
          .add(
              new PublishListener() {
                @Override
                public void published(Snapshot snapshot) {
                  woken.add(snapshot);
                }

                @Override
                public void stopped(Snapshot last) {}
              });
      writer =
          kit.testKit.spawn(
              WriterActor.create(
                  new WriterActor.Setup(
                      "rig",
                      root,
                      gate,
                      pins,
                      epoch.getRef(),
                      applier,
                      100,
                      stopped,
                      null,
                      InstantSource.system())));
      EpochActor.Attach attach = epoch.expectMessageClass(EpochActor.Attach.class);
      assertEquals(writer, attach.writer());
    }

    /** Answers the writer's request to stop the EpochActor, as the EpochActor does. */
    void answerEpochStop() {
      EpochActor.Stop stop = epoch.expectMessageClass(EpochActor.Stop.class);
      assertEquals(writer, stop.replyTo());
      stop.replyTo().tell(WriterActor.EpochStopped.INSTANCE);
    }

    CompletableFuture<Long> write(WriteBatch batch) {
      assertEquals(WriteGate.Admission.ADMITTED, gate.enter());
      CompletableFuture<Long> reply = new CompletableFuture<>();
      writer.tell(new WriterActor.Write(batch, reply));
      return reply;
    }

    /** The next snapshot the publish listeners were told of. */
    Snapshot expectPublished() {
      try {
        Snapshot s = woken.poll(StoreTestKit.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(s, "no publish within " + StoreTestKit.TIMEOUT);
        return s;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** Writes versions {@code from} to {@code to} of key k, each published before the next. */
    void putVersions(int from, int to) {
      for (int i = from; i <= to; i++) {
        assertEquals(i, await(write(WriteBatch.ofPut("k", "v" + i))));
        assertEquals(i, expectPublished().version());
      }
    }
  }

  @Test
  void afterCloseTheWriterWaitsForWritesAdmittedBeforeIt() {
    Rig rig = new Rig();
    // Two callers passed the gate and have not sent their writes yet when the store closes.
    assertEquals(WriteGate.Admission.ADMITTED, rig.gate.enter());
    assertEquals(WriteGate.Admission.ADMITTED, rig.gate.enter());
    rig.gate.close();
    rig.writer.tell(WriterActor.Close.INSTANCE);
    CompletableFuture<Long> first = new CompletableFuture<>();
    rig.writer.tell(new WriterActor.Write(WriteBatch.ofPut("k", "v1"), first));

    // The first write's reply shows that the writer has handled the close (sent before it, from
    // this thread): one write is still to come, so it must not have begun to stop.
    assertEquals(1, await(first));
    assertEquals(1, rig.expectPublished().version());
    rig.epoch.expectNoMessage(Duration.ZERO);
    assertFalse(rig.stopped.isDone(), "stopped with a write still to come");
    CompletableFuture<Long> reply = new CompletableFuture<>();
    rig.writer.tell(new WriterActor.Write(WriteBatch.ofPut("k", "v"), reply));

    assertEquals(2, await(reply));
    assertEquals(2, rig.expectPublished().version());
    rig.answerEpochStop();
    await(rig.stopped);
    assertEquals(WriteGate.Admission.CLOSED, rig.gate.enter());
  }

  @Test
  void closePublishesTheOpenGroupAndStopsAtOnceWhenNothingIsPending() {
    Rig rig = new Rig();
    CompletableFuture<Long> v = rig.write(WriteBatch.ofPut("k", "v"));
    rig.gate.close();
    rig.writer.tell(WriterActor.Close.INSTANCE);

    assertEquals(1, await(v));
    rig.expectPublished();
    rig.answerEpochStop();
    await(rig.stopped);
    assertEquals("v", rig.root.snapshotAcquire().get("k"));
  }

  @Test
  void aDrainedWriterStopsOnlyAfterTheEpochActorAnsweredSoThatItsNudgesArrive() {
    Rig rig = new Rig();
    rig.putVersions(1, 1);
    rig.gate.close();
    rig.writer.tell(WriterActor.Close.INSTANCE);
    EpochActor.Stop stop = rig.epoch.expectMessageClass(EpochActor.Stop.class);

    // A nudge sent before the EpochActor stopped still finds the writer, which ignores it.
    rig.pins.decide(1);
    rig.writer.tell(WriterActor.PruneIfIdle.INSTANCE);
    rig.epoch.expectNoMessage(Duration.ofMillis(50));
    assertFalse(rig.stopped.isDone(), "stopped before the EpochActor answered");
    stop.replyTo().tell(WriterActor.EpochStopped.INSTANCE);
    await(rig.stopped);
    assertEquals(0, rig.root.snapshotAcquire().watermark(), "a prune after the close was applied");
  }

  @Test
  void aGroupPrunesToTheDecidedWatermarkAsItOpensWithoutAPublishOrAMessageOfItsOwn() {
    Rig rig = new Rig();
    rig.putVersions(1, 3);
    long publishes = rig.root.publishes();

    rig.pins.decide(2);
    assertEquals(4, await(rig.write(WriteBatch.ofPut("k", "v4"))));
    Snapshot next = rig.expectPublished();
    assertEquals(4, next.version());
    assertEquals(2, next.watermark(), "the group took the decided watermark up");
    assertEquals("v2", next.get("k", 2));
    assertSame(next, rig.root.snapshotAcquire());
    assertEquals(publishes + 1, rig.root.publishes(), "one publish: the write's group");
    rig.epoch.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void anIdleWriterPrunesOnANudgeWithoutWakingListenersAndARepeatedNudgeChangesNothing() {
    Rig rig = new Rig();
    rig.putVersions(1, 3);
    long publishes = rig.root.publishes();

    rig.pins.decide(2);
    rig.writer.tell(WriterActor.PruneIfIdle.INSTANCE);
    Snapshot pruned =
        rig.epoch.awaitAssert(
            () -> {
              Snapshot s = rig.root.snapshotAcquire();
              assertEquals(2, s.watermark());
              return s;
            });
    assertEquals(3, pruned.version(), "a prune takes no version");
    assertEquals(publishes + 1, rig.root.publishes(), "the prune was published");

    // Nothing left to prune: the nudges publish nothing, and the next write's group is the next
    // publish the listeners hear of (none for the prune itself).
    rig.writer.tell(WriterActor.PruneIfIdle.INSTANCE);
    rig.writer.tell(WriterActor.PruneIfIdle.INSTANCE);
    assertEquals(4, await(rig.write(WriteBatch.ofPut("k", "v4"))));
    assertEquals(4, rig.expectPublished().version());
    assertEquals(publishes + 2, rig.root.publishes());
    assertEquals(2, rig.root.snapshotAcquire().watermark());

    rig.pins.decide(3);
    assertEquals(5, await(rig.write(WriteBatch.ofPut("k", "v5"))));
    Snapshot next = rig.expectPublished();
    assertEquals(5, next.version());
    assertEquals(3, next.watermark());
    assertEquals("v3", next.get("k", 3));
  }

  @Test
  void aBusyWriterLeavesTheNudgeToItsNextGroup() throws InterruptedException {
    ScriptedApplier applier = new ScriptedApplier();
    Rig rig = new Rig(applier);
    rig.putVersions(1, 3);
    WriteBatch slow = WriteBatch.ofPut("k", "v4");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(slow, entered, release);

    long publishes = rig.root.publishes();
    CompletableFuture<Long> v4 = rig.write(slow);
    entered.await();
    // The group of v4 is open and took no prune: the nudge arrives while it is open.
    rig.pins.decide(3);
    rig.writer.tell(WriterActor.PruneIfIdle.INSTANCE);
    release.countDown();
    assertEquals(4, await(v4));
    Snapshot s4 = rig.expectPublished();
    assertEquals(0, s4.watermark(), "decided after the group opened");

    assertEquals(5, await(rig.write(WriteBatch.ofPut("k", "v5"))));
    Snapshot s5 = rig.expectPublished();
    assertEquals(5, s5.version());
    assertEquals(3, s5.watermark(), "the next group took the decision up");
    assertEquals(publishes + 2, rig.root.publishes(), "no group of its own for the prune");
  }
}
