package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static dev.zverse.actors.StoreTestKit.freshName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ActorIdentity;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Identify;
import org.apache.pekko.actor.PoisonPill;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A durable replica's resets while its log thread is held (the log's calls go through {@link
 * Journal.LogWrites}, which the test wraps): what arrives while a reset waits for the groups before
 * it, or runs, is kept and handled in order once the base is published, a second reset included; a
 * close waits for the reset and what was kept; a writer stopped meanwhile fails the reset and what
 * was kept, with a message saying the store holds the base or the state before it, and the
 * directory then recovers one of the two, with every acknowledged version.
 */
class DurableResetTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /** Versions 0 to {@link #VERSIONS} of a writer's history, one put each: STATES.get(v) is at v. */
  private static final List<Snapshot> STATES = new ArrayList<>();

  private static final int VERSIONS = 40;

  static {
    Snapshot s = Snapshot.empty();
    STATES.add(s);
    for (int v = 1; v <= VERSIONS; v++) {
      s = s.apply(WriteBatch.ofPut("k" + (v % 7), "v" + v));
      STATES.add(s);
    }
  }

  /** The writer's commits {@code from} to {@code to}. */
  private static CommitRecordCodec.Group commits(long from, long to) {
    Snapshot w = STATES.get(VERSIONS);
    List<CommitRecord> commits = new ArrayList<>();
    for (long v = from; v <= to; v++) {
      commits.add(w.commit(v));
    }
    return new CommitRecordCodec.Group(0, commits);
  }

  /** The writer's state at {@code version}, with history from {@code watermark} on. */
  private static Snapshot base(int version, long watermark) {
    return STATES.get(version).prune(watermark);
  }

  /** {@code store} holds the writer's state at every version from {@code from} to its own. */
  private static void assertWritersFrom(long from, Snapshot store) {
    Snapshot w = STATES.get(VERSIONS);
    for (long v = from; v <= store.version(); v++) {
      assertEquals(w.scan(KeyRange.all(), v), store.scan(KeyRange.all(), v), "state at " + v);
    }
  }

  private static StoreSettings durable(Path dir) {
    return kit.settings().withDataDirectory(dir);
  }

  /** A durable replica that applied versions 1 to 10. */
  private static ZVerseStore replicaAt10(String name, StoreSettings settings) {
    ZVerseStore replica = ZVerse.get(kit.testKit.system()).openReplica(name, settings);
    assertEquals(10, await(replica.advanced().applyCommits(commits(1, 10))));
    return replica;
  }

  /** Which call of the log thread is held. */
  enum Call {
    APPEND,
    SYNC
  }

  /**
   * The journal's calls on the log, the first of one kind held on the log thread until released:
   * what the journal gives that thread after it (a reset) waits behind it.
   */
  private static final class Held implements Journal.LogWrites {
    private final Journal.LogWrites log;
    private final Call call;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    private Held(Journal.LogWrites log, Call call) {
      this.log = log;
      this.call = call;
    }

    static Held inject(ZVerseStore store, Call call) {
      Journal journal = Objects.requireNonNull(store.journal(), "a durable store has a journal");
      Held held = new Held(journal.writes(), call);
      journal.writes(held);
      return held;
    }

    private void hold(Call c) {
      if (c == call && entered.getCount() > 0) {
        entered.countDown();
        awaitLatch(release);
      }
    }

    void awaitEntered() {
      awaitLatch(entered);
    }

    @Override
    public void append(Snapshot previous, Snapshot next) throws IOException {
      hold(Call.APPEND);
      log.append(previous, next);
    }

    @Override
    public void sync() throws IOException {
      hold(Call.SYNC);
      log.sync();
    }

    @Override
    public void checkpoint(Snapshot s) throws IOException {
      log.checkpoint(s);
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      assertTrue(latch.await(StoreTestKit.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "latch");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aResetThatArrivesWhileAnotherWaitsIsKeptAndRunAfterItAndWhatFollowsFollowsTheSecond(
      @TempDir Path dir) {
    String name = freshName("reset-behind-reset");
    ZVerseStore replica = replicaAt10(name, durable(dir));
    Held held = Held.inject(replica, Call.APPEND);
    CompletionStage<Long> before = replica.advanced().applyCommits(commits(11, 12));
    // Sent while the group 11..12 cannot be logged: the first reset waits for it; the second, and
    // the group after it, arrive while the first waits (the log's answer for 11..12 is sent only
    // after the release below, so it is queued behind them).
    CompletionStage<Long> first = replica.advanced().resetTo(base(20, 15));
    CompletionStage<Long> second = replica.advanced().resetTo(base(25, 22));
    CompletionStage<Long> after = replica.advanced().applyCommits(commits(26, 30));
    held.awaitEntered();
    assertEquals(10, replica.version(), "nothing is published while 11..12 is being logged");
    held.release.countDown();
    assertEquals(12, await(before));
    assertEquals(20, await(first));
    assertEquals(25, await(second));
    assertEquals(30, await(after), "the group sent after the second reset follows it");
    assertEquals(22, replica.snapshot().watermark(), "the second base's history");
    assertWritersFrom(22, replica.snapshot());
    await(replica.close());

    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, durable(dir));
    assertEquals(30, again.version());
    assertWritersFrom(22, again.snapshot());
    await(again.close());
  }

  @Test
  void aCloseDuringADurableResetWaitsForItAndWhatWasKeptAndTheReopenedStoreHoldsThemAll(
      @TempDir Path dir) {
    String name = freshName("close-during-reset");
    ZVerseStore replica = replicaAt10(name, durable(dir));
    Held held = Held.inject(replica, Call.APPEND);
    CompletionStage<Long> before = replica.advanced().applyCommits(commits(11, 12));
    CompletionStage<Long> reset = replica.advanced().resetTo(base(20, 15));
    CompletionStage<Long> after = replica.advanced().applyCommits(commits(21, 24));
    held.awaitEntered();
    CompletionStage<Done> closed = replica.close();
    assertFalse(closed.toCompletableFuture().isDone(), "the close waits for the reset");
    held.release.countDown();
    await(closed);
    assertEquals(12, await(before));
    assertEquals(20, await(reset));
    assertEquals(24, await(after));

    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, durable(dir));
    assertEquals(24, again.version(), "the base and the group kept behind it");
    assertEquals(15, again.snapshot().watermark());
    assertWritersFrom(15, again.snapshot());
    await(again.close());
  }

  @Test
  void aWriterStoppedWhileAResetWaitsFailsItAndWhatWasKeptAndTheStoreReopensAtTheStateBefore(
      @TempDir Path dir) {
    String name = freshName("stop-while-reset-waits");
    ZVerseStore replica = replicaAt10(name, durable(dir));
    Held held = Held.inject(replica, Call.APPEND);
    CompletionStage<Long> before = replica.advanced().applyCommits(commits(11, 12));
    CompletionStage<Long> reset = replica.advanced().resetTo(base(20, 15));
    CompletionStage<Long> after = replica.advanced().applyCommits(commits(21, 24));
    held.awaitEntered();
    // Stopped in order, behind the three: the reset waits for 11..12, the group after it is kept.
    stopWriterAfterItsMessages(replica);
    assertStoppedDuringTheReset(awaitFailure(reset));
    assertStoppedDuringTheReset(awaitFailure(after));
    Throwable logging = awaitFailure(before);
    assertTrue(logging.getMessage().contains("may or may not be there"), logging.getMessage());
    held.release.countDown();
    await(replica.close());

    // The reset never ran; 11..12 reached the log after its writer was told it might not have.
    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, durable(dir));
    assertEquals(12, again.version(), "the state before the reset, with every version logged");
    assertWritersFrom(0, again.snapshot());
    await(again.close());
  }

  @Test
  void aWriterStoppedWhileAResetRunsFailsItAndWhatWasKeptAndTheStoreReopensAtTheBase(
      @TempDir Path dir) {
    String name = freshName("stop-while-reset-runs");
    // The periodic force is what holds the log thread: the reset is then queued behind it, run.
    StoreSettings settings =
        durable(dir)
            .withDurability(
                d -> d.withSync(SyncPolicy.INTERVAL).withSyncInterval(Duration.ofMillis(5)));
    ZVerseStore replica = replicaAt10(name, settings);
    Held held = Held.inject(replica, Call.SYNC);
    held.awaitEntered();
    CompletionStage<Long> reset = replica.advanced().resetTo(base(20, 15));
    CompletionStage<Long> after = replica.advanced().applyCommits(commits(21, 24));
    stopWriterAfterItsMessages(replica);
    assertStoppedDuringTheReset(awaitFailure(reset));
    assertStoppedDuringTheReset(awaitFailure(after));
    assertEquals(10, replica.advanced().lastPublished().version(), "the base was never published");
    held.release.countDown();
    await(replica.close());

    // The reset ran to its end on the log thread after the writer stopped: the base is durable,
    // and the close's final checkpoint of the state before it changed nothing.
    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, settings);
    assertEquals(20, again.version(), "the base");
    assertEquals(15, again.snapshot().watermark());
    assertWritersFrom(15, again.snapshot());
    await(again.close());
  }

  private static void assertStoppedDuringTheReset(Throwable failure) {
    assertInstanceOf(IllegalStateException.class, failure);
    assertTrue(
        failure.getMessage().contains("the store holds the base or the state before it"),
        failure.getMessage());
  }

  /**
   * Stops the store's writer as its actor system would, once it handled every message sent to it
   * before: a {@link PoisonPill} is queued behind them (a stop signal would overtake them, and the
   * ones not yet handled would go to the dead letters unanswered).
   */
  private static void stopWriterAfterItsMessages(ZVerseStore store) {
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(kit.testKit.system());
    TestProbe<ActorIdentity> identity = kit.testKit.createTestProbe();
    classic
        .actorSelection("/system/zverse-" + store.name() + "-*-writer")
        .tell(new Identify(store.name()), Adapter.toClassic(identity.ref()));
    ActorRef writer = identity.receiveMessage().getActorRef().orElseThrow();
    writer.tell(PoisonPill.getInstance(), ActorRef.noSender());
  }
}
