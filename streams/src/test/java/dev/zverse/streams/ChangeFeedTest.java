package dev.zverse.streams;

import static dev.zverse.streams.StreamsTestKit.await;
import static dev.zverse.streams.StreamsTestKit.awaitFailure;
import static dev.zverse.streams.StreamsTestKit.awaitStats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The change feed against a reference model: every write's version and operations are recorded by
 * the writers, replayed in version order into a {@code TreeMap} per version, and every commit the
 * feed emits is checked against the difference of two consecutive states. Every put writes a value
 * no other put wrote, so that difference is exactly the commit's changes.
 */
class ChangeFeedTest {
  private static final int SCALE = Integer.getInteger("zverse.test.scale", 1);
  private static final int KEYS = 30;
  private static final StreamsTestKit kit = new StreamsTestKit();

  @AfterAll
  static void shutdown() {
    kit.shutdown();
  }

  // ---------------------------------------------------------------- the model

  /**
   * One write's operations: {@code key >= 0} puts {@code value} (or deletes when null); range
   * deletes.
   */
  record Op(int key, String value, int rangeEnd) {}

  /** Writes recorded by version, from any thread; replayed into states in version order. */
  static final class History {
    final ConcurrentHashMap<Long, List<Op>> byVersion = new ConcurrentHashMap<>();
    final AtomicInteger unique = new AtomicInteger();

    /** A random batch; its ops are recorded once it commits. */
    WriteBatch randomBatch(Random rnd, List<Op> ops) {
      WriteBatch.Builder b = WriteBatch.builder();
      int n = rnd.nextInt(4);
      for (int i = 0; i < n; i++) {
        int k = rnd.nextInt(KEYS);
        int kind = rnd.nextInt(10);
        if (kind < 6) {
          String v = "v" + unique.incrementAndGet();
          b.put(key(k), v);
          ops.add(new Op(k, v, -1));
        } else if (kind < 9) {
          b.delete(key(k));
          ops.add(new Op(k, null, -1));
        } else {
          int end = Math.min(KEYS - 1, k + rnd.nextInt(4));
          b.deleteRange(KeyRange.closed(key(k), key(end)));
          ops.add(new Op(k, null, end));
        }
      }
      return b.build();
    }

    CompletionStage<Long> write(ZVerseStore store, Random rnd) {
      return write(store, rnd, new AtomicInteger());
    }

    /**
     * {@link #write(ZVerseStore, Random)}, counting in {@code doneOnReturn} the writes that ran on
     * their caller's thread.
     */
    CompletionStage<Long> write(ZVerseStore store, Random rnd, AtomicInteger doneOnReturn) {
      List<Op> ops = new ArrayList<>();
      WriteBatch batch = randomBatch(rnd, ops);
      CompletionStage<Long> written = store.write(batch);
      if (written.toCompletableFuture().isDone()) {
        doneOnReturn.incrementAndGet();
      }
      return written.thenApply(
          v -> {
            assertNull(byVersion.put(v, ops), "version " + v + " twice");
            return v;
          });
    }

    /** The state after every version, 0 to {@code last}. */
    List<TreeMap<String, String>> states(long last) {
      List<TreeMap<String, String>> states = new ArrayList<>();
      states.add(new TreeMap<>());
      for (long v = 1; v <= last; v++) {
        List<Op> ops = byVersion.get(v);
        assertNotNull(ops, "no write recorded for version " + v);
        TreeMap<String, String> s = new TreeMap<>(states.get(states.size() - 1));
        for (Op op : ops) {
          if (op.rangeEnd() >= 0) {
            s.subMap(key(op.key()), true, key(op.rangeEnd()), true).clear();
          } else if (op.value() == null) {
            s.remove(key(op.key()));
          } else {
            s.put(key(op.key()), op.value());
          }
        }
        states.add(s);
      }
      return states;
    }
  }

  static String key(int i) {
    return String.format("k%02d", i);
  }

