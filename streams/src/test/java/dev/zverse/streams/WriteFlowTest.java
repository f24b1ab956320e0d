package dev.zverse.streams;

import static dev.zverse.streams.StreamsTestKit.await;
import static dev.zverse.streams.StreamsTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreOverloadedException;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class WriteFlowTest {
  private static final StreamsTestKit kit = new StreamsTestKit();

  @AfterAll
  static void shutdown() {
    kit.shutdown();
  }

  private static List<WriteBatch> puts(int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> WriteBatch.ofPut("k" + (i % 13), "v" + i))
        .collect(Collectors.toList());
  }

  @Test
  void versionsComeOutInInputOrderAndBatchesCommitInThatOrder() {
    ZVerseStore store = kit.open(kit.settings());
    List<Long> versions =
        await(
            Source.from(puts(5_000))
                .via(WriteFlow.create(store, 64))
                .runWith(Sink.seq(), kit.system()));
    assertEquals(5_000, versions.size());
    for (int i = 0; i < versions.size(); i++) {
      assertEquals(i + 1, versions.get(i), "the batch at position " + i);
    }
    for (int i = 5_000 - 13; i < 5_000; i++) {
      assertEquals("v" + i, store.get("k" + (i % 13)), "the last write to each key wins");
    }
    await(store.close());
  }

  @Test
  void theConfiguredParallelismAndTheSinkWork() {
    ZVerseStore store = kit.open(kit.settings());
    assertEquals(64, StreamsSettings.create(kit.system()).writeParallelism());
    List<Long> versions =
        await(
            Source.from(puts(100)).via(WriteFlow.create(store)).runWith(Sink.seq(), kit.system()));
    assertEquals(100L, versions.get(99));
    await(Source.from(puts(100)).runWith(WriteFlow.sink(store), kit.system()));
    assertEquals(200, store.version());
    await(store.close());
  }

  @Test
  void aFailedConditionFailsTheFlowWithTheStoresException() {
    ZVerseStore store = kit.open(kit.settings());
    List<WriteBatch> batches = new ArrayList<>(puts(10));
    batches.add(WriteBatch.builder().requireAbsent("k1").put("x", "y").build());
    batches.addAll(puts(10));
    Throwable e =
        awaitFailure(
            Source.from(batches).via(WriteFlow.create(store, 4)).runWith(Sink.seq(), kit.system()));
    assertInstanceOf(ConditionFailedException.class, e);
    assertNull(store.get("x"), "the failed batch changed nothing");
    Throwable s =
        awaitFailure(Source.from(batches).runWith(WriteFlow.sink(store, 4), kit.system()));
    assertInstanceOf(ConditionFailedException.class, s);
    await(store.close());
  }

  @Test
  void theResultFlowEmitsOneResultPerBatchAndGoesOnAfterAFailure() {
    ZVerseStore store = kit.open(kit.settings());
    List<WriteBatch> batches = new ArrayList<>(puts(10));
    WriteBatch refused = WriteBatch.builder().requireAbsent("k1").put("x", "y").build();
    batches.add(refused);
    WriteBatch tooBig = WriteBatch.ofPut("big", "x".repeat(store.settings().maxValueBytes() + 1));
    batches.add(tooBig);
    batches.addAll(puts(10));
    List<WriteResult> results =
        await(
            Source.from(batches)
                .via(WriteFlow.results(store, 8))
                .runWith(Sink.seq(), kit.system()));
    assertEquals(batches.size(), results.size());
    long last = 0;
    for (int i = 0; i < results.size(); i++) {
      WriteResult r = results.get(i);
      assertSame(batches.get(i), r.batch(), "results in input order");
      if (i == 10) {
        assertInstanceOf(ConditionFailedException.class, r.failure());
      } else if (i == 11) {
        assertInstanceOf(IllegalArgumentException.class, r.failure());
      } else {
        assertTrue(r.isCommitted(), r.toString());
        assertTrue(r.version() > last, "committed in input order");
        last = r.version();
      }
    }
    assertEquals(20, store.version());
    await(store.close());
    // A closed store: every batch still gets its result.
    List<WriteResult> closed =
        await(
            Source.from(puts(3))
                .via(WriteFlow.results(store, 2))
                .runWith(Sink.seq(), kit.system()));
    assertEquals(3, closed.size());
    closed.forEach(r -> assertInstanceOf(IllegalStateException.class, r.failure()));
  }

  @Test
  void overloadReachesTheResultsAsStoreOverloadedException() {
    // The actor path: with caller-runs a write that finds the writer idle completes on the
    // stream's thread before the next is sent, so 256 in flight may never meet the bound.
    ZVerseStore store = kit.open(kit.settings().withMaxPendingWrites(1).withCallerRuns(false));
    List<WriteResult> results =
        await(
            Source.from(puts(2_000))
                .via(WriteFlow.results(store, 256))
                .runWith(Sink.seq(), kit.system()));
    long overloaded =
        results.stream().filter(r -> r.failure() instanceof StoreOverloadedException).count();
    long committed = results.stream().filter(WriteResult::isCommitted).count();
    assertEquals(2_000, overloaded + committed, "every batch committed or refused as overload");
    assertTrue(overloaded > 0, "256 in flight against a bound of 1");
    assertEquals(committed, store.version());
    await(store.close());
  }

  @Test
  void badArgumentsAreRefused() {
    ZVerseStore store = kit.open(kit.settings());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> WriteFlow.create(store, 0));
    assertTrue(e.getMessage().contains("parallelism must be in [1, 65536], was 0"), e.getMessage());
    assertThrows(NullPointerException.class, () -> WriteFlow.create(null, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new WriteResult(WriteBatch.ofPut("k", "v"), -1, null));
    assertThrows(
        IllegalArgumentException.class, () -> StreamsSettings.create(kit.system()).withMaxLag(0));
    await(store.close());
  }
}
