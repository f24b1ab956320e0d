package dev.zverse.streams;

import static dev.zverse.streams.StreamsTestKit.await;
import static dev.zverse.streams.StreamsTestKit.awaitFailure;
import static dev.zverse.streams.StreamsTestKit.awaitStats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.EpochDecisions;
import dev.zverse.actors.EpochStats;
import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.event.Level;

/**
 * How a change feed starts and when it gives up: a read transaction's pin handed over, the default
 * lag bound of the store's retention, what the errors carry, refusals that fail quietly, and a
 * start that never blocks the stream's thread.
 */
@ExtendWith(LogCapturingExtension.class)
class FeedStartTest {
  private static final StreamsTestKit kit = new StreamsTestKit();

  @AfterAll
  static void shutdown() {
    kit.shutdown();
  }

  private static void writeFlatOut(ZVerseStore store, int count) {
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      writes.add(store.put("k" + (i % 10), "v" + i).toCompletableFuture());
      if (writes.size() == 256) {
        writes.forEach(CompletableFuture::join);
        writes.clear();
      }
    }
    writes.forEach(CompletableFuture::join);
  }

  /** Pulls until the queue fails; returns the failure. */
  private static Throwable failureOf(SinkQueueWithCancel<CommitRecord> queue) {
    for (int i = 0; i < 100_000; i++) {
      try {
        if (await(queue.pull()).isEmpty()) {
          throw new AssertionError("the feed completed instead of failing");
        }
      } catch (AssertionError e) {
        if (e.getCause() != null && !(e.getCause() instanceof AssertionError)) {
          return e.getCause();
        }
        throw e;
      }
    }
    throw new AssertionError("the feed did not fail");
  }

  @Test
  void aFeedAfterAReadTransactionFollowsItsStateAfterTheTransactionCloses() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(1));
    writeFlatOut(store, 10);
    SinkQueueWithCancel<CommitRecord> queue;
    long listed;
    try (ReadTransaction tx = store.readTransaction("orders view")) {
      listed = tx.version();
      queue =
          ChangeFeed.commits(store, ChangeFeedOptions.after(tx).withMaxLag(1_000))
              .toMat(Sink.queue(), Keep.right())
              .withAttributes(Attributes.inputBuffer(1, 1))
              .run(kit.system());
    }
    writeFlatOut(store, 100);
    for (long v = listed + 1; v <= listed + 100; v++) {
      assertEquals(v, await(queue.pull()).orElseThrow().version());
    }
    queue.cancel();
    awaitStats(store, s -> s.pins() == 0, "the feed's share released");

    // Materialized after the transaction closed: nothing pins its version any more.
    ReadTransaction closed = store.readTransaction();
    ChangeFeedOptions late = ChangeFeedOptions.after(closed);
    closed.close();
    Throwable e = awaitFailure(ChangeFeed.commits(store, late).runWith(Sink.seq(), kit.system()));
    assertInstanceOf(IllegalStateException.class, e);
    assertTrue(e.getMessage().contains("is closed"), e.getMessage());
    await(store.close());
  }

  @Test
  void aFeedAfterAReadTransactionOfAnotherStoreFails() {
    ZVerseStore store = kit.open(kit.settings());
    ZVerseStore other = kit.open(kit.settings());
    try (ReadTransaction tx = other.readTransaction()) {
      Throwable e =
          awaitFailure(
              ChangeFeed.commits(store, ChangeFeedOptions.after(tx))
                  .runWith(Sink.seq(), kit.system()));
      assertInstanceOf(IllegalArgumentException.class, e);
    }
    await(store.close());
    await(other.close());
  }

  /**
   * By default a feed holds nothing past its store's retention: a consumer that stops pulling on a
   * store keeping 100 versions fails with the lag error, and the store keeps 100 versions, not the
   * 10,000 the writers commit.
   */
  @Test
  void byDefaultASlowFeedHoldsNothingPastTheStoresRetention() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(100));
    SinkQueueWithCancel<CommitRecord> queue =
        ChangeFeed.commits(store, ChangeFeedOptions.fromNow())
            .toMat(Sink.queue(), Keep.right())
            .withAttributes(Attributes.inputBuffer(1, 1))
            .run(kit.system());
    writeFlatOut(store, 10_000);
    EpochStats stats =
        awaitStats(store, s -> s.pins() == 0 && s.retainedVersions() == 100, "retention winning");
    assertEquals(10_000, stats.version());
    ChangeFeedLagException lag = assertInstanceOf(ChangeFeedLagException.class, failureOf(queue));
    assertEquals(0, lag.maxLag(), "bounded by retention");
    assertTrue(lag.getMessage().contains("max-lag = retention"), lag.getMessage());
    assertTrue(
        lag.watermark() >= lag.latestVersion() - 99,
        "where history starts once the feed let go: " + lag.getMessage());
    await(store.close());
  }

  /**
   * One group commit may publish more versions than the store retains: a feed that keeps up is then
   * behind retention by part of one group, through no slowness of its consumer, and must not fail
   * for it (nor with previous values, which need the state before each commit).
   */
  @Test
  void aFeedThatKeepsUpOutlivesGroupsLargerThanTheRetention() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(2));
    for (boolean previous : new boolean[] {false, true}) {
      long next = store.version() + 1;
      SinkQueueWithCancel<CommitRecord> queue =
          ChangeFeed.commits(store, ChangeFeedOptions.fromNow().withPreviousValues(previous))
              .toMat(Sink.queue(), Keep.right())
              .withAttributes(Attributes.inputBuffer(1, 1))
              .run(kit.system());
      awaitStats(store, s -> s.pins() == 1, "the feed has started");
      // Each round sends 256 writes at once (groups of many versions, far more than 2) and reads
      // them all before the next: the feed keeps up, at most one round behind.
      for (int round = 0; round < 8; round++) {
        writeFlatOut(store, 256);
        for (long last = store.version(); next <= last; next++) {
          assertEquals(next, await(queue.pull()).orElseThrow().version(), "previous " + previous);
        }
      }
      queue.cancel();
    }
    await(store.close());
  }

  /** A lag limit set for one store's feeds (explicit settings) holds history past retention. */
  @Test
  void aLagLimitInTheSettingsLetsAFeedHoldHistoryPastRetention() {
    ZVerseStore store =
        kit.open(kit.settings().withRetentionVersions(10).withLongPinWarning(Duration.ofMillis(1)));
    StreamsSettings patient = StreamsSettings.create(kit.system()).withMaxLag(2_000);
    SinkQueueWithCancel<CommitRecord> queue =
        ChangeFeed.commits(store, ChangeFeedOptions.fromNow(), patient)
            .toMat(Sink.queue(), Keep.right())
            .withAttributes(Attributes.inputBuffer(1, 1))
            .run(kit.system());
    writeFlatOut(store, 1_000);
    awaitStats(store, s -> s.version() == 1_000, "the writes");
    // Not a sleep, which passes when no tick ran: a tick that saw every write warns about the
    // feed's pin holding back pruning, and decides in the same step, before the stats below.
    LoggingTestKit.warn("has pinned version [")
        .withMessageRegex(".*latest version \\[1000\\].*")
        .withCheckExcess(false)
        .expect(kit.system(), () -> null);
    EpochStats held = await(store.epochStats());
    assertTrue(held.watermark() <= 2, "the feed holds what it has not read: " + held);
    for (long v = 1; v <= 1_000; v++) {
      assertEquals(v, await(queue.pull()).orElseThrow().version());
    }
    writeFlatOut(store, 2_500);
    ChangeFeedLagException lag = assertInstanceOf(ChangeFeedLagException.class, failureOf(queue));
    assertEquals(2_000, lag.maxLag());
    awaitStats(
        store, s -> s.pins() == 0 && s.retainedVersions() == 10, "retention after the limit");
    await(store.close());
  }

  /**
   * A feed refused at the start fails its stream quietly: Pekko logs no ERROR (and no stack trace)
   * for it, whether it is compacted, too far behind, on a closed store or after a closed
   * transaction.
   */
  @Test
  void aFeedRefusedAtTheStartFailsWithoutAnErrorLog() {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(1));
    writeFlatOut(store, 10);
    awaitStats(store, s -> s.watermark() == 10, "retention of one version");
    ReadTransaction closedTx = store.readTransaction();
    ChangeFeedOptions afterClosedTx = ChangeFeedOptions.after(closedTx);
    closedTx.close();
    ZVerseStore closed = kit.open(kit.settings());
    await(closed.close());
    ZVerseStore keeping = kit.open(kit.settings());
    writeFlatOut(keeping, 10);
    List<Throwable> failures = new ArrayList<>();
    LoggingTestKit.empty()
        .withLogLevel(Level.ERROR)
        .withOccurrences(0)
        .expect(
            kit.system(),
            () -> {
              for (Source<CommitRecord, ?> refused :
                  List.of(
                      ChangeFeed.commits(store, ChangeFeedOptions.after(3)),
                      ChangeFeed.commits(
                          store, ChangeFeedOptions.after(9).withPreviousValues(true)),
                      ChangeFeed.commits(keeping, ChangeFeedOptions.after(0).withMaxLag(1)),
                      ChangeFeed.commits(store, afterClosedTx),
                      ChangeFeed.commits(store, ChangeFeedOptions.after(11)),
                      ChangeFeed.commits(closed, ChangeFeedOptions.fromNow()))) {
                failures.add(awaitFailure(refused.runWith(Sink.seq(), kit.system())));
              }
              return null;
            });
    assertInstanceOf(ChangeFeedCompactedException.class, failures.get(0));
    assertInstanceOf(ChangeFeedCompactedException.class, failures.get(1));
    assertInstanceOf(ChangeFeedLagException.class, failures.get(2));
    assertInstanceOf(IllegalStateException.class, failures.get(3));
    assertInstanceOf(IllegalArgumentException.class, failures.get(4));
    assertInstanceOf(IllegalStateException.class, failures.get(5));
    await(store.close());
    await(keeping.close());
  }

  /**
   * The start pin never blocks: while the EpochActor is deciding a watermark above the version a
   * feed needs, the feed neither fails nor holds up the one thread its stream shares with another
   * stream; once the decision keeps the version, the feed starts; once it prunes past, the feed
   * fails with the compacted error.
   */
  @Test
  void aStartRacingAnEpochDecisionWaitsWithoutBlockingAndFollowsTheDecision() {
    ZVerseStore store = kit.open(kit.settings().withEpochTick(Duration.ofHours(1)));
    writeFlatOut(store, 10);
    await(store.epochStats()); // the EpochActor has started; it decides nothing for an hour
    EpochDecisions.propose(store, 8);
    Attributes oneThread = ActorAttributes.dispatcher("one-thread-dispatcher");
    CompletionStage<List<CommitRecord>> kept =
        ChangeFeed.commits(store, ChangeFeedOptions.after(4))
            .take(2)
            .withAttributes(oneThread)
            .runWith(Sink.seq(), kit.system());
    CompletionStage<List<CommitRecord>> pruned =
        ChangeFeed.commits(store, ChangeFeedOptions.after(2))
            .withAttributes(oneThread)
            .runWith(Sink.seq(), kit.system());
    assertEquals(
        List.of(1, 2, 3),
        await(
            Source.from(List.of(1, 2, 3))
                .withAttributes(oneThread)
                .runWith(Sink.seq(), kit.system())),
        "another stream on the same thread runs while the feeds wait");
    // No wait needed: the one thread runs its tasks in order, so both feeds, started first, have
    // tried their start pins before that stream could finish; they found the decision pending.
    assertFalse(kept.toCompletableFuture().isDone(), "pending, not refused");
    assertFalse(pruned.toCompletableFuture().isDone(), "pending, not refused");

    EpochDecisions.decide(store, 4);
    assertEquals(List.of(5L, 6L), await(kept).stream().map(CommitRecord::version).toList());
    ChangeFeedCompactedException e =
        assertInstanceOf(ChangeFeedCompactedException.class, awaitFailure(pruned));
    assertEquals(3, e.requestedVersion());
    assertTrue(e.watermark() >= 4, e.getMessage());
    await(store.close());
  }
}
