package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The WriterActor's protocol on its own, with a probe for the EpochActor. */
@ExtendWith(LogCapturingExtension.class)
class WriterActorTest {
  private static StoreTestKit kit;

  @BeforeAll
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterAll
  static void stop() {
    kit.shutdown();
  }

  /** A writer with its gate, root and a probe standing in for the EpochActor. */
  private static final class Rig {
    final Root root = new Root(Snapshot.empty());
    final WriteGate gate = new WriteGate(10);
    final TestProbe<EpochActor.Command> epoch = kit.testKit.createTestProbe();
    final CompletableFuture<Done> stopped = new CompletableFuture<>();
    final ActorRef<WriterActor.Command> writer =
        kit.testKit.spawn(
            WriterActor.create(
                new WriterActor.Setup(
                    "rig", root, gate, epoch.getRef(), WriterActor.Applier.DEFAULT, 100, stopped,
                    null, InstantSource.system())));

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

    Snapshot expectPublished() {
      return assertInstanceOf(EpochActor.Published.class, epoch.receiveMessage()).snapshot();
    }
  }

  @Test
  void afterCloseTheWriterWaitsForWritesAdmittedBeforeIt() {
    Rig rig = new Rig();
    // A caller passed the gate and has not sent its write yet when the store closes.
    assertEquals(WriteGate.Admission.ADMITTED, rig.gate.enter());
    rig.gate.close();
    rig.writer.tell(WriterActor.Close.INSTANCE);

    StoreTestKit.sleep(100);
    assertFalse(rig.stopped.isDone(), "stopped with a write still to come");
    CompletableFuture<Long> reply = new CompletableFuture<>();
    rig.writer.tell(new WriterActor.Write(WriteBatch.ofPut("k", "v"), reply));

    assertEquals(1, await(reply));
    assertEquals(1, rig.expectPublished().version());
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
  void aDrainedWriterStopsOnlyAfterTheEpochActorAnsweredSoThatItsPrunesArrive() {
    Rig rig = new Rig();
    await(rig.write(WriteBatch.ofPut("k", "v")));
    rig.expectPublished();
    rig.gate.close();
    rig.writer.tell(WriterActor.Close.INSTANCE);
    EpochActor.Stop stop = rig.epoch.expectMessageClass(EpochActor.Stop.class);

    // A prune sent before the EpochActor stopped still finds the writer, which ignores it.
    rig.writer.tell(new WriterActor.Prune(1));
    rig.epoch.expectNoMessage(Duration.ofMillis(50));
    assertFalse(rig.stopped.isDone(), "stopped before the EpochActor answered");
    stop.replyTo().tell(WriterActor.EpochStopped.INSTANCE);
    await(rig.stopped);
    assertEquals(0, rig.root.snapshotAcquire().watermark(), "a prune after the close was applied");
  }

  @Test
  void aPruneIsPublishedAsAnUnversionedChangeAndARepeatedOneChangesNothing() {
    Rig rig = new Rig();
    for (int i = 1; i <= 3; i++) {
      await(rig.write(WriteBatch.ofPut("k", "v" + i)));
      rig.expectPublished();
    }

    rig.writer.tell(new WriterActor.Prune(2));
    Snapshot pruned = rig.expectPublished();
    assertEquals(3, pruned.version(), "a prune takes no version");
    assertEquals(2, pruned.watermark());
    assertSame(pruned, rig.root.snapshotAcquire(), "the root holds the published snapshot");

    rig.writer.tell(new WriterActor.Prune(2));
    rig.writer.tell(new WriterActor.Prune(1));
    rig.epoch.expectNoMessage(Duration.ofMillis(100));

    // Whether the write joins the prune's group or not, its snapshot has both.
    rig.writer.tell(new WriterActor.Prune(3));
    CompletableFuture<Long> v = rig.write(WriteBatch.ofPut("k", "v4"));
    assertEquals(4, await(v));
    Snapshot next = rig.expectPublished();
    if (next.version() == 3) {
      next = rig.expectPublished();
    }
    assertEquals(4, next.version());
    assertEquals(3, next.watermark());
    assertEquals("v3", next.get("k", 3));
  }
}
