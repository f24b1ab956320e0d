package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster store opened with durable settings: the writer's local store and the node's replica
 * each keep their own data directory under the one the settings name ({@code writer/} and {@code
 * replica/}), so both open on the writer's node, and a replica node restarted on a new actor system
 * with the same directory recovers its replica and follows on from the recovered version.
 */
class DurableReplicaTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void aDurableReplicaBehindTheWritersRetentionFailsOnceNamingTheVersionsAndIsNotReady(
      @TempDir Path dir) throws Exception {
    String name = "behind";
    try (ClusterHarness cluster = ClusterHarness.start(1, "")) {
      ClusterSettings settings =
          ClusterSettings.create(cluster.node(0)).withWriteTimeout(WAIT).withMinAcks(0);
      StoreSettings base = StoreSettings.create(cluster.node(0), name);
      // The writer keeps 10 versions; node 0's replica keeps the default.
      StoreSettings writer = base.withRetentionVersions(10).withEpochTick(Duration.ofMillis(10));
      ClusterStore writerNode = ClusterStore.open(cluster.node(0), name, writer, base, settings);
      int replicaNode = cluster.addNode();
      ClusterStore replica =
          ClusterStore.open(
              cluster.node(replicaNode),
              name,
              writer,
              base.withDataDirectory(dir.resolve("node1")),
              settings);
      await(writerNode.following());
      await(replica.following());
      long v1 = await(writerNode.write(WriteBatch.ofPut("k", "a")));
      await(replica.awaitVersion(v1, WAIT));
      cluster.stopNode(replicaNode);

      long v2 = 0;
      for (int i = 0; i < 40; i++) {
        v2 = await(writerNode.write(WriteBatch.ofPut("k", "b" + i)));
      }
      ZVerseStore writerStore =
          ZVerse.get(cluster.node(0)).store(WriterSingleton.writerStoreName(name)).orElseThrow();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (writerStore.snapshot().watermark() <= v1) {
        // Waits for the writer's epoch to prune past the replica's next version.
        assertTrue(System.nanoTime() < deadline, "the writer did not prune");
        await(writerNode.write(WriteBatch.ofPut("tick", "t")));
      }
      int again = cluster.addNode();
      ClusterStore back =
          ClusterStore.open(
              cluster.node(again),
              name,
              writer,
              base.withDataDirectory(dir.resolve("node1")),
              settings);
      Throwable failure = ClusterHarness.failure(back.following());
      String message = failure.getMessage();
      assertTrue(failure instanceof IllegalStateException, failure.toString());
      assertTrue(message.contains("durable replica"), message);
      assertTrue(message.contains("is at version " + v1), message);
      assertTrue(message.contains("memory-only"), message);
      assertEquals(Optional.of(message), back.status().failure());
      assertFalse(back.status().catchingUp(), "it does not transfer a state it cannot use");
      assertFalse(await(back.readiness().get()), "not ready");
      assertEquals(v1, back.snapshot().version(), "its reads answer at the version it has");
      assertTrue(v2 > v1);
      await(back.close());
      await(writerNode.close());
    }
  }

  @Test
  void aDurableReplicaRestartedOnANewSystemResumesFromItsRecoveredVersion(@TempDir Path dir)
      throws Exception {
    String name = "durable";
    try (ClusterHarness cluster = ClusterHarness.start(1, "")) {
      // min-acks 0: the writer goes on writing while the only other node is away, which is the
      // point.
      ClusterSettings settings =
          ClusterSettings.create(cluster.node(0)).withWriteTimeout(WAIT).withMinAcks(0);
      StoreSettings base = StoreSettings.create(cluster.node(0), name);
      Path node0 = dir.resolve("node0");
      Path node1 = dir.resolve("node1");
      ClusterStore writerNode =
          ClusterStore.open(cluster.node(0), name, base.withDataDirectory(node0), settings);
      int replicaNode = cluster.addNode();
      ClusterStore replica =
          ClusterStore.open(
              cluster.node(replicaNode), name, base.withDataDirectory(node1), settings);
      await(writerNode.following());
      await(replica.following());
      long v1 = 0;
      for (int i = 0; i < 40; i++) {
        ClusterStore from = i % 2 == 0 ? writerNode : replica;
        v1 = await(from.write(WriteBatch.ofPut("k" + (i % 7), "a" + i)));
      }
      await(replica.awaitVersion(v1, WAIT));
      cluster.stopNode(replicaNode);
      assertFalse(Files.exists(node0.resolve("writer")), "the writer's store is memory-only");
      assertTrue(Files.isDirectory(node0.resolve("replica")), "node 0's replica's own directory");
      assertTrue(Files.isDirectory(node1.resolve("replica")), "node 1's replica's own directory");
      assertFalse(Files.exists(node1.resolve("writer")), "no writer ran on node 1");

      // Writes go on while the node is away; the writer retains them (1,000 versions by default).
      long v2 = 0;
      for (int i = 0; i < 40; i++) {
        v2 = await(writerNode.write(WriteBatch.ofPut("k" + (i % 7), "b" + i)));
      }
      int again = cluster.addNode();
      ClusterStore back =
          ClusterStore.open(cluster.node(again), name, base.withDataDirectory(node1), settings);
      // Recovered before open returned: a replica starting empty would first have to receive and
      // apply v1 commits.
      Snapshot recovered = back.snapshot();
      assertTrue(recovered.version() >= v1, "recovered at " + recovered.version() + " < " + v1);
      // A durable replica cannot be reset by state transfer (its log would not match): reaching v2
      // proves it followed from its recovered version, the gap sent as commits.
      Snapshot caught = await(back.awaitVersion(v2, WAIT));
      assertFalse(back.status().catchingUp(), back.status().toString());
      ZVerseStore writer =
          ZVerse.get(cluster.node(0)).store(WriterSingleton.writerStoreName(name)).orElseThrow();
      Snapshot w = writer.snapshot();
      for (long v = 1; v <= v2; v++) {
        assertEquals(w.commit(v), caught.commit(v), "commit " + v);
      }
      long after = await(writerNode.write(WriteBatch.ofPut("after", "restart")));
      assertEquals("restart", await(back.awaitVersion(after, WAIT)).get("after"));
      await(back.close());
      await(writerNode.close());
    }
  }
}