  /** The keys in {@code range} whose value differs between {@code before} and {@code after}. */
  static List<String> changedKeys(
      Map<String, String> before, Map<String, String> after, KeyRange range) {
    List<String> keys = new ArrayList<>();
    for (int k = 0; k < KEYS; k++) {
      String key = key(k);
      if (range.contains(key.getBytes(StandardCharsets.UTF_8))
          && !Objects.equals(before.get(key), after.get(key))) {
        keys.add(key);
      }
    }
    return keys;
  }

  // ---------------------------------------------------------------- replay to live, concurrently

  @Test
  void replayThenLiveHasNoGapAndNoDuplicateWhileWritersCommit() throws Exception {
    long seed0 = new Random().nextLong();
    int runs = 12 * SCALE;
    for (int run = 0; run < runs; run++) {
      long seed = seed0 + run;
      try {
        oneConcurrentRun(new Random(seed));
      } catch (AssertionError | Exception e) {
        throw new AssertionError("run with seed " + seed + " failed: " + e, e);
      }
    }
  }

  private void oneConcurrentRun(Random rnd) throws Exception {
    // Both write paths: on the callers' threads when the writer is idle (the default), and always
    // through the WriterActor. A write that ran on its caller returns a completed stage.
    boolean callerRuns = rnd.nextBoolean();
    AtomicInteger doneOnReturn = new AtomicInteger();
    ZVerseStore store =
        kit.open(
            kit.settings().withRetentionVersions(1 + rnd.nextInt(20)).withCallerRuns(callerRuns));
    History history = new History();
    int before = rnd.nextInt(300);
    for (int i = 0; i < before; i++) {
      await(history.write(store, rnd, doneOnReturn));
    }
    KeyRange range =
        rnd.nextBoolean()
            ? KeyRange.all()
            : KeyRange.closedOpen(
                key(rnd.nextInt(KEYS / 2)), key(KEYS / 2 + rnd.nextInt(KEYS / 2)));
    boolean previous = rnd.nextBoolean();
    boolean empty = rnd.nextBoolean();

    int writers = 2;
    int perWriter = 500 + rnd.nextInt(1000);
    List<Thread> threads = new ArrayList<>();
    AtomicBoolean failed = new AtomicBoolean();
    for (int w = 0; w < writers; w++) {
      long wseed = rnd.nextLong();
      Thread t =
          new Thread(
              () -> {
                Random r = new Random(wseed);
                List<CompletableFuture<Long>> inFlight = new ArrayList<>();
                for (int i = 0; i < perWriter; i++) {
                  inFlight.add(history.write(store, r, doneOnReturn).toCompletableFuture());
                  if (inFlight.size() >= 1 + r.nextInt(32)) {
                    inFlight.forEach(CompletableFuture::join);
                    inFlight.clear();
                  }
                  if (r.nextInt(100) == 0) {
                    StreamsTestKit.sleep(1); // a scripted stall of a writer, to vary interleavings
                  }
                }
                inFlight.forEach(CompletableFuture::join);
              });
      t.setUncaughtExceptionHandler((th, e) -> failed.set(true));
      threads.add(t);
      t.start();
    }

    // List, then watch: a read transaction fixes the state the feed starts after; the writers go on
    // for a random while before the feed starts, so it replays first, then follows live. Half the
    // runs hand the transaction's pin to the feed and close it at once; the others start a plain
    // feed after its version and hold the transaction until the feed's first element.
    // Scripted stalls that vary how far the writers get, not waits for anything to happen.
    StreamsTestKit.sleep(rnd.nextInt(5));
    ReadTransaction tx = store.readTransaction();
    long after = tx.version();
    List<Entry> listed = tx.snapshot().scan(KeyRange.all(), after);
    StreamsTestKit.sleep(rnd.nextInt(5));
    boolean handOver = rnd.nextBoolean();
    AtomicBoolean first = new AtomicBoolean(true);
    ChangeFeedOptions options =
        (handOver ? ChangeFeedOptions.after(tx) : ChangeFeedOptions.after(after))
            .withRange(range)
            .withPreviousValues(previous)
            .withEmptyCommits(empty)
            .withMaxLag(1_000_000); // the store keeps 1 to 20 versions; the feed may hold more
    CompletionStage<List<CommitRecord>> fed =
        ChangeFeed.commits(store, options)
            .map(
                c -> {
                  if (first.getAndSet(false)) {
                    tx.close(); // the feed's own pin holds the history from here on
                  }
                  return c;
                })
            .async()
            .map(
                c -> {
                  if (rnd.nextInt(200) == 0) {
                    Thread.sleep(1); // a scripted stall: a consumer that is sometimes slow
                  }
                  return c;
                })
            .runWith(Sink.seq(), kit.system());
    if (handOver) {
      tx.close(); // materializing took over its pin
    }

    for (Thread t : threads) {
      t.join();
    }
    assertTrue(!failed.get(), "a writer failed");
    if (callerRuns) {
      assertTrue(doneOnReturn.get() > 0, "no write ran on its caller's thread");
    }
    await(store.close());
    List<CommitRecord> commits = await(fed);
    tx.close();

    long last = history.byVersion.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    List<TreeMap<String, String>> states = history.states(last);
    assertEquals(listed.size(), states.get((int) after).size(), "the listed state");

    long expectedVersion = after;
    for (CommitRecord c : commits) {
      if (empty) {
        assertEquals(expectedVersion + 1, c.version(), "gapless, in order, no duplicate");
      } else {
        assertTrue(
            c.version() > expectedVersion,
            "in order, no duplicate: " + c.version() + " after " + expectedVersion);
        for (long skipped = expectedVersion + 1; skipped < c.version(); skipped++) {
          assertEquals(
              List.of(),
              changedKeys(states.get((int) skipped - 1), states.get((int) skipped), range),
              "version " + skipped + " skipped but changed keys in range");
        }
        assertTrue(!c.isEmpty(), "an empty commit emitted although asked not to");
      }
      expectedVersion = c.version();
      checkCommit(c, states, range, previous);
    }
    if (empty) {
      assertEquals(last, expectedVersion, "the feed ends at the last version");
    } else {
      for (long skipped = expectedVersion + 1; skipped <= last; skipped++) {
        assertEquals(
            List.of(),
            changedKeys(states.get((int) skipped - 1), states.get((int) skipped), range));
      }
    }
  }

