package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A new writer whose node's replica lags behind every other replica's retention: it cannot take the
 * commits after its node's version from anyone, so it takes the most advanced replica's state by
 * state transfer, then that replica's received tail, and serves; no acknowledged write is lost and
 * versions continue (three nodes, a failover). On one node, with a probe as the source replica: the
 * transfer, the fetch of the tail after it, and the acknowledged version and creation terms the
 * writer serves with; a failed transfer restarts the election.
 */
@ExtendWith(LogCapturingExtension.class)
class WriterStateTransferTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  /** A writer dispatcher of one thread, which the test holds to keep a replica behind. */
  private static final String HELD_DISPATCHER = "zverse-test-held-replica";

  /**
   * The versions the writer sends a replica past what it applied: the held replica receives no
   * more, so the third node is always the most advanced (with a window past the writes, both would
   * hold every version, and the new writer might take them from its own node).
   */
  private static final int WINDOW = 16;

  /** The versions every replica and the writer retain: far fewer than the test writes. */
  private static final long RETAINED = 50;

  /**
   * Three nodes, min-acks 1. The oldest after the writer's node 0 (and so the next writer's; nodes
   * 1 and 2 may come Up together, then their addresses decide) has its replica's store held from
   * version 0: it receives at most {@link #WINDOW} versions past what it applied, the third node
   * receives and acknowledges every write, and the third node's retention prunes far past the held
   * replica's version. Node 0 then leaves. Before, the new writer asked the third node for the
   * commits after version 0, was refused, and elected itself again, for ever: the write after the
   * failover timed out.
   */
  @Test
  void aNewWriterFarBehindTheOtherReplicasRetentionCatchesUpByStateTransferAndServes()
      throws Exception {
    String name = "far-behind";
    // A transfer's pin goes when its receiver follows, else after follow-timeout: an hour here.
    String config =
        ClusterHarness.singleThreadDispatcher(HELD_DISPATCHER)
            + "zverse.cluster.transfer.follow-timeout = 1h\n";
    try (ClusterHarness cluster = ClusterHarness.start(3, config)) {
      StoreSettings retaining =
          StoreSettings.create(cluster.node(0), name)
              .withRetentionVersions(RETAINED)
              .withEpochTick(Duration.ofMillis(20));
      ClusterSettings settings =
          ClusterSettings.create(cluster.node(0))
              .withWriteTimeout(Duration.ofSeconds(30))
              .withMinAcks(1)
              .withReplicaWindow(WINDOW);
      Member one = Cluster.get(cluster.node(1)).selfMember();
      Member two = Cluster.get(cluster.node(2)).selfMember();
      int next = one.isOlderThan(two) ? 1 : 2;
      int third = 3 - next;
      List<ClusterStore> stores = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        StoreSettings replica =
            i == next ? retaining.withWriterDispatcher(HELD_DISPATCHER) : retaining;
        stores.add(ClusterStore.open(cluster.node(i), name, retaining, replica, settings));
      }
      for (ClusterStore s : stores) {
        await(s.following());
      }
      CountDownLatch release = cluster.hold(next, HELD_DISPATCHER);
      TreeMap<Long, FailoverChecker.Acked> acked = new TreeMap<>();
      try {
        Snapshot behind = stores.get(next).replica().snapshot();
        // Write until the third node's replica no longer retains the held one's next version: a
        // condition on its retention, not a wait for time.
        int n = 0;
        while (stores.get(third).replica().snapshot().watermark() <= behind.version() + WINDOW) {
          assertTrue(n < 100_000, "the third node's replica never pruned");
          List<CompletionStage<Long>> inFlight = new ArrayList<>();
          for (int i = 0; i < 100; i++) {
            inFlight.add(stores.get(third).write(WriteBatch.ofPut("k" + (n + i), "v" + (n + i))));
          }
          for (int i = 0; i < inFlight.size(); i++) {
            acked.put(
                await(inFlight.get(i)), new FailoverChecker.Acked("k" + (n + i), "v" + (n + i)));
          }
          n += inFlight.size();
        }
        assertEquals(
            behind.version(),
            stores.get(next).replica().snapshot().version(),
            "the held replica moved");
        long last = acked.lastKey();
        cluster.stopNode(0);
        long after = await(stores.get(third).write(WriteBatch.ofPut("after", "failover")));
        assertTrue(after > last, "version " + after + " after " + last + ": versions reused");
        acked.put(after, new FailoverChecker.Acked("after", "failover"));
      } finally {
        release.countDown();
      }
      long newest = acked.lastKey();
      List<FailoverChecker.History> survivors = new ArrayList<>();
      for (int i : List.of(next, third)) {
        survivors.add(
            FailoverChecker.History.of(
                "node " + i, await(stores.get(i).awaitVersion(newest, WAIT))));
      }
      FailoverChecker.check("far behind", survivors, List.of(), acked);
      // The source's pin of the transferred version went once the new writer took it on.
      for (int i = 0; await(stores.get(third).replica().epochStats()).pins() > 0; i++) {
        assertTrue(i < 100_000, "the transferred version stays pinned on the source");
      }
      // The new writer's node's replica, reset by state transfer, follows it live.
      long live =
          await(stores.get(next).write(WriteBatch.ofPut("live", "on the new writer's node")));
      assertEquals(
          "on the new writer's node", await(stores.get(next).awaitVersion(live, WAIT)).get("live"));
      await(stores.get(1).close());
      await(stores.get(2).close());
    }
  }

  /**
   * A writer elected alone on one node, whose node's replica is empty, by a source (a probe) that
   * published version 10, retains the versions after 8 and received up to 12: it takes version 10
   * by state transfer from the server the promise names, fetches 11 and 12, and serves at 12 with
   * 10 acknowledged and the source's creation terms up to 12, then its own.
   */
  @Test
  void aWriterBehindItsSourcesRetentionTakesItsStateThenFetchesItsReceivedTail() throws Exception {
    try (ClusterHarness single = ClusterHarness.start(1, "")) {
      ActorSystem<?> system = single.node(0);
      String name = "tail";
      StoreSettings settings = StoreSettings.create(system, name);
      Snapshot full = Snapshot.empty();
      Snapshot published = full;
      for (int i = 1; i <= 12; i++) {
        full = full.apply(WriteBatch.ofPut("k" + i, "v" + i));
        if (i == 10) {
          published = full.prune(8);
        }
      }
      // The source replica's store: the server of the store named after the cluster store.
      ZVerseStore source = ZVerse.get(system).openFrom(name, settings, published);
      ActorRef<StateTransfer.Request> server =
          system.systemActorOf(
              StateTransfer.server(source, TransferSettings.create(system)),
              "tail-source-transfers",
              Props.empty());
      ZVerseStore local = ZVerse.get(system).open("tail-local", settings);
      ActorRef<WriterProtocol.Command> writer = candidate(system, name, settings, local);
      TestProbe<ReplicaProtocol.Command> replica = TestProbe.create(system);
      // It holds every version up to 12, so the writer will follow it from 13.
      writer.tell(
          new WriterProtocol.Follow(
              13, settings.maxKeyBytes(), settings.maxValueBytes(), replica.getRef()));
      ReplicaProtocol.Promise promise =
          replica.expectMessageClass(ReplicaProtocol.Promise.class, WAIT);
      assertEquals(6, promise.term());
      TermBoundaries terms = TermBoundaries.NONE.extend(0, 3);
      writer.tell(promised(promise.term(), 12, terms, replica.getRef(), server));
      ReplicaProtocol.Fetch fetch = replica.expectMessageClass(ReplicaProtocol.Fetch.class, WAIT);
      assertEquals(List.of(6L, 11L, 12L), List.of(fetch.term(), fetch.from(), fetch.to()));
      writer.tell(
          new WriterProtocol.Fetched(
              fetch.term(),
              new CommitRecordCodec.Group(8, List.of(full.commit(11), full.commit(12)))));
      // The serving writer tells its follower set first, then answers the kept follow.
      ReplicaProtocol.Subscribed subscribed =
          (ReplicaProtocol.Subscribed)
              replica
                  .fishForMessage(
                      WAIT,
                      m ->
                          m instanceof ReplicaProtocol.Subscribed
                              ? FishingOutcomes.complete()
                              : FishingOutcomes.continueAndIgnore())
                  .get(0);
      assertEquals(6, subscribed.term());
      assertEquals(10, subscribed.latest(), "the acknowledged version is the transferred one");
      assertEquals(terms.extend(12, 6), subscribed.terms());
      // A replica behind the writer's history (it starts after the source's watermark, 8) is
      // offered the transferred state at once, before the tail 11 to 12 is acknowledged again
      // (which may need that replica): before, it was refused until then.
      TestProbe<ReplicaProtocol.Command> behind = TestProbe.create(system);
      writer.tell(
          new WriterProtocol.Follow(
              1, settings.maxKeyBytes(), settings.maxValueBytes(), behind.getRef()));
      ReplicaProtocol.NeedsTransfer needs =
          (ReplicaProtocol.NeedsTransfer)
              behind
                  .fishForMessage(
                      WAIT,
                      m ->
                          m instanceof ReplicaProtocol.NeedsTransfer
                              ? FishingOutcomes.complete()
                              : FishingOutcomes.continueAndIgnore())
                  .get(0);
      TestProbe<StateTransfer.Reply> offers = TestProbe.create(system);
      needs
          .source()
          .tell(
              new StateTransfer.Request(
                  WriterSingleton.writerStoreName(name), StateTransfer.UNFENCED, offers.getRef()));
      StateTransfer.Reply reply = offers.expectMessageClass(StateTransfer.Reply.class, WAIT);
      assertInstanceOf(StateTransfer.Offer.class, reply, reply.toString());
      assertEquals(10, ((StateTransfer.Offer) reply).version());
      Snapshot serving =
          ZVerse.get(system).store(WriterSingleton.writerStoreName(name)).orElseThrow().snapshot();
      assertEquals(12, serving.version());
      for (int i = 1; i <= 12; i++) {
        assertEquals("v" + i, serving.get("k" + i), "k" + i);
      }
      writer.tell(WriterProtocol.Stop.INSTANCE);
      await(local.close());
      await(source.close());
    }
  }

  /**
   * A transfer the source refuses (its node going away) is logged at WARN naming the source and the
   * versions, and the election starts again with the next term, as a refused fetch does.
   */
  @Test
  void aFailedTransferIsLoggedAndTheElectionStartsAgainWithTheNextTerm() throws Exception {
    try (ClusterHarness single = ClusterHarness.start(1, "")) {
      ActorSystem<?> system = single.node(0);
      String name = "refused";
      StoreSettings settings = StoreSettings.create(system, name);
      ZVerseStore local = ZVerse.get(system).open("refused-local", settings);
      ActorRef<WriterProtocol.Command> writer = candidate(system, name, settings, local);
      TestProbe<ReplicaProtocol.Command> replica = TestProbe.create(system);
      TestProbe<StateTransfer.Request> server = TestProbe.create(system);
      WriterProtocol.Follow follow =
          new WriterProtocol.Follow(
              13, settings.maxKeyBytes(), settings.maxValueBytes(), replica.getRef());
      writer.tell(follow);
      long term = replica.expectMessageClass(ReplicaProtocol.Promise.class, WAIT).term();
      writer.tell(
          promised(term, 12, TermBoundaries.NONE.extend(0, 3), replica.getRef(), server.getRef()));
      StateTransfer.Request request = server.expectMessageClass(StateTransfer.Request.class, WAIT);
      assertEquals(name, request.storeName());
      LoggingTestKit.warn("The state transfer from")
          .withMessageRegex(".*versions after 8 up to 12.*failed; electing again.*source stopped.*")
          .expect(
              system,
              () -> {
                request.replyTo().tell(new StateTransfer.Refused("the source stopped"));
                return null;
              });
      writer.tell(follow);
      assertEquals(
          term + 1, replica.expectMessageClass(ReplicaProtocol.Promise.class, WAIT).term());
      writer.tell(WriterProtocol.Stop.INSTANCE);
      await(local.close());
    }
  }

  /**
   * A source that promised a higher term after its promise to this candidate refuses the transfer:
   * its state may then hold a newer writer's versions, which this candidate would label with the
   * source's old creation terms (one version, two contents, on a replica still holding the old
   * tail). Before, the request carried no term, the state was offered, and the candidate served
   * with it. Here the source promised 7 after it promised the candidate's 6.
   */
  @Test
  void aSourceThatPromisedAHigherTermSinceRefusesTheTransfer() throws Exception {
    try (ClusterHarness single = ClusterHarness.start(1, "")) {
      ActorSystem<?> system = single.node(0);
      String name = "fenced";
      StoreSettings settings = StoreSettings.create(system, name);
      Snapshot published = Snapshot.empty();
      for (int i = 1; i <= 10; i++) {
        published = published.apply(WriteBatch.ofPut("k" + i, "v" + i));
      }
      ZVerseStore source = ZVerse.get(system).openFrom(name, settings, published.prune(8));
      ActorRef<StateTransfer.Request> server =
          system.systemActorOf(
              StateTransfer.replicaServer(source, TransferSettings.create(system), () -> 7),
              "fenced-source-transfers",
              Props.empty());
      ZVerseStore local = ZVerse.get(system).open("fenced-local", settings);
      ActorRef<WriterProtocol.Command> writer = candidate(system, name, settings, local);
      TestProbe<ReplicaProtocol.Command> replica = TestProbe.create(system);
      WriterProtocol.Follow follow =
          new WriterProtocol.Follow(
              11, settings.maxKeyBytes(), settings.maxValueBytes(), replica.getRef());
      writer.tell(follow);
      long term = replica.expectMessageClass(ReplicaProtocol.Promise.class, WAIT).term();
      assertEquals(6, term);
      LoggingTestKit.warn("The state transfer from")
          .withMessageRegex(".*failed; electing again.*promised term 7, above .* term 6.*")
          .expect(
              system,
              () -> {
                writer.tell(
                    promised(term, 10, TermBoundaries.NONE.extend(0, 3), replica.getRef(), server));
                return null;
              });
      assertTrue(
          ZVerse.get(system).store(WriterSingleton.writerStoreName(name)).isEmpty(),
          "the candidate serves with the state of a source that promised a higher term");
      writer.tell(follow);
      assertEquals(
          term + 1, replica.expectMessageClass(ReplicaProtocol.Promise.class, WAIT).term());
      writer.tell(WriterProtocol.Stop.INSTANCE);
      await(local.close());
      await(source.close());
    }
  }

  /**
   * A candidate for the writer of store {@code name}, its node's replica {@code local} (at version
   * 0, having promised term 5), started on {@code system}: its first promise request is for term 6.
   */
  private static ActorRef<WriterProtocol.Command> candidate(
      ActorSystem<?> system, String name, StoreSettings settings, ZVerseStore local) {
    ReplicaState localState = new ReplicaState(local);
    localState.promisedTerm = 5;
    return system.systemActorOf(
        WriterElection.create(name, settings, ClusterSettings.create(system), local, localState),
        name + "-writer",
        Props.empty());
  }

  /**
   * A replica's granted promise of {@code term}: it applied and published version 10, retains the
   * versions after 8, and received up to {@code received}, all created as {@code terms} say.
   */
  private static WriterProtocol.Promised promised(
      long term,
      long received,
      TermBoundaries terms,
      ActorRef<ReplicaProtocol.Command> replica,
      ActorRef<StateTransfer.Request> transfers) {
    return new WriterProtocol.Promised(
        term,
        true,
        term,
        10,
        8,
        received,
        terms.termOf(received),
        terms,
        0,
        0,
        Set.of(),
        replica,
        transfers);
  }
}
