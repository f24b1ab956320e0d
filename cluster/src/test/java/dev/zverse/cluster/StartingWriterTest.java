package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A writer that starts and cannot take its term yet (no replica promised): what reaches it waits in
 * its stash, bounded, and what finds the stash full is answered, never dropped.
 */
class StartingWriterTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static ClusterHarness cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = ClusterHarness.start(1, "");
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  @Test
  void aChunkedWriteFindingTheStashFullIsRefusedAsOverloadedNotDropped() throws Exception {
    String name = "starting";
    ActorSystem<?> system = cluster.node(0);
    StoreSettings storeSettings = StoreSettings.create(system, name);
    ClusterSettings settings = ClusterSettings.create(system);
    ZVerseStore local = ZVerse.get(system).open(name, storeSettings);
    // No replica follows it: the election waits for a promise for ever.
    ActorRef<WriterProtocol.Command> writer =
        system.systemActorOf(
            WriterElection.create(name, storeSettings, settings, local, new ReplicaState(local)),
            "starting-writer",
            Props.empty());
    TestProbe<WriterProtocol.Reply> waiting = TestProbe.create(system);
    for (int i = 0; i < 10_000; i++) {
      writer.tell(new WriterProtocol.Write(WriteBatch.ofPut("k" + i, "v"), waiting.getRef()));
    }
    TestProbe<WriterProtocol.Reply> client = TestProbe.create(system);
    WriterProtocol.Write large =
        new WriterProtocol.Write(WriteBatch.ofPut("large", "x".repeat(2_000)), client.getRef());
    List<WriterProtocol.Chunk> parts = Chunking.split(WireSerializer.of(system), large, 1, 256);
    assertTrue(parts.size() > 1, "the write goes in parts");
    parts.forEach(writer::tell);
    WriterProtocol.Overloaded refused =
        assertInstanceOf(WriterProtocol.Overloaded.class, client.receiveMessage(WAIT));
    assertEquals(name, refused.storeName());
    // So is a whole one; the stashed writes still wait (none was answered).
    writer.tell(new WriterProtocol.Write(WriteBatch.ofPut("small", "v"), client.getRef()));
    assertInstanceOf(WriterProtocol.Overloaded.class, client.receiveMessage(WAIT));
    waiting.expectNoMessage(Duration.ZERO);
    writer.tell(WriterProtocol.Stop.INSTANCE);
    ClusterHarness.await(local.close());
  }
}