  private static void checkCommit(
      CommitRecord c, List<TreeMap<String, String>> states, KeyRange range, boolean previous) {
    Map<String, String> before = states.get((int) c.version() - 1);
    Map<String, String> after = states.get((int) c.version());
    List<String> keys = changedKeys(before, after, range);
    List<String> got = new ArrayList<>();
    for (Change ch : c.changes()) {
      got.add(ch.keyUtf8());
    }
    assertEquals(keys, got, "keys changed by commit " + c.version());
    assertEquals(previous, c.hasPreviousValues());
    for (int i = 0; i < c.size(); i++) {
      Change ch = c.changes().get(i);
      assertEquals(c.version(), ch.version());
      assertEquals(after.get(ch.keyUtf8()), ch.valueUtf8(), "value of " + ch);
      if (previous) {
        assertEquals(before.get(ch.keyUtf8()), c.previousValueUtf8(i), "previous value of " + ch);
      }
    }
  }

  @Test
  void theFlattenedFeedEmitsEveryChangeInVersionThenKeyOrder() {
    ZVerseStore store = kit.open(kit.settings());
    History history = new History();
    Random rnd = new Random(7);
    for (int i = 0; i < 300; i++) {
      await(history.write(store, rnd));
    }
    KeyRange range = KeyRange.closedOpen(key(5), key(20));
    CompletionStage<List<Change>> changes =
        ChangeFeed.changes(store, ChangeFeedOptions.after(100).withRange(range))
            .runWith(Sink.seq(), kit.system());
    for (int i = 0; i < 300; i++) {
      await(history.write(store, rnd));
    }
    // Materialization is asynchronous and a feed started on a closed store fails: close once it
    // pins.
    awaitStats(store, s -> s.pins() >= 1, "the feed's start");
    await(store.close());
    List<TreeMap<String, String>> states = history.states(600);
    List<String> expected = new ArrayList<>();
    for (int v = 101; v <= 600; v++) {
      for (String k : changedKeys(states.get(v - 1), states.get(v), range)) {
        expected.add(v + " " + k + "=" + states.get(v).get(k));
      }
    }
    List<String> got = new ArrayList<>();
    for (Change c : await(changes)) {
      got.add(c.version() + " " + c.keyUtf8() + "=" + c.valueUtf8());
    }
    assertEquals(expected, got);
  }

