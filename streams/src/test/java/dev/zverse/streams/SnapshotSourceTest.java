package dev.zverse.streams;

import static dev.zverse.streams.StreamsTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SnapshotSourceTest {
  private static final StreamsTestKit kit = new StreamsTestKit();

  @AfterAll
  static void shutdown() {
    kit.shutdown();
  }

  private static SinkQueueWithCancel<Snapshot> queue(ZVerseStore store) {
    return SnapshotSource.create(store)
        .toMat(Sink.queue(), Keep.right())
        .withAttributes(Attributes.inputBuffer(1, 1))
        .run(kit.system());
  }

  @Test
  void emitsTheLatestSnapshotFirstThenEachNewerOne() {
    ZVerseStore store = kit.open(kit.settings());
    await(store.put("k", "a"));
    SinkQueueWithCancel<Snapshot> q = queue(store);
    Snapshot first = await(q.pull()).orElseThrow();
    assertEquals(1, first.version());
    assertEquals("a", first.get("k"));
    long v = await(store.put("k", "b"));
    Snapshot second = await(q.pull()).orElseThrow();
    assertEquals(v, second.version());
    assertEquals("b", second.get("k"));
    q.cancel();
    await(store.close());
  }

  @Test
  void aSlowConsumerGetsOnlyTheNewestSnapshotAndTheWriterNeverWaits() {
    ZVerseStore store = kit.open(kit.settings());
    SinkQueueWithCancel<Snapshot> q = queue(store);
    assertEquals(0, await(q.pull()).orElseThrow().version());
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      writes.add(store.put("k", "v" + i).toCompletableFuture());
    }
    writes.forEach(CompletableFuture::join);
    // Conflated: not 1,000 elements queued, but the newest snapshot (at most one older one may have
    // been taken into the sink's one-element buffer before the last publishes).
    Snapshot next = await(q.pull()).orElseThrow();
    if (next.version() < 1_000) {
      next = await(q.pull()).orElseThrow();
    }
    assertEquals(1_000, next.version());
    assertEquals("v999", next.get("k"));
    await(store.close());
    assertEquals(Optional.empty(), await(q.pull()), "completes when the store closes");
  }

  @Test
  void versionsStrictlyIncreaseWhileWritersCommit() throws Exception {
    ZVerseStore store = kit.open(kit.settings());
    // Materialization is asynchronous: a source started after the close fails (as documented), so
    // the writer waits for the first element, which the source emits only once it is listening.
    CompletableFuture<Long> started = new CompletableFuture<>();
    var seen =
        SnapshotSource.create(store)
            .map(Snapshot::version)
            .wireTap(started::complete)
            .async()
            .runWith(Sink.seq(), kit.system());
    await(started);
    Thread writer =
        new Thread(
            () -> {
              for (int i = 0; i < 3_000; i++) {
                store.put("k" + (i % 7), "v" + i).toCompletableFuture().join();
              }
            });
    writer.start();
    writer.join();
    await(store.close());
    List<Long> versions = await(seen);
    for (int i = 1; i < versions.size(); i++) {
      assertTrue(versions.get(i) > versions.get(i - 1), "not increasing at " + i + ": " + versions);
    }
    assertEquals(3_000L, versions.get(versions.size() - 1), "ends with the final snapshot");
  }
}
