package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.EpochStats;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Entry;
import dev.zverse.engine.WriteBatch;
import dev.zverse.examples.ReadmeSnippets.Opened;
import dev.zverse.examples.ReadmeSnippets.Versions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the README's snippets in the order the README shows them, and checks what they return. */
class ReadmeSnippetsTest {
  @Test
  void theStoreSnippetsDoWhatTheReadmeSays() {
    Opened opened = ReadmeSnippets.open();
    ZVerseStore store = opened.store();
    try {
      Versions v = ReadmeSnippets.writes(store);
      assertEquals(new Versions(1, 2, 3), v);

      assertArrayEquals(new String[] {"open", "open", "open", "0", "3"}, ReadmeSnippets.readsAtVersion(store, v));

      List<Entry> lastTwo = ReadmeSnippets.scans(store, v);
      assertEquals(List.of("orders/1002", "orders/1001"), lastTwo.stream().map(Entry::keyUtf8).toList());

      List<Change> history = ReadmeSnippets.history(store);
      assertEquals(List.of("@2 \"orders/1002\"=\"open\"", "@3 \"orders/1002\" deleted"),
          history.stream().map(Change::toString).toList());

      assertEquals(4L, ReadmeSnippets.transaction(store).toCompletableFuture().join());
      CompletionStage<Long> again = ReadmeSnippets.transaction(store); // payments/1001 is there now
      CompletionException e = assertThrows(CompletionException.class, () -> again.toCompletableFuture().join());
      ConditionFailedException refused = assertInstanceOf(ConditionFailedException.class, e.getCause());
      assertEquals(1, refused.failures().size(), refused.getMessage());
      assertEquals("paid", store.get("orders/1001"));

      assertArrayEquals(new long[] {4, 1}, ReadmeSnippets.readTransaction(store));

      List<Change> changes = ReadmeSnippets.changes(store, v);
      assertEquals(List.of(1L, 2L, 3L, 4L), changes.stream().map(Change::version).toList());

      ZVerseStore audit = ReadmeSnippets.configuredInCode(opened.system());
      assertEquals(100_000, audit.settings().retentionVersions());
      assertEquals(Duration.ofHours(1), audit.settings().retentionDuration());
      assertEquals(50_000, audit.settings().maxPendingWrites());
      audit.close().toCompletableFuture().join();

      EpochStats stats = ReadmeSnippets.monitoring(store);
      assertEquals(4, stats.version());
      assertEquals(0, stats.pins());

      assertEquals(-1, ReadmeSnippets.compacted(store), "nothing is pruned while 1,000 versions are retained");
      ZVerseStore shortMemory =
          ZVerseStore.open(opened.system(), "short-memory",
              StoreSettings.create(opened.system(), "short-memory")
                  .withRetentionVersions(1)
                  .withEpochTick(Duration.ofMillis(10)));
      for (String status : List.of("open", "paid", "shipped")) {
        shortMemory.write(WriteBatch.ofPut("orders/1001", status)).toCompletableFuture().join();
      }
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (shortMemory.snapshot().watermark() < 2 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      long watermark = ReadmeSnippets.compacted(shortMemory);
      assertTrue(watermark >= 2 && watermark <= 3, "watermark " + watermark);
      shortMemory.close().toCompletableFuture().join();
    } finally {
      ReadmeSnippets.close(opened.system(), store);
      opened.system().getWhenTerminated().toCompletableFuture().join();
    }
    assertTrue(store.isClosed());
  }

  @Test
  void theEngineSnippetsDoWhatTheReadmeSays(@TempDir Path directory) throws IOException {
    assertEquals("value1 value1 2", ReadmeSnippets.engineAlone());
    assertEquals(1, ReadmeSnippets.durableEngine(directory));
    assertEquals(2, ReadmeSnippets.durableEngine(directory), "the second run recovers the first's write");
  }
}