  // ---------------------------------------------------------------- back-pressure, pins, limits

  @Test
  void aSlowConsumerPullingOneAtATimeNeitherSlowsTheWriterNorMissesAnything() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(1));
    // A lag limit of 4,000 versions: the pin trails the cursor by up to 1,000 versions.
    SinkQueueWithCancel<CommitRecord> queue =
        ChangeFeed.commits(store, ChangeFeedOptions.fromNow().withMaxLag(4_000))
            .toMat(Sink.queue(), Keep.right())
            .withAttributes(Attributes.inputBuffer(1, 1))
            .run(kit.system());
    // The feed has pinned its start once it shows up in the EpochActor's scan.
    awaitStats(store, s -> s.pins() == 1, "the feed's pin");
    long start = await(store.epochStats()).version();

    // Every write completes although nobody pulls: the writer never waits for the feed.
    writeFlatOut(store, 0, 1_500);
    long v = start + 1;
    for (; v <= start + 1_200; v++) {
      assertEquals(v, await(queue.pull()).orElseThrow().version());
    }
    // Retention keeps one version, but the pin holds what the feed has not read, also in the
    // snapshots published after the one the feed was reading from.
    writeFlatOut(store, 1_500, 3_000);
    // The pin is on the next commit the feed needs, moved every 1,000 versions: start + 1,001.
    awaitStats(store, s -> s.watermark() == start + 1_001, "pruning up to the pin");
    for (; v <= start + 3_000; v++) {
      CommitRecord c = await(queue.pull()).orElseThrow();
      assertEquals(v, c.version());
      assertEquals("v" + (v - start - 1), c.changes().get(0).valueUtf8());
    }
    assertTrue(store.snapshot().watermark() <= start + 3_000);
    queue.cancel();
    awaitStats(store, s -> s.pins() == 0, "the pin released on cancel");
    await(store.close());
  }

  private static void writeFlatOut(ZVerseStore store, int from, int to) {
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = from; i < to; i++) {
      writes.add(store.put("k" + (i % 10), "v" + i).toCompletableFuture());
    }
    writes.forEach(CompletableFuture::join);
  }

  @Test
  void cancellingAFeedReleasesItsPinAndHistoryIsPrunedAgain() {
    ZVerseStore store =
        kit.open(kit.settings().withRetentionVersions(1).withLongPinWarning(Duration.ofMillis(1)));
    for (int i = 0; i < 10; i++) {
      await(store.put("k", "v" + i));
    }
    awaitStats(store, s -> s.watermark() == 10, "retention of one version");
    SinkQueueWithCancel<CommitRecord> queue =
        ChangeFeed.commits(store, ChangeFeedOptions.after(10).withMaxLag(100))
            .toMat(Sink.queue(), Keep.right())
            .withAttributes(Attributes.inputBuffer(1, 1))
            .run(kit.system());
    assertEquals(1, await(store.epochStats()).pins(), "pinned when materialized");
    for (int i = 0; i < 20; i++) {
      await(store.put("k", "w" + i));
    }
    assertEquals(11, await(queue.pull()).orElseThrow().version());
    // The feed has read 11 only: the watermark stays at or below the commit it needs next, after
    // a tick that saw every write (not after a sleep, which passes when no tick ran): the tick
    // warns about the feed's pin holding back pruning, then decides, before the stats below.
    LoggingTestKit.warn("has pinned version [")
        .withMessageRegex(".*latest version \\[30\\].*")
        .withCheckExcess(false)
        .expect(kit.system(), () -> null);
    assertTrue(await(store.epochStats()).watermark() <= 12, "pruned past the feed");
    long w = store.snapshot().watermark();
    assertTrue(w <= 12, "pruned past the feed: " + w);

    queue.cancel();
    awaitStats(store, s -> s.pins() == 0, "the pin released on cancel");
    awaitStats(store, s -> s.watermark() == 30, "pruning to the retention target again");
    await(store.close());
  }

  @Test
  void aFeedStartingWhereItsFirstCommitIsPrunedFailsWithTheCompactedError() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(1));
    for (int i = 0; i < 10; i++) {
      await(store.put("k", "v" + i));
    }
    awaitStats(store, s -> s.watermark() == 10, "retention of one version");
    Throwable e =
        awaitFailure(
            ChangeFeed.commits(store, ChangeFeedOptions.after(4))
                .runWith(Sink.seq(), kit.system()));
    ChangeFeedCompactedException compacted =
        assertInstanceOf(ChangeFeedCompactedException.class, e);
    assertEquals(4, compacted.afterVersion());
    assertEquals(5, compacted.requestedVersion(), "the first commit it needed");
    assertEquals(10, compacted.watermark());
    // With previous values the feed needs the state at its start too: after(9) is refused.
    ChangeFeedCompactedException withPrevious =
        assertInstanceOf(
            ChangeFeedCompactedException.class,
            awaitFailure(
                ChangeFeed.commits(store, ChangeFeedOptions.after(9).withPreviousValues(true))
                    .runWith(Sink.seq(), kit.system())));
    assertEquals(9, withPrevious.requestedVersion());
    awaitStats(store, s -> s.pins() == 0, "no pin left behind");
    await(store.close());
  }

  /**
   * A feed can start wherever a read can: at watermark W, after(W - 1) reads commit W. Here W is a
   * delete's version, which no feed could deliver before.
   */
  @Test
  void aFeedStartsOneBeforeTheWatermarkAndDeliversTheDeleteAtIt() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(3));
    await(store.put("a", "1"));
    await(store.put("b", "2"));
    long deleted = await(store.delete("a"));
    await(store.put("c", "3"));
    await(store.put("c", "4"));
    awaitStats(store, s -> s.watermark() == deleted, "the watermark at the delete");
    assertEquals(3, deleted);

    List<CommitRecord> commits =
        await(
            ChangeFeed.commits(store, ChangeFeedOptions.after(deleted - 1))
                .take(3)
                .runWith(Sink.seq(), kit.system()));
    assertEquals(List.of(3L, 4L, 5L), commits.stream().map(CommitRecord::version).toList());
    Change delete = commits.get(0).changes().get(0);
    assertEquals("a", delete.keyUtf8());
    assertTrue(delete.isDelete(), delete.toString());
    await(store.close());
  }

  /** after(0) replays from the first commit while retention holds it: with W = 1. */
  @Test
  void afterZeroReplaysFromTheFirstCommitAtWatermarkOne() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(3));
    for (int i = 0; i < 3; i++) {
      await(store.put("k", "v" + i));
    }
    await(store.delete("k"));
    awaitStats(store, s -> s.watermark() == 2, "versions 2 to 4 kept");
    ZVerseStore atOne = kit.open(kit.settings().withRetentionVersions(3));
    for (int i = 0; i < 3; i++) {
      await(atOne.put("k", "v" + i));
    }
    awaitStats(atOne, s -> s.watermark() == 1, "W = 1");
    List<CommitRecord> replay =
        await(
            ChangeFeed.commits(atOne, ChangeFeedOptions.after(0))
                .take(3)
                .runWith(Sink.seq(), kit.system()));
    assertEquals(List.of(1L, 2L, 3L), replay.stream().map(CommitRecord::version).toList());
    assertInstanceOf(
        ChangeFeedCompactedException.class,
        awaitFailure(
            ChangeFeed.commits(store, ChangeFeedOptions.after(0))
                .runWith(Sink.seq(), kit.system())));
    await(store.close());
    await(atOne.close());
  }

  @Test
  void aFeedStartingAfterTheLatestVersionFails() {
    ZVerseStore store = kit.open(kit.settings());
    await(store.put("k", "v"));
    Throwable e =
        awaitFailure(
            ChangeFeed.commits(store, ChangeFeedOptions.after(5))
                .runWith(Sink.seq(), kit.system()));
    assertInstanceOf(IllegalArgumentException.class, e);
    assertTrue(e.getMessage().contains("[0, 1], was 5"), e.getMessage());
    await(store.close());
  }

  @Test
  void aFeedFallingBehindItsLagLimitFailsAndReleasesItsPin() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(1));
    SinkQueueWithCancel<CommitRecord> queue =
        ChangeFeed.commits(store, ChangeFeedOptions.fromNow().withMaxLag(50))
            .toMat(Sink.queue(), Keep.right())
            .withAttributes(Attributes.inputBuffer(1, 1))
            .run(kit.system());
    awaitStats(store, s -> s.pins() == 1, "the feed's pin");
    for (int i = 0; i < 40; i++) {
      await(store.put("k", "v" + i));
    }
    // Within the limit: the feed holds its history.
    assertEquals(1, await(queue.pull()).orElseThrow().version());
    for (int i = 40; i < 100; i++) {
      await(store.put("k", "v" + i));
    }
    // The consumer does not pull, yet the feed notices the lag on the writer's publishes.
    awaitStats(store, s -> s.pins() == 0, "the pin released by the lagging feed");
    awaitStats(store, s -> s.watermark() == 100, "pruning past the feed");
    Throwable e = awaitFailureOfQueue(queue);
    ChangeFeedLagException lag = assertInstanceOf(ChangeFeedLagException.class, e);
    assertEquals(50, lag.maxLag());
    assertTrue(lag.latestVersion() - lag.requestedVersion() > 50, lag.getMessage());
    assertTrue(lag.getMessage().contains("max-lag of 50"), lag.getMessage());
    // Where history starts once the feed let go: retention keeps one version, so the latest one;
    // not the version the feed's own pin held the store at.
    assertTrue(lag.watermark() >= lag.latestVersion(), lag.getMessage());
    await(store.close());
  }

  /** Pulls until the queue fails; returns the failure. */
  private static Throwable awaitFailureOfQueue(SinkQueueWithCancel<CommitRecord> queue) {
    for (int i = 0; i < 1_000; i++) {
      CompletionStage<Optional<CommitRecord>> pulled = queue.pull();
      try {
        if (pulled.toCompletableFuture().get().isEmpty()) {
          throw new AssertionError("the feed completed instead of failing");
        }
      } catch (ExecutionException e) {
        return e.getCause();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("the feed did not fail");
  }

  @Test
  void aFeedFromNowStartsAtTheLatestVersionAndCompletesWhenTheStoreCloses() {
    ZVerseStore store = kit.open(kit.settings());
    for (int i = 0; i < 5; i++) {
      await(store.put("k", "v" + i));
    }
    SinkQueueWithCancel<CommitRecord> queue =
        ChangeFeed.commits(store, ChangeFeedOptions.fromNow())
            .toMat(Sink.queue(), Keep.right())
            .run(kit.system());
    awaitStats(store, s -> s.pins() == 1, "the feed's pin");
    await(store.put("k", "v5"));
    await(store.delete("absent"));
    CommitRecord c6 = await(queue.pull()).orElseThrow();
    assertEquals(6, c6.version());
    CommitRecord c7 = await(queue.pull()).orElseThrow();
    assertEquals(7, c7.version());
    assertTrue(c7.isEmpty(), "an empty commit keeps its version in the feed");
    await(store.close());
    assertTrue(await(queue.pull()).isEmpty(), "completed after the store closed");
    // On a closed store a feed fails at once.
    Throwable e =
        awaitFailure(
            ChangeFeed.commits(store, ChangeFeedOptions.fromNow())
                .runWith(Sink.seq(), kit.system()));
    assertInstanceOf(IllegalStateException.class, e);
  }

  @Test
  void aSourceCanBeMaterializedManyTimesEachAnIndependentFeed() {
    ZVerseStore store = kit.open(kit.settings());
    for (int i = 0; i < 20; i++) {
      await(store.put("k" + i, "v"));
    }
    Source<CommitRecord, NotUsed> feed = ChangeFeed.commits(store, ChangeFeedOptions.after(0));
    CompletionStage<List<CommitRecord>> a = feed.take(20).runWith(Sink.seq(), kit.system());
    CompletionStage<List<CommitRecord>> b = feed.take(20).runWith(Sink.seq(), kit.system());
    assertEquals(await(a), await(b));
    assertEquals(20, await(a).size());
    await(store.close());
  }

  @Test
  void optionsRefuseBadInput() {
    assertThrows(IllegalArgumentException.class, () -> ChangeFeedOptions.after(-1));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ChangeFeedOptions.fromNow().withMaxLag(0));
    assertTrue(e.getMessage().contains("maxLag must be in [1, 1000000000], was 0"), e.getMessage());
    assertThrows(NullPointerException.class, () -> ChangeFeedOptions.fromNow().withRange(null));
    assertThrows(IllegalStateException.class, () -> ChangeFeedOptions.fromNow().afterVersion());
    assertThrows(
        NullPointerException.class, () -> ChangeFeed.commits(null, ChangeFeedOptions.fromNow()));
  }

  /**
   * A feed that starts further behind than its lag limit fails at once, before any demand, and
   * releases its pin: a consumer that never pulls on a quiet store must not hold history back.
   */
  @Test
  void aFeedStartingBeyondItsLagFailsAtOnceEvenBeforeDemand() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(1_000));
    for (int i = 0; i < 100; i++) {
      await(store.put("k", "v" + i));
    }
    CompletionStage<Done> ended =
        ChangeFeed.commits(store, ChangeFeedOptions.after(0).withMaxLag(10))
            .watchTermination(Keep.right())
            .to(Sink.asPublisher(AsPublisher.WITHOUT_FANOUT))
            .run(kit.system());
    assertInstanceOf(ChangeFeedLagException.class, awaitFailure(ended));
    awaitStats(store, s -> s.pins() == 0, "the failed feed's pin released");
    await(store.close());
  }

  /**
   * A feed materialized before close() completes with everything committed, even when the close
   * comes before the stream's stage has started (it starts later, on the stream's actor).
   */
  @Test
  void aFeedRunJustBeforeCloseCompletesWithEverythingCommitted() {
    for (int i = 0; i < 100; i++) {
      ZVerseStore store = kit.open(kit.settings());
      await(store.put("k", "v"));
      CompletionStage<List<CommitRecord>> all =
          ChangeFeed.commits(store, ChangeFeedOptions.after(0)).runWith(Sink.seq(), kit.system());
      store.close();
      List<CommitRecord> got = await(all);
      assertEquals(1, got.size(), "run " + i);
      assertEquals(1, got.get(0).version(), "run " + i);
    }
  }
}
