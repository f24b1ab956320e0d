package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster store opened with durable settings: the writer's local store and the node's replica
 * each keep their own data directory under the one the settings name ({@code writer/} and {@code
 * replica/}), so both open on the writer's node, and a replica node restarted on a new actor system
 * with the same directory recovers its replica and follows on from the recovered version. A durable
 * replica also keeps, across a restart, what it acknowledged but was not yet told was acknowledged,
 * the creation terms of its history, and the term it promised (its replica log, {@link
 * ReplicaLog}).
 */
@ExtendWith(LogCapturingExtension.class)
class DurableReplicaTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /**
   * How long {@link LoggingTestKit} waits for a line a test expects: the reset that logs it runs a
   * state transfer and a checkpoint, which a loaded machine may take seconds over.
   */
  private static final String LEEWAY = "pekko.actor.testkit.typed.filter-leeway = 60s";

  /** Versions 1 to 3: 1 created in term 2, 2 and 3 in term 5. */
  private static final TermBoundaries TERMS = TermBoundaries.NONE.extend(0, 2).extend(1, 5);

  private static Snapshot history() {
    Snapshot s = Snapshot.empty();
    for (int i = 1; i <= 3; i++) {
      s = s.apply(WriteBatch.ofPut("k" + i, "v" + i));
    }
    return s;
  }

  /** Waits for the replica's acknowledgement of {@code received} with {@code applied} shown. */
  private static void awaitAck(
      TestProbe<WriterProtocol.Command> writer, long received, long applied) {
    writer.fishForMessage(
        WAIT,
        m ->
            m instanceof WriterProtocol.Ack a && a.received() == received && a.applied() == applied
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
  }

  @Test
  void aRestartedDurableReplicaHoldsWhatItAcknowledgedAndPromisesWithItAndItsCreationTerms(
      @TempDir Path dir) throws Exception {
    String name = "held";
    // Node 0, the oldest, never opens the store: no writer singleton starts, and the test plays
    // the writer, so that it decides what the replica is told was acknowledged.
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      TestProbe<WriterProtocol.Command> writer = TestProbe.create(cluster.node(1));
      Snapshot h = history();
      List<CommitRecord> commits = List.of(h.commit(1), h.commit(2), h.commit(3));
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer.getRef(), 0, TERMS));
      replica
          .replicaActor()
          .tell(new WriterProtocol.Commits(5, 1, new CommitRecordCodec.Group(0, commits)));
      // Acknowledged 3 received, shows 1: the writer declared only version 1 acknowledged.
      awaitAck(writer, 3, 1);
      assertEquals(1, replica.snapshot().version());
      cluster.stopNode(1);

      int again = cluster.addNode();
      ClusterStore back = ClusterStore.open(cluster.node(again), name, durable, settings);
      assertEquals(1, back.snapshot().version(), "versions 2 and 3 are held, not shown");
      TestProbe<WriterProtocol.Command> next = TestProbe.create(cluster.node(again));
      back.replicaActor().tell(new ReplicaProtocol.Promise(6, next.getRef()));
      WriterProtocol.Promised p = next.expectMessageClass(WriterProtocol.Promised.class, WAIT);
      assertTrue(p.granted(), p.toString());
      assertEquals(1, p.applied(), p.toString());
      assertEquals(3, p.received(), "what it acknowledged survived the restart: " + p);
      assertEquals(5, p.lastTerm(), "the creation term of its last version: " + p);
      assertEquals(TERMS, p.terms(), p.toString());
      // The new writer took over the tail and acknowledged it again: now it is shown, as it was.
      back.replicaActor()
          .tell(new ReplicaProtocol.Subscribed(6, next.getRef(), 0, TERMS.extend(3, 6)));
      back.replicaActor().tell(new ReplicaProtocol.CommitIndex(6, 3));
      Snapshot shown = await(back.awaitVersion(3, WAIT));
      for (long v = 1; v <= 3; v++) {
        assertEquals(h.commit(v), shown.commit(v), "commit " + v);
      }
      await(back.close());
    }
  }

  /** Every version created in term 5. */
  private static final TermBoundaries TERM5 = TermBoundaries.NONE.extend(0, 5);

  /** Versions 1 to {@code n}, one put each. */
  private static Snapshot history(int n) {
    Snapshot s = Snapshot.empty();
    for (int i = 1; i <= n; i++) {
      s = s.apply(WriteBatch.ofPut("k" + i, "v" + i));
    }
    return s;
  }

  /**
   * A store named as the writer's of {@code name}, holding versions 1 to {@code version} of {@code
   * h}, and a state transfer server that offers it, as the writer's node does; on node 1, beside
   * the replica: a test's messages to an actor of another node's system would skip the wire.
   */
  private static ActorRef<StateTransfer.Request> source(
      ClusterHarness cluster, String name, Snapshot h, long version) throws Exception {
    String storeName = WriterSingleton.writerStoreName(name);
    ZVerseStore store =
        ZVerse.get(cluster.node(1))
            .openReplica(storeName, StoreSettings.create(cluster.node(1), storeName));
    await(store.advanced().applyCommits(group(h, 1, version)));
    return cluster
        .node(1)
        .systemActorOf(
            StateTransfer.server(store, TransferSettings.create(cluster.node(1))),
            "source-" + name,
            Props.empty());
  }

  /** The next {@link WriterProtocol.Follow} {@code writer} receives, other messages ignored. */
  private static WriterProtocol.Follow nextFollow(TestProbe<WriterProtocol.Command> writer) {
    return (WriterProtocol.Follow)
        writer
            .fishForMessage(
                WAIT,
                m ->
                    m instanceof WriterProtocol.Follow
                        ? FishingOutcomes.complete()
                        : FishingOutcomes.continueAndIgnore())
            .get(0);
  }

  /** A path where the replica store needs to create a file, blocked by a directory. */
  private static Path block(Path path) throws IOException {
    Files.createDirectories(path);
    Files.writeString(path.resolve("blocker"), "a directory where a file is expected");
    return path;
  }

  private static void unblock(Path path) throws IOException {
    Files.delete(path.resolve("blocker"));
    Files.delete(path);
  }

  @Test
  void aTransferFromAWriterWhoseTermWasPromisedAwayIsDroppedAndItsNeedsTransferFenced(
      @TempDir Path dir) throws Exception {
    String name = "fenced-transfer";
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      ActorRef<StateTransfer.Request> server = source(cluster, name, history(4), 4);
      TestProbe<WriterProtocol.Command> writer = TestProbe.create(cluster.node(1));
      TestProbe<StateTransfer.Request> held = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer.getRef(), 0, TERM5));
      replica
          .replicaActor()
          .tell(
              new ReplicaProtocol.NeedsTransfer(5, writer.getRef(), 1, 4, 4, held.getRef(), TERM5));
      StateTransfer.Request request = held.expectMessageClass(StateTransfer.Request.class, WAIT);
      // While the state is on its way, a candidate of term 6 is promised: it may have counted on
      // this replica's history as it was.
      TestProbe<WriterProtocol.Command> candidate = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Promise(6, candidate.getRef()));
      assertTrue(candidate.expectMessageClass(WriterProtocol.Promised.class, WAIT).granted());
      server.tell(request);
      // Dropped, not installed: the replica asks again from where it was.
      assertEquals(1, nextFollow(writer).from(), "the state of term 5 was dropped");
      assertEquals(0, replica.snapshot().version());
      // And a NeedsTransfer of term 5 now is fenced like its commits.
      replica
          .replicaActor()
          .tell(new ReplicaProtocol.NeedsTransfer(5, writer.getRef(), 1, 4, 4, server, TERM5));
      writer.fishForMessage(
          WAIT,
          m ->
              m instanceof WriterProtocol.Fenced f && f.term() == 6
                  ? FishingOutcomes.complete()
                  : FishingOutcomes.continueAndIgnore());
      await(replica.close());
    }
  }

  @Test
  void aNewerWriterThatAnswersWhileAStateIsTransferredIsFollowedOnlyAfterTheResetWithItsTerms(
      @TempDir Path dir) throws Exception {
    String name = "newer-during-transfer";
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      ActorRef<StateTransfer.Request> server = source(cluster, name, history(4), 4);
      TestProbe<WriterProtocol.Command> writer5 = TestProbe.create(cluster.node(1));
      TestProbe<WriterProtocol.Command> writer6 = TestProbe.create(cluster.node(1));
      TestProbe<StateTransfer.Request> held = TestProbe.create(cluster.node(1));
      TermBoundaries terms6 = TERM5.extend(4, 6);
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer5.getRef(), 0, TERM5));
      replica
          .replicaActor()
          .tell(
              new ReplicaProtocol.NeedsTransfer(
                  5, writer5.getRef(), 1, 4, 4, held.getRef(), TERM5));
      StateTransfer.Request request = held.expectMessageClass(StateTransfer.Request.class, WAIT);
      // The review's interleaving: a writer of term 6 answers (a Follow sent before, say) while
      // the state of term 5 is on its way.
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(6, writer6.getRef(), 0, terms6));
      server.tell(request);
      assertEquals(5, nextFollow(writer5).from(), "reset to 4, then asked to follow on");
      assertEquals(4, replica.snapshot().version());
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(6, writer6.getRef(), 0, terms6));
      TestProbe<WriterProtocol.Command> candidate = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Promise(7, candidate.getRef()));
      WriterProtocol.Promised p = candidate.expectMessageClass(WriterProtocol.Promised.class, WAIT);
      assertEquals(terms6, p.terms(), "the creation terms of the writer followed: " + p);
      await(replica.close());
    }
  }

  @Test
  void heldCommitsAfterTheTransferredVersionAreKeptAndTheLogOpensAfterTheReset(@TempDir Path dir)
      throws Exception {
    String name = "held-after";
    Snapshot h = history(8);
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      ActorRef<StateTransfer.Request> server = source(cluster, name, h, 4);
      TestProbe<WriterProtocol.Command> writer = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer.getRef(), 0, TERM5));
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 1, group(h, 1, 6)));
      awaitAck(writer, 6, 1);
      replica
          .replicaActor()
          .tell(new ReplicaProtocol.NeedsTransfer(5, writer.getRef(), 2, 4, 4, server, TERM5));
      // 5 and 6 were acknowledged and are not in the state at 4: still held.
      assertEquals(7, nextFollow(writer).from());
      assertEquals(4, replica.snapshot().version());
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 8, group(h, 7, 8)));
      await(replica.awaitVersion(8, WAIT));
      cluster.stopNode(1);

      int again = cluster.addNode();
      ClusterStore back = ClusterStore.open(cluster.node(again), name, durable, settings);
      Snapshot recovered = back.snapshot();
      assertEquals(8, recovered.version());
      for (long v = 5; v <= 8; v++) {
        assertEquals(h.commit(v).changes(), recovered.commit(v).changes(), "commit " + v);
      }
      TestProbe<WriterProtocol.Command> next = TestProbe.create(cluster.node(again));
      back.replicaActor().tell(new ReplicaProtocol.Promise(6, next.getRef()));
      WriterProtocol.Promised p = next.expectMessageClass(WriterProtocol.Promised.class, WAIT);
      assertEquals(8, p.received(), p.toString());
      await(back.close());
    }
  }

  /**
   * A durable replica on node 1 of {@code cluster} that followed a writer of term 5 (the test's
   * {@code writer} probe) and received versions 1 to 3 of {@code h}, of which the writer declared
   * only 1 acknowledged: 1 is applied, 2 and 3 are held. A state transfer server beside it offers
   * {@code h} at version {@code offered}.
   */
  private record Held(
      ClusterStore replica,
      StoreSettings durable,
      ClusterSettings settings,
      TestProbe<WriterProtocol.Command> writer,
      ActorRef<StateTransfer.Request> server) {
    static Held open(ClusterHarness cluster, String name, Path dir, Snapshot h, long offered)
        throws Exception {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      ActorRef<StateTransfer.Request> server = source(cluster, name, h, offered);
      TestProbe<WriterProtocol.Command> writer = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer.getRef(), 0, TERM5));
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 1, group(h, 1, 3)));
      awaitAck(writer, 3, 1);
      return new Held(replica, durable, settings, writer, server);
    }

    /** The writer tells the replica it retains no more its next version 2: it must catch up. */
    void needsTransfer(long latest) {
      replica
          .replicaActor()
          .tell(
              new ReplicaProtocol.NeedsTransfer(
                  5, writer.getRef(), 2, latest, latest, server, TERM5));
    }

    /**
     * Sends the replica to state transfer at {@code latest} with the checkpoint of that state
     * blocked, and returns once the replica handled the failure: the store's reset fails after the
     * replica log took the state's history, before anything of the state is durable (a first-stage
     * failure, as a full disk gives), and the store goes on as it was.
     *
     * @return the blocker, for {@link #unblock}
     */
    Path failReset(ClusterHarness cluster, Path dir, long latest) throws IOException {
      Path blocked =
          block(dir.resolve("replica").resolve(String.format("checkpoint-%020d.tmp", latest)));
      LoggingTestKit.warn("State transfer failed")
          .withLoggerName(ReplicaActor.class.getName())
          .expect(
              cluster.node(1),
              () -> {
                needsTransfer(latest);
                return Boolean.TRUE;
              });
      return blocked;
    }
  }

  /** The next {@link WriterProtocol.Follow} from {@code from} that {@code writer} receives. */
  private static void followFrom(TestProbe<WriterProtocol.Command> writer, long from) {
    writer.fishForMessage(
        WAIT,
        m ->
            m instanceof WriterProtocol.Follow f && f.from() == from
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
  }

  @Test
  void aCrashBeforeTheStoresResetIsDurableKeepsTheHeldAcknowledgedCommits(@TempDir Path dir)
      throws Exception {
    String name = "crash-before-reset";
    Snapshot h = history(5);
    try (ClusterHarness cluster = ClusterHarness.start(2, LEEWAY)) {
      Held held = Held.open(cluster, name, dir, h, 5);
      ClusterStore replica = held.replica();
      StoreSettings durable = held.durable();
      ClusterSettings settings = held.settings();
      Path blocked = held.failReset(cluster, dir, 5);
      assertEquals(
          4, nextFollow(held.writer()).from(), "2 and 3 still held after the failed reset");
      assertEquals(1, replica.snapshot().version());
      assertEquals(Optional.empty(), replica.status().failure());
      cluster.stopNode(1);
      unblock(blocked);

      int again = cluster.addNode();
      ClusterStore back = ClusterStore.open(cluster.node(again), name, durable, settings);
      assertEquals(1, back.snapshot().version());
      TestProbe<WriterProtocol.Command> next = TestProbe.create(cluster.node(again));
      back.replicaActor().tell(new ReplicaProtocol.Promise(6, next.getRef()));
      WriterProtocol.Promised p = next.expectMessageClass(WriterProtocol.Promised.class, WAIT);
      assertEquals(3, p.received(), "what it acknowledged survived: " + p);
      assertEquals(TERM5, p.terms(), p.toString());
      await(back.close());
    }
  }

  @Test
  void aReplicaWhoseResetFailedAndThatIsThenFollowedOnItsLogIsNoLongerCatchingUpAndIsReady(
      @TempDir Path dir) throws Exception {
    String name = "followed-after-failed-reset";
    try (ClusterHarness cluster = ClusterHarness.start(2, LEEWAY)) {
      Held held = Held.open(cluster, name, dir, history(5), 5);
      ClusterStore replica = held.replica();
      Path blocked = held.failReset(cluster, dir, 5);
      assertTrue(replica.status().catchingUp(), replica.status().toString());
      assertFalse(await(replica.readiness().get()), "not ready while it must catch up");
      // A new writer that retains the replica's next version answers the retried Follow: the
      // replica follows on its log, with no transfer.
      replica
          .replicaActor()
          .tell(new ReplicaProtocol.Subscribed(5, held.writer().getRef(), 3, TERM5));
      await(replica.awaitVersion(3, WAIT));
      assertEquals(Optional.empty(), replica.status().failure());
      assertFalse(replica.status().catchingUp(), replica.status().toString());
      assertTrue(await(replica.readiness().get()), replica.status().toString());
      unblock(blocked);
      await(replica.close());
    }
  }

  @Test
  void aReplicaWhoseResetKeepsFailingAsksAgainAfterAWaitThatDoublesUpToItsBound(@TempDir Path dir)
      throws Exception {
    String name = "backing-off";
    // follow-retry is 200 ms in every test cluster (ClusterHarness.BASE).
    String config = LEEWAY + "\nzverse.cluster.transfer.retry-backoff-max = 800ms";
    try (ClusterHarness cluster = ClusterHarness.start(2, config)) {
      Held held = Held.open(cluster, name, dir, history(5), 5);
      ClusterStore replica = held.replica();
      Path blocked = held.failReset(cluster, dir, 5);
      assertEquals(1, replica.status().failedTransfers(), replica.status().toString());
      long failures = 1;
      // Each time the replica asks again, the writer answers that it must transfer, which fails
      // again: the wait before the next ask is what the replica reports choosing (no clock is
      // read here), 200 ms, then twice as long each time, up to the bound.
      for (long ms : new long[] {400, 800, 800}) {
        LoggingTestKit.warn("asking the writer again in " + ms + " ms")
            .withLoggerName(ReplicaActor.class.getName())
            .expect(
                cluster.node(1),
                () -> {
                  followFrom(held.writer(), 4);
                  held.needsTransfer(5);
                  return Boolean.TRUE;
                });
        failures++;
        assertEquals(failures, replica.status().failedTransfers(), replica.status().toString());
        assertTrue(replica.status().catchingUp(), replica.status().toString());
      }
      unblock(blocked);
      held.needsTransfer(5);
      followFrom(held.writer(), 6); // reset to 5, then asked to follow on
      assertEquals(0, replica.status().failedTransfers(), "a transfer that succeeds ends it");
      assertFalse(replica.status().catchingUp(), replica.status().toString());
      await(replica.close());
    }
  }

  @Test
  void theFollowTimeoutWarningComesOnlyFromTheWriterThatOfferedTheStateAndPinnedItsNextVersion(
      @TempDir Path dir) throws Exception {
    String name = "pinned-by";
    try (ClusterHarness cluster = ClusterHarness.start(2, LEEWAY)) {
      Held held = Held.open(cluster, name, dir, history(5), 5);
      ClusterStore replica = held.replica();
      held.needsTransfer(5);
      followFrom(held.writer(), 6); // reset to 5 by the writer of term 5
      // A writer elected since (term 6) never held the pin of 6: its answer that it does not
      // retain 6 says nothing about follow-timeout.
      TestProbe<WriterProtocol.Command> elected = TestProbe.create(cluster.node(1));
      ReplicaProtocol.NeedsTransfer fromElected =
          new ReplicaProtocol.NeedsTransfer(6, elected.getRef(), 6, 5, 5, held.server(), TERM5);
      LoggingTestKit.warn("follow-timeout")
          .withLoggerName(ReplicaActor.class.getName())
          .withOccurrences(0)
          .expect(
              cluster.node(1),
              () ->
                  LoggingTestKit.info("The replica was reset to version 5")
                      .withLoggerName(ReplicaActor.class.getName())
                      .expect(
                          cluster.node(1),
                          () -> {
                            replica.replicaActor().tell(fromElected);
                            return Boolean.TRUE;
                          }));
      // The writer that offered that state pinned 6 itself: it may have let the pin go too soon.
      LoggingTestKit.warn("possibly ended before the replica asked to follow on")
          .withLoggerName(ReplicaActor.class.getName())
          .expect(
              cluster.node(1),
              () -> {
                replica.replicaActor().tell(fromElected);
                return Boolean.TRUE;
              });
      await(replica.close());
    }
  }

  @Test
  void aHeldTailBelowTheTransferredVersionIsDroppedSoTheReplicaReopensWithWhatFollowsTheState(
      @TempDir Path dir) throws Exception {
    // The replica holds 2 and 3 (applied 1) and is reset to a state at 5: its log must say that
    // the store holds 5 (BASED), or it would hold 2 and 3 and then 6, and refuse to open ("received
    // versions from 6 do not follow 3").
    String name = "held-below";
    Snapshot h = history(6);
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      Held held = Held.open(cluster, name, dir, h, 5);
      ClusterStore replica = held.replica();
      held.needsTransfer(5);
      followFrom(held.writer(), 6); // reset to 5, then asked to follow on
      assertEquals(5, replica.snapshot().version());
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 6, group(h, 6, 6)));
      awaitAck(held.writer(), 6, 6);
      cluster.stopNode(1);

      int again = cluster.addNode();
      ClusterStore back =
          ClusterStore.open(cluster.node(again), name, held.durable(), held.settings());
      Snapshot recovered = back.snapshot();
      assertEquals(6, recovered.version());
      assertEquals(h.commit(6).changes(), recovered.commit(6).changes());
      TestProbe<WriterProtocol.Command> next = TestProbe.create(cluster.node(again));
      back.replicaActor().tell(new ReplicaProtocol.Promise(6, next.getRef()));
      WriterProtocol.Promised p = next.expectMessageClass(WriterProtocol.Promised.class, WAIT);
      assertEquals(6, p.received(), p.toString());
      assertEquals(6, p.applied(), p.toString());
      await(back.close());
    }
  }

  @Test
  void aResetThatFailsOnceTheStatesCheckpointIsDurableFailsTheReplicaWhichRecoversTheState(
      @TempDir Path dir) throws Exception {
    String name = "failed-reset";
    Snapshot h = history(5);
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      ActorRef<StateTransfer.Request> server = source(cluster, name, h, 5);
      TestProbe<WriterProtocol.Command> writer = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer.getRef(), 0, TERM5));
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 1, group(h, 1, 2)));
      awaitAck(writer, 2, 1);
      // The log cannot restart after the state: its checkpoint is in place, the log is not.
      Path blocked = block(dir.resolve("replica").resolve(String.format("wal-%020d.log", 6)));
      replica
          .replicaActor()
          .tell(new ReplicaProtocol.NeedsTransfer(5, writer.getRef(), 2, 5, 5, server, TERM5));
      Throwable failed = ClusterHarness.failure(replica.awaitVersion(5, WAIT));
      assertTrue(
          String.valueOf(failed.getMessage()).contains("failed while it was reset"),
          String.valueOf(failed));
      assertTrue(replica.status().failure().isPresent(), replica.status().toString());
      cluster.stopNode(1);
      unblock(blocked);

      int again = cluster.addNode();
      ClusterStore back = ClusterStore.open(cluster.node(again), name, durable, settings);
      assertEquals(5, back.snapshot().version(), "the state's checkpoint was durable");
      assertEquals(Optional.empty(), back.status().failure());
      await(back.close());
    }
  }

  @Test
  void closeCompletesOnlyOnceTheReplicaActorStoppedAndClosedItsLog(@TempDir Path dir)
      throws Exception {
    String name = "closing";
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      for (int i = 0; i < 3; i++) {
        ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
        ReplicaLog log = replica.replicaLog();
        assertTrue(log != null && log.isOpen(), "a durable replica's log is open");
        AtomicBoolean openAtClose = new AtomicBoolean(true);
        await(replica.close().thenRun(() -> openAtClose.set(log.isOpen())));
        // A reopen rewrites the log: the old actor must no longer force or answer into it.
        assertFalse(openAtClose.get(), "the log was still open when close() completed, " + i);
      }
    }
  }

  @Test
  void aDurableReplicaWithDataButNoReplicaLogWarnsAtStart(@TempDir Path dir) throws Exception {
    String name = "upgraded";
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      TestProbe<WriterProtocol.Command> writer = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer.getRef(), 0, TERMS));
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 3, group(history(), 1, 3)));
      await(replica.awaitVersion(3, WAIT));
      await(replica.close());
      // A data directory from before replica logs: the store has versions, no log is there.
      Files.delete(dir.resolve("replica-log").resolve(ReplicaLog.FILE));
      ClusterStore back =
          LoggingTestKit.warn("has no replica log")
              .withLoggerName(ReplicaActor.class.getName())
              .expect(
                  cluster.node(1),
                  () -> ClusterStore.open(cluster.node(1), name, durable, settings));
      assertEquals(3, back.snapshot().version());
      await(back.close());
    }
  }

  /** What the replica log told the test, in line with what the replica sent: now durable. */
  private record Forced(long received) implements NoSerializationVerificationNeeded {}

  @Test
  void aDurableReplicaAsksToFollowAcknowledgesAndPromisesOnlyWhatItForced(@TempDir Path dir)
      throws Exception {
    String name = "forced";
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      // The writer and the log's force report share one probe, so it sees them in the order the
      // replica actor did them: a Follow from v acknowledges v - 1 (WriterSingleton.onFollow).
      TestProbe<Object> probe = TestProbe.create(cluster.node(1));
      ActorRef<WriterProtocol.Command> writer = probe.getRef().narrow();
      CountDownLatch held = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      AtomicBoolean first = new AtomicBoolean(true);
      ReplicaLog log = replica.replicaLog();
      assertTrue(log != null, "a durable replica has a log");
      log.onSync(
          received -> {
            probe.getRef().tell(new Forced(received));
            if (first.getAndSet(false)) {
              // Holds the actor in its promise, so the messages below are queued together.
              held.countDown();
              awaitLatch(release);
            }
          });
      Snapshot s = Snapshot.empty();
      for (int i = 1; i <= 30; i++) {
        s = s.apply(WriteBatch.ofPut("k" + i, "v" + i));
      }
      TermBoundaries terms = TermBoundaries.NONE.extend(0, 5);
      replica.replicaActor().tell(new ReplicaProtocol.Promise(5, writer));
      awaitLatch(held);
      replica.replicaActor().tell(new ReplicaProtocol.Subscribed(5, writer, 0, terms));
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 0, group(s, 1, 10)));
      // 11 to 20 lost: a gap, so the replica asks again from 11 before its Flush runs.
      replica.replicaActor().tell(new WriterProtocol.Commits(5, 0, group(s, 21, 30)));
      release.countDown();
      long forced = -1;
      boolean followed = false;
      boolean acked = false;
      while (!(followed && acked)) {
        Object m = probe.receiveMessage(WAIT);
        if (m instanceof Forced f) {
          forced = f.received();
        } else if (m instanceof WriterProtocol.Follow f) {
          assertTrue(f.from() - 1 <= forced, "asked from " + f.from() + ", forced " + forced);
          followed |= f.from() == 11;
        } else if (m instanceof WriterProtocol.Ack a) {
          assertTrue(a.received() <= forced, "acknowledged " + a + ", forced " + forced);
          acked |= a.received() == 10;
        } else if (m instanceof WriterProtocol.Promised p) {
          assertTrue(p.received() <= forced, "promised with " + p + ", forced " + forced);
        }
      }
      log.onSync(null);
      await(replica.close());
    }
  }

  private static CommitRecordCodec.Group group(Snapshot s, long from, long to) {
    List<CommitRecord> commits = new ArrayList<>();
    for (long v = from; v <= to; v++) {
      commits.add(s.commit(v));
    }
    return new CommitRecordCodec.Group(0, commits);
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      assertTrue(latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "latch");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aRestartedDurableReplicaRefusesATermLowerThanOneItPromisedBeforeTheRestart(@TempDir Path dir)
      throws Exception {
    String name = "promised";
    try (ClusterHarness cluster = ClusterHarness.start(2, "")) {
      ClusterSettings settings = ClusterSettings.create(cluster.node(1)).withWriteTimeout(WAIT);
      StoreSettings durable = StoreSettings.create(cluster.node(1), name).withDataDirectory(dir);
      ClusterStore replica = ClusterStore.open(cluster.node(1), name, durable, settings);
      TestProbe<WriterProtocol.Command> candidate = TestProbe.create(cluster.node(1));
      replica.replicaActor().tell(new ReplicaProtocol.Promise(7, candidate.getRef()));
      assertTrue(candidate.expectMessageClass(WriterProtocol.Promised.class, WAIT).granted());
      cluster.stopNode(1);

      int again = cluster.addNode();
      ClusterStore back = ClusterStore.open(cluster.node(again), name, durable, settings);
      TestProbe<WriterProtocol.Command> older = TestProbe.create(cluster.node(again));
      back.replicaActor().tell(new ReplicaProtocol.Promise(6, older.getRef()));
      WriterProtocol.Promised p = older.expectMessageClass(WriterProtocol.Promised.class, WAIT);
      assertFalse(p.granted(), "term 6 after a promise of term 7: " + p);
      assertEquals(7, p.promisedTerm(), p.toString());
      // A writer of term 6 that never asked is refused too, and told the newer term.
      back.replicaActor()
          .tell(new ReplicaProtocol.Subscribed(6, older.getRef(), 0, TermBoundaries.NONE));
      assertEquals(7, older.expectMessageClass(WriterProtocol.Fenced.class, WAIT).term());
      await(back.close());
    }
  }

  @Test
  void aDurableReplicaBehindTheWritersRetentionCatchesUpByStateTransferAndRecoversFromItsDisk(
      @TempDir Path dir) throws Exception {
    String name = "behind";
    try (ClusterHarness cluster = ClusterHarness.start(1, "")) {
      ClusterSettings settings =
          ClusterSettings.create(cluster.node(0)).withWriteTimeout(WAIT).withMinAcks(0);
      StoreSettings base = StoreSettings.create(cluster.node(0), name);
      // The writer keeps 50 versions; node 0's replica keeps the default.
      StoreSettings writer = base.withRetentionVersions(50).withEpochTick(Duration.ofMillis(10));
      StoreSettings durable = base.withDataDirectory(dir.resolve("node1"));
      ClusterStore writerNode = ClusterStore.open(cluster.node(0), name, writer, base, settings);
      int replicaNode = cluster.addNode();
      ClusterStore replica =
          ClusterStore.open(cluster.node(replicaNode), name, writer, durable, settings);
      await(writerNode.following());
      await(replica.following());
      long v1 = await(writerNode.write(WriteBatch.ofPut("k", "a")));
      await(replica.awaitVersion(v1, WAIT));
      cluster.stopNode(replicaNode);

      for (int i = 0; i < 60; i++) {
        await(writerNode.write(WriteBatch.ofPut("k" + (i % 13), "b" + i)));
      }
      ZVerseStore writerStore =
          ZVerse.get(cluster.node(0)).store(WriterSingleton.writerStoreName(name)).orElseThrow();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (writerStore.snapshot().watermark() <= v1) {
        // Waits for the writer's epoch to prune past the replica's next version.
        assertTrue(System.nanoTime() < deadline, "the writer did not prune");
        await(writerNode.write(WriteBatch.ofPut("tick", "t")));
      }
      long v2 = writerStore.snapshot().version();
      int again = cluster.addNode();
      ClusterStore back = ClusterStore.open(cluster.node(again), name, writer, durable, settings);
      Snapshot caught = await(back.awaitVersion(v2, WAIT));
      await(back.following());
      assertEquals(Optional.empty(), back.status().failure());
      assertFalse(back.status().catchingUp(), back.status().toString());
      // Reset durably: the base's checkpoint is the only one, and no log segment starts at or
      // below its version (the stop before wrote a checkpoint at v1, its log started at 1).
      Path data = dir.resolve("node1").resolve("replica");
      List<Long> checkpoints = versionsOf(data, "checkpoint-", ".zvc");
      assertEquals(1, checkpoints.size(), "checkpoints " + checkpoints);
      long transferred = checkpoints.get(0);
      assertTrue(transferred >= v2, "the base at " + transferred + ", the writer was at " + v2);
      List<Long> segments = versionsOf(data, "wal-", ".log");
      assertTrue(segments.stream().allMatch(first -> first > transferred), "segments " + segments);
      sameAsTheWriter(writerStore.snapshot(), caught);
      long live = 0;
      for (int i = 0; i < 10; i++) {
        live = await(writerNode.write(WriteBatch.ofPut("live" + (i % 3), "c" + i)));
      }
      Snapshot followed = await(back.awaitVersion(live, WAIT));
      sameAsTheWriter(writerStore.snapshot(), followed);
      cluster.stopNode(again);

      // Restarted once more: it recovers at the base's version or later from its own disk (the
      // checkpoint of the base and its log after it), with the writer's content.
      int third = cluster.addNode();
      ClusterStore last = ClusterStore.open(cluster.node(third), name, writer, durable, settings);
      Snapshot recovered = last.snapshot();
      assertTrue(recovered.version() >= v2, "recovered at " + recovered.version() + " < " + v2);
      sameAsTheWriter(writerStore.snapshot(), recovered);
      long after = await(writerNode.write(WriteBatch.ofPut("after", "restart")));
      assertEquals("restart", await(last.awaitVersion(after, WAIT)).get("after"));
      await(last.close());
      await(writerNode.close());
    }
  }

  /** The versions in the names of the files {@code prefix<version>suffix} in {@code dir}. */
  private static List<Long> versionsOf(Path dir, String prefix, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(prefix) && n.endsWith(suffix))
          .map(n -> Long.parseLong(n.substring(prefix.length(), n.length() - suffix.length())))
          .sorted()
          .toList();
    }
  }

  /** Every version the replica holds, from above its watermark, is the writer's commit. */
  private static void sameAsTheWriter(Snapshot writer, Snapshot replica) {
    long from = Math.max(writer.watermark(), replica.watermark()) + 1;
    assertTrue(from <= replica.version(), "nothing to compare above " + from);
    for (long v = from; v <= replica.version(); v++) {
      assertEquals(writer.commit(v), replica.commit(v), "commit " + v);
    }
    assertEquals(
        writer.scan(KeyRange.all(), replica.version()),
        replica.scan(KeyRange.all()),
        "state at " + replica.version());
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
      // The writer still retains what the node missed: it follows from its recovered version,
      // the gap sent as commits (every one compared below), with no state transfer.
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
