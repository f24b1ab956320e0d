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
import dev.zverse.examples.ReadmeSnippets.Following;
import dev.zverse.examples.ReadmeSnippets.Opened;
import dev.zverse.examples.ReadmeSnippets.Streamed;
import dev.zverse.examples.ReadmeSnippets.Versions;
import dev.zverse.streams.WriteResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the README's snippets in the order the README shows them, and checks what they return. */
class ReadmeSnippetsTest {
  /** What the snippets print; the streams' snippets print from stream threads. */
  private final Output printed = new Output();

  private PrintStream systemOut;

  @BeforeEach
  void capture() {
    systemOut = System.out;
    System.setOut(printed.stream);
  }

  @AfterEach
  void restore() {
    System.setOut(systemOut);
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("stage did not complete normally: " + e, e);
    }
  }

  private static void awaitPins(ZVerseStore store, int pins) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (await(store.epochStats()).pins() != pins) {
      assertTrue(System.nanoTime() < deadline, "pins did not reach " + pins);
      Thread.onSpinWait();
    }
  }

  private void awaitPrinted(Predicate<String> condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.test(printed.text())) {
      assertTrue(System.nanoTime() < deadline, () -> "not printed in time:\n" + printed.text());
      Thread.onSpinWait();
    }
  }

  @Test
  void theStreamsSnippetsDoWhatTheReadmeSays() {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "readme-streams");
    try {
      ZVerseStore store = ZVerseStore.open(system, "orders");
      await(store.put("orders/1001", "open")); // v1
      await(store.put("customers/ada", "Ada")); // v2, outside the feed's range
      Following following = ReadmeSnippets.changeFeed(system, store);
      assertEquals(
          List.of("orders/1001"), following.orders().stream().map(Entry::keyUtf8).toList());
      awaitPins(store, 1);
      await(store.put("orders/1001", "paid")); // v3
      await(store.delete("orders/1001")); // v4
      await(store.put("customers/ada", "Ada L.")); // v5
      await(store.put("orders/1002", "open")); // v6
      awaitPrinted(text -> text.contains("v6 "));
      assertEquals(
          List.of(
              "v3 orders/1001: open -> paid",
              "v4 orders/1001: paid -> deleted",
              "v6 orders/1002: null -> open"),
          printed.lines());
      ReadmeSnippets.stopFollowing(following.feed());
      awaitPins(store, 0);

      Streamed streamed =
          ReadmeSnippets.streams(
              system,
              store,
              List.of(WriteBatch.ofPut("stock/a", "1"), WriteBatch.ofPut("stock/b", "2")));
      await(streamed.loaded());
      List<WriteResult> results = await(streamed.results());
      assertEquals(2, results.size());
      assertTrue(results.stream().allMatch(WriteResult::isCommitted), results::toString);
      assertTrue(results.get(0).version() < results.get(1).version(), "in order: " + results);
      assertEquals(
          10,
          await(streamed.latest().runWith(Sink.head(), system)).version(),
          "the latest of 10 versions");

      CompletionStage<Done> flat = ReadmeSnippets.flattenedFeed(system, store);
      awaitPins(store, 1); // started: a feed materialized on a closed store fails
      await(store.close());
      await(flat); // completed by the close
      List<String> lines = printed.lines();
      assertEquals(
          List.of(
              "@1 \"orders/1001\"=\"open\"",
              "@3 \"orders/1001\"=\"paid\"",
              "@4 \"orders/1001\" deleted",
              "@6 \"orders/1002\"=\"open\""),
          lines.subList(3, lines.size()));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  @Test
  void theDurableSnippetRecoversWhatTheLastRunWrote(@TempDir Path directory) {
    for (int run = 1; run <= 2; run++) {
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "readme-durable");
      try {
        ZVerseStore ledger = ReadmeSnippets.durableStore(system, directory);
        assertEquals(run, await(ledger.put("run", Integer.toString(run))), "versions continue");
        await(ledger.close());
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().join();
      }
    }
    List<String> reports = printed.lines();
    assertEquals(2, reports.size(), printed::text);
    assertEquals("no checkpoint; replayed 0 records to version 0", reports.get(0));
    assertTrue(
        reports.get(1).startsWith("checkpoint checkpoint-00000000000000000001.zvc at version 1;"),
        reports.get(1));
  }

  @Test
  void theStoreSnippetsDoWhatTheReadmeSays() {
    Opened opened = ReadmeSnippets.open();
    ZVerseStore store = opened.store();
    try {
      Versions v = ReadmeSnippets.writes(store);
      assertEquals(new Versions(1, 2, 3), v);

      String[] read = ReadmeSnippets.readsAtVersion(store, v);
      assertArrayEquals(new String[] {"open", "open", null, "open", "0", "3"}, read);

      List<Entry> lastTwo = ReadmeSnippets.scans(store, v);
      assertEquals(
          List.of("orders/1002", "orders/1001"), lastTwo.stream().map(Entry::keyUtf8).toList());

      List<Change> history = ReadmeSnippets.history(store);
      assertEquals(
          List.of("@2 \"orders/1002\"=\"open\"", "@3 \"orders/1002\" deleted"),
          history.stream().map(Change::toString).toList());

      assertEquals(4L, ReadmeSnippets.transaction(store).toCompletableFuture().join());
      CompletionStage<Long> again = ReadmeSnippets.transaction(store); // payments/1001 is there now
      CompletionException e =
          assertThrows(CompletionException.class, () -> again.toCompletableFuture().join());
      ConditionFailedException refused =
          assertInstanceOf(ConditionFailedException.class, e.getCause());
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

      assertEquals(
          -1,
          ReadmeSnippets.compacted(store),
          "nothing is pruned while 1,000 versions are retained");
      ZVerseStore shortMemory =
          ZVerseStore.open(
              opened.system(),
              "short-memory",
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
    assertEquals(
        2, ReadmeSnippets.durableEngine(directory), "the second run recovers the first's write");
  }
}
