package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static dev.zverse.cluster.ClusterHarness.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.PublishListener;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Replicas on every node of a three-node cluster in one JVM, every message through its serializer:
 * each follows the writer's commits, version by version, into snapshots that match a reference
 * model; writes are read back on other nodes (awaited and linearizable reads, checked against the
 * real-time order of a concurrent history); a 10 MB batch crosses the wire both ways; a node with
 * other limits is refused; a replica node restarts and follows again; a fourth node joining after
 * the writer's retention passed its first versions catches up by state transfer, then follows live;
 * in a four-node cluster of its own, a replica node leaves and then the writer's node, and a new
 * writer is elected by the two nodes left.
 */
class ReplicationTest {
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final int KEYS = 16;

  /** The nodes every test opens its store on; tests that add nodes stop them again. */
  private static final int NODES = 3;

  private static ClusterHarness cluster;

  /** A writer dispatcher of one thread, which a test holds to keep a replica from applying. */
  private static final String HELD_DISPATCHER = "zverse-test-held-replica";

  @BeforeAll
  static void start() throws Exception {
    cluster = ClusterHarness.start(3, ClusterHarness.singleThreadDispatcher(HELD_DISPATCHER));
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  private static ClusterSettings settings() {
    return ClusterSettings.create(cluster.node(0)).withWriteTimeout(WAIT);
  }

  private static StoreSettings storeSettings(String name) {
    return StoreSettings.create(cluster.node(0), name);
  }

  private static List<ClusterStore> openEverywhere(String name) {
    List<ClusterStore> stores = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      stores.add(ClusterStore.open(cluster.node(i), name, storeSettings(name), settings()));
    }
    return stores;
  }

  private static void closeAll(List<ClusterStore> stores) throws Exception {
    for (ClusterStore s : stores) {
      await(s.close());
    }
  }

  private static String key(int k) {
    return String.format("k%02d", k);
  }

  /** Records every snapshot a replica publishes; checked once the writes are done. */
  private static final class Recorder implements PublishListener {
    final List<Snapshot> published = new CopyOnWriteArrayList<>();

    @Override
    public void published(Snapshot snapshot) {
      published.add(snapshot);
    }

    @Override
    public void stopped(Snapshot last) {}
  }

  /** One operation of a random batch: 0 put, 1 delete, 2 range delete of [key, key2]. */
  private record Op(int kind, int key, int key2, String value) {}

  /** A batch as sent, with its condition: the key that must be absent, or -1. */
  private record Sent(List<Op> ops, int absent) {
    WriteBatch batch() {
      WriteBatch.Builder b = WriteBatch.builder();
      if (absent >= 0) {
        b.requireAbsent(key(absent));
      }
      for (Op o : ops) {
        switch (o.kind()) {
          case 0 -> b.put(key(o.key()), o.value());
          case 1 -> b.delete(key(o.key()));
          default ->
              b.deleteRange(
                  KeyRange.closed(
                      key(Math.min(o.key(), o.key2())), key(Math.max(o.key(), o.key2()))));
        }
      }
      return b.build();
    }

    void applyTo(TreeMap<String, String> model) {
      for (Op o : ops) {
        switch (o.kind()) {
          case 0 -> model.put(key(o.key()), o.value());
          case 1 -> model.remove(key(o.key()));
          default ->
              model
                  .subMap(
                      key(Math.min(o.key(), o.key2())),
                      true,
                      key(Math.max(o.key(), o.key2())),
                      true)
                  .clear();
        }
      }
    }
  }

  private static Sent randomBatch(Random random, String tag) {
    List<Op> ops = new ArrayList<>();
    int n = 1 + random.nextInt(4);
    for (int i = 0; i < n; i++) {
      int kind = random.nextInt(10) < 7 ? 0 : random.nextInt(2) + 1;
      ops.add(new Op(kind, random.nextInt(KEYS), random.nextInt(KEYS), tag + "." + i));
    }
    return new Sent(ops, random.nextInt(4) == 0 ? random.nextInt(KEYS) : -1);
  }

  private static Map<String, String> state(Snapshot s, long v) {
    Map<String, String> out = new TreeMap<>();
    for (Entry e : s.scan(KeyRange.all(), v)) {
      out.put(e.keyUtf8(), e.valueUtf8());
    }
    return out;
  }

  @Test
  void everyReplicaMatchesTheModelAtEveryVersionItPublishesAndEndsAsTheWriter() throws Exception {
    String name = "model";
    List<ClusterStore> stores = openEverywhere(name);
    List<Recorder> recorders = new ArrayList<>();
    for (ClusterStore s : stores) {
      Recorder r = new Recorder();
      s.replica().advanced().addPublishListener(r);
      recorders.add(r);
      await(s.following());
    }
    Map<Long, Sent> committed = new ConcurrentHashMap<>();
    List<Throwable> unexpected = new CopyOnWriteArrayList<>();
    List<Thread> writers = new ArrayList<>();
    int perNode = 80;
    for (int n = 0; n < stores.size(); n++) {
      ClusterStore store = stores.get(n);
      Random random = new Random(1600 + n);
      int node = n;
      Thread t =
          new Thread(
              () -> {
                List<Map.Entry<Sent, CompletionStage<Long>>> sent = new ArrayList<>();
                for (int i = 0; i < perNode; i++) {
                  Sent b = randomBatch(random, "n" + node + "/" + i);
                  sent.add(Map.entry(b, store.write(b.batch())));
                  if (i % 10 == 9) { // a few in flight at a time, as an application has them
                    drain(sent, committed, unexpected);
                  }
                }
                drain(sent, committed, unexpected);
              });
      writers.add(t);
      t.start();
    }
    for (Thread t : writers) {
      t.join();
    }
    assertTrue(unexpected.isEmpty(), () -> "unexpected failures: " + unexpected);
    long last = Collections.max(committed.keySet());
    assertEquals(committed.size(), last, "versions 1..N, each one batch");
    List<TreeMap<String, String>> model = new ArrayList<>();
    model.add(new TreeMap<>());
    for (long v = 1; v <= last; v++) {
      TreeMap<String, String> next = new TreeMap<>(model.get(model.size() - 1));
      committed.get(v).applyTo(next);
      model.add(next);
    }
    ZVerseStore writer = ClusterStoreTest.writerStore(name, cluster);
    Snapshot w = writer.snapshot();
    assertEquals(last, w.version());
    for (int n = 0; n < stores.size(); n++) {
      Snapshot s = await(stores.get(n).awaitVersion(last, WAIT));
      assertEquals(last, s.version());
      long previous = 0;
      for (Snapshot p : recorders.get(n).published) {
        assertTrue(p.version() > previous, "node " + n + " publishes rising versions");
        previous = p.version();
        assertEquals(model.get((int) p.version()), state(p, p.version()), "node " + n);
      }
      assertEquals(last, previous, "node " + n + " published the last version");
      for (long v = Math.max(1, w.watermark()); v <= last; v++) {
        assertEquals(w.commit(v), s.commit(v), "node " + n + ", commit " + v);
      }
      ReplicaStatus status = stores.get(n).status();
      assertEquals(last, status.appliedVersion());
      assertEquals(0, status.lagVersions());
      assertTrue(status.writerReachable());
      assertTrue(await(stores.get(n).readiness().get()));
    }
    closeAll(stores);
  }

  private static void drain(
      List<Map.Entry<Sent, CompletionStage<Long>>> sent,
      Map<Long, Sent> committed,
      List<Throwable> unexpected) {
    for (Map.Entry<Sent, CompletionStage<Long>> e : sent) {
      try {
        committed.put(await(e.getValue()), e.getKey());
      } catch (ExecutionException refused) {
        if (!(refused.getCause() instanceof ConditionFailedException)) {
          unexpected.add(refused.getCause());
        }
      } catch (Exception other) {
        unexpected.add(other);
      }
    }
    sent.clear();
  }

  /**
   * Opens store {@code name} with {@code s} on every node and waits until each follows the writer
   * (the writer takes its term once a majority of the nodes opened the store).
   */
  private static List<ClusterStore> openFollowing(String name, ClusterSettings s) throws Exception {
    List<ClusterStore> stores = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      stores.add(ClusterStore.open(cluster.node(i), name, storeSettings(name), s));
    }
    for (ClusterStore store : stores) {
      await(store.following());
    }
    return stores;
  }

  @Test
  void writesNeedMinAcksReplicasAndFailWithNotEnoughReplicasWithoutThem() throws Exception {
    String name = "minacks";
    ClusterSettings s = settings().withAckTimeout(Duration.ofSeconds(1));
    List<ClusterStore> stores = openFollowing(name, s);
    assertEquals(1, s.minAcks(), "the default");
    // One replica stopped: the other one acknowledges.
    await(stores.get(2).close());
    long v = await(stores.get(0).write(WriteBatch.ofPut("a", "1")));
    assertEquals("1", await(stores.get(1).awaitVersion(v, WAIT)).get("a"));
    // Both stopped: the writer does not commit, and says why after the ack timeout. A write that
    // reaches the writer before it learns of the second stop may be committed with an unknown
    // outcome instead: the test writes until the definite refusal comes.
    await(stores.get(1).close());
    NotEnoughReplicasException refused = null;
    List<String> refusedKeys = new ArrayList<>();
    for (int i = 0; i < 5 && refused == null; i++) {
      Throwable f = failure(stores.get(0).write(WriteBatch.ofPut("b" + i, "1")));
      if (f instanceof NotEnoughReplicasException e) {
        refused = e;
        refusedKeys.add("b" + i);
      } else {
        assertInstanceOf(WriteOutcomeUnknownException.class, f);
      }
    }
    assertTrue(refused != null, "no NotEnoughReplicasException");
    assertEquals(1, refused.minAcks());
    assertEquals(0, refused.replicas());
    assertTrue(refused.getMessage().contains("replication.min-acks is 1"), refused.getMessage());
    // A replica returns: writes succeed again, and the refused one was never written.
    ClusterStore back = ClusterStore.open(cluster.node(1), name, storeSettings(name), s);
    await(back.following());
    long w = await(stores.get(0).write(WriteBatch.ofPut("c", "1")));
    Snapshot after = await(back.awaitVersion(w, WAIT));
    assertEquals("1", after.get("c"));
    for (String k : refusedKeys) {
      assertEquals(null, after.get(k), "a refused write was written");
      assertEquals(null, await(stores.get(0).awaitVersion(w, WAIT)).get(k));
    }
    await(back.close());
    await(stores.get(0).close());
  }

  @Test
  void aWriterWhoseTermWasSupersededCannotGetAWriteAcknowledged() throws Exception {
    String name = "fenced";
    ClusterSettings s = settings().withAckTimeout(Duration.ofSeconds(1));
    List<ClusterStore> stores = openFollowing(name, s);
    long v = await(stores.get(1).write(WriteBatch.ofPut("before", "1")));
    // A newer writer, elsewhere (here the test, as if node 0 were cut off), took a term from the
    // majority: nodes 1 and 2 promise it.
    for (int i = 1; i < NODES; i++) {
      // With min-acks 1 the write was acknowledged once one replica received it: wait until this
      // one shows it, so that its promise can say so.
      await(stores.get(i).awaitVersion(v, WAIT));
      // A probe of the replica's own system: a message told here carries no foreign reference.
      TestProbe<WriterProtocol.Command> newer = TestProbe.create(cluster.node(i));
      stores.get(i).replicaActor().tell(new ReplicaProtocol.Promise(1_000, newer.getRef()));
      WriterProtocol.Promised p = newer.expectMessageClass(WriterProtocol.Promised.class, WAIT);
      assertTrue(p.granted(), "promised " + p);
      assertTrue(p.applied() >= v, "the promise says how far the replica is: " + p);
      // And follows it already: the old writer's commits still make it step down.
      stores
          .get(i)
          .replicaActor()
          .tell(
              new ReplicaProtocol.Subscribed(
                  1_000, newer.getRef(), v, TermBoundaries.NONE.extend(0, 1).extend(v, 1_000)));
    }
    // The old writer (term 1, on node 0) commits the write locally but gets no acknowledgement.
    Throwable f = failure(stores.get(0).write(WriteBatch.ofPut("after", "1")));
    assertInstanceOf(WriteOutcomeUnknownException.class, f);
    // The first refusal makes the old writer step down and fail the write; the other replica's
    // refusal of the same commit may still be on its way: wait for it, do not assume it.
    for (int i = 1; i < NODES; i++) {
      assertEquals(1L, await(stores.get(i).staleRefused()), "the term node " + i + " refused");
    }
    // The replicas told the old writer it was replaced: it stepped down, so a write now fails at
    // once as refused (nothing written, retry), not as an unknown outcome after ack-timeout.
    Throwable next = failure(stores.get(0).write(WriteBatch.ofPut("later", "1")));
    assertFalse(next instanceof WriteOutcomeUnknownException, "an unknown outcome: " + next);
    assertInstanceOf(IllegalStateException.class, next);
    assertTrue(
        next.getMessage().contains("was replaced by a writer of term 1000"), next.toString());
    // And no reader anywhere sees it: it was never acknowledged.
    for (ClusterStore store : stores) {
      Snapshot now = await(store.awaitVersion(v, WAIT));
      assertEquals("1", now.get("before"));
      assertEquals(null, now.get("after"), "an unacknowledged write is visible");
    }
    closeAll(stores);
  }

  @Test
  void aNewWriterAnswersALinearizableReadOnlyOnceItAcknowledgedTheTailItTookOver()
      throws Exception {
    String name = "taken-tail";
    // A writer that took over versions 1 to 3, of which its node's replica had shown only 1: the
    // previous writer may have acknowledged 2 and 3, so a read must not be told 1.
    Snapshot seed = Snapshot.empty();
    Snapshot shown = seed;
    for (int i = 0; i < 3; i++) {
      seed = seed.apply(WriteBatch.ofPut("k" + i, "v"));
      shown = i == 0 ? seed : shown;
    }
    Snapshot acknowledged = shown;
    ZVerseStore store =
        ZVerse.get(cluster.node(0))
            .openFrom(WriterSingleton.writerStoreName(name), storeSettings(name), seed);
    ActorRef<WriterProtocol.Command> writer =
        cluster
            .node(0)
            .systemActorOf(
                Behaviors.<WriterProtocol.Command>setup(
                    context ->
                        Behaviors.withTimers(
                            timers ->
                                WriterSingleton.serving(
                                    context,
                                    name,
                                    store,
                                    2,
                                    TermBoundaries.NONE.extend(0, 1).extend(3, 2),
                                    acknowledged,
                                    3,
                                    settings(),
                                    timers,
                                    new ChunkedWrites(
                                        WireSerializer.of(cluster.node(0)),
                                        settings().maxMessageBytes())))),
                "taken-tail-writer",
                Props.empty());
    TestProbe<ReplicaProtocol.Latest> reader = TestProbe.create(cluster.node(0));
    writer.tell(new WriterProtocol.GetLatest(reader.getRef()));
    // A replica on another node that already holds the whole tail up to the seed re-follows
    // from version 4: it has nothing to receive, so it sends no Ack.
    TestProbe<ReplicaProtocol.Command> probe = TestProbe.create(cluster.node(1));
    // As the writer's node sees it: a reference to another node (told from here, it would be
    // local).
    ActorRef<ReplicaProtocol.Command> replica =
        ActorRefResolver.get(cluster.node(0))
            .resolveActorRef(
                ActorRefResolver.get(cluster.node(1)).toSerializationFormat(probe.getRef()));
    StoreSettings limits = storeSettings(name);
    writer.tell(
        new WriterProtocol.Follow(4, limits.maxKeyBytes(), limits.maxValueBytes(), replica));
    assertEquals(3, reader.receiveMessage(WAIT).version(), "a read told less than the tail");
    writer.tell(WriterProtocol.Stop.INSTANCE);
  }

  /** One client operation of the history: a write of its own key, or a read of any client's. */
  private record Event(boolean write, int client, int key, long value, long invoked, long done) {}

  @Test
  void writesAreReadOnOtherNodesInRealTimeOrderAwaitedAndLinearizable() throws Exception {
    List<ClusterStore> stores = openEverywhere("history");
    for (ClusterStore s : stores) {
      await(s.following());
    }
    int clients = 3;
    int rounds = 25;
    List<Event> history = new CopyOnWriteArrayList<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      Random random = new Random(160 + c);
      Thread t =
          new Thread(
              () -> {
                try {
                  for (int i = 1; i <= rounds; i++) {
                    ClusterStore a = stores.get(random.nextInt(stores.size()));
                    ClusterStore b = stores.get(random.nextInt(stores.size()));
                    long invoked = System.nanoTime();
                    long v = await(a.write(WriteBatch.ofPut("c" + client, Long.toString(i))));
                    history.add(new Event(true, client, client, i, invoked, System.nanoTime()));
                    // Read your write on another node.
                    Snapshot mine = await(b.awaitVersion(v, WAIT));
                    assertTrue(mine.version() >= v);
                    assertEquals(Long.toString(i), mine.get("c" + client));
                    // A linearizable read of any client's key.
                    int k = random.nextInt(clients);
                    long readInvoked = System.nanoTime();
                    Snapshot fresh = await(b.linearizableSnapshot(WAIT));
                    String value = fresh.get("c" + k);
                    history.add(
                        new Event(
                            false,
                            client,
                            k,
                            value == null ? 0 : Long.parseLong(value),
                            readInvoked,
                            System.nanoTime()));
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(failures.isEmpty(), () -> "client failures: " + failures);
    checkLinearizable(history);
    closeAll(stores);
  }

  /**
   * Each key has one writer, writing 1, 2, 3, ... in order, so a register history is linearizable
   * when every read returns a value no older than the newest write that completed before the read
   * was invoked, and no newer than the newest write invoked before the read completed.
   */
  static void checkLinearizable(List<Event> history) {
    Map<Integer, List<Event>> writes = new HashMap<>();
    for (Event e : history) {
      if (e.write()) {
        writes.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e);
      }
    }
    int reads = 0;
    for (Event r : history) {
      if (r.write()) {
        continue;
      }
      reads++;
      long atLeast = 0;
      long atMost = 0;
      for (Event w : writes.getOrDefault(r.key(), List.of())) {
        if (w.done() < r.invoked()) {
          atLeast = Math.max(atLeast, w.value());
        }
        if (w.invoked() < r.done()) {
          atMost = Math.max(atMost, w.value());
        }
      }
      long lo = atLeast;
      long hi = atMost;
      assertTrue(
          r.value() >= lo && r.value() <= hi,
          () ->
              "read of c"
                  + r.key()
                  + " returned "
                  + r.value()
                  + ", not in ["
                  + lo
                  + ", "
                  + hi
                  + "]");
    }
    assertTrue(reads > 0);
  }

  @Test
  void theCheckerRefusesAStaleRead() {
    List<Event> history =
        List.of(new Event(true, 0, 0, 1, 0, 10), new Event(false, 1, 0, 0, 20, 30));
    assertThrows(AssertionError.class, () -> checkLinearizable(history));
  }

  @Test
  void aTenMegabyteBatchCrossesTheWireBothWays() throws Exception {
    List<ClusterStore> stores = openEverywhere("large");
    for (ClusterStore s : stores) {
      await(s.following());
    }
    WriteBatch.Builder b = WriteBatch.builder();
    Random random = new Random(10);
    List<byte[]> values = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      byte[] value = new byte[1024 * 1024];
      random.nextBytes(value);
      values.add(value);
      b.put(("big/" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), value);
    }
    // From a node that is not the writer's: the request is chunked, and so are the commits.
    long v = await(stores.get(2).write(b.build()));
    for (ClusterStore s : stores) {
      Snapshot snap = await(s.awaitVersion(v, WAIT));
      for (int i = 0; i < 10; i++) {
        assertTrue(
            java.util.Arrays.equals(
                values.get(i),
                snap.get(("big/" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8))),
            "value " + i);
      }
    }
    closeAll(stores);
  }

  @Test
  void aNodeWhoseLimitsDifferFromTheWritersIsRefusedNamingBoth() throws Exception {
    String name = "limits-differ";
    // The writer takes its term from a majority of the nodes: the refused node's replica promises
    // it too (a promise carries no limits), so both open before the writer is awaited.
    ClusterStore writerNode =
        ClusterStore.open(cluster.node(0), name, storeSettings(name), settings());
    ClusterStore other =
        ClusterStore.open(
            cluster.node(1), name, storeSettings(name).withMaxKeyBytes(100), settings());
    await(writerNode.following());
    IllegalStateException e =
        assertInstanceOf(IllegalStateException.class, failure(other.following()));
    assertTrue(e.getMessage().contains("maxKeyBytes 100 here, 4096 on the writer"), e.getMessage());
    assertEquals(e.getMessage(), other.status().failure().orElseThrow());
    assertFalse(await(other.readiness().get()));
    assertInstanceOf(IllegalStateException.class, failure(other.awaitVersion(1, WAIT)));
    await(other.close());
    await(writerNode.close());
  }

  @Test
  void aFourthNodeJoiningAfterTenThousandCommitsCatchesUpByStateTransferThenFollowsLive()
      throws Exception {
    String name = "behind";
    StoreSettings retaining =
        storeSettings(name).withRetentionVersions(100).withEpochTick(Duration.ofMillis(20));
    List<ClusterStore> stores = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      stores.add(ClusterStore.open(cluster.node(i), name, retaining, settings()));
    }
    for (ClusterStore s : stores) {
      await(s.following());
    }
    ZVerseStore writer = ClusterStoreTest.writerStore(name, cluster);
    // 10,000 commits from every node, 100 in flight at a time, over 500 keys.
    long v = 0;
    for (int wave = 0; wave < 100; wave++) {
      List<CompletionStage<Long>> inFlight = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        int n = wave * 100 + i;
        inFlight.add(
            stores.get(n % NODES).write(WriteBatch.ofPut("key/" + (n % 500), "value " + n)));
      }
      for (CompletionStage<Long> w : inFlight) {
        v = Math.max(v, await(w));
      }
    }
    assertEquals(10_000, v);
    // Write on until the writer has pruned past version 1: a condition, not a wait for time.
    for (int i = 0; writer.snapshot().watermark() < 2; i++) {
      assertTrue(i < 1_000_000, "the writer never pruned");
      v = await(stores.get(0).write(WriteBatch.ofPut("key/0", "more " + i)));
    }
    int fourth = cluster.addNode();
    ClusterStore late = ClusterStore.open(cluster.node(fourth), name, retaining, settings());
    await(late.following());
    Snapshot caught = await(late.awaitVersion(v, WAIT));
    Snapshot w = writer.snapshot();
    assertTrue(caught.version() >= v);
    long cv = caught.version();
    assertEquals(w.count(KeyRange.all(), cv), caught.count(KeyRange.all()));
    assertEquals(w.scan(KeyRange.all(), cv), caught.scan(KeyRange.all()));
    for (int k = 0; k < 500; k++) {
      assertEquals(w.get("key/" + k, cv), caught.get("key/" + k), "key/" + k);
    }
    assertFalse(late.status().catchingUp(), late.status().toString());
    // Then it follows live: a write on another node arrives commit by commit.
    long after = await(stores.get(1).write(WriteBatch.ofPut("after", "transfer")));
    Snapshot live = await(late.awaitVersion(after, WAIT));
    assertEquals("transfer", live.get("after"));
    assertEquals(writer.snapshot().commit(after), live.commit(after));
    assertTrue(await(late.readiness().get()));
    await(late.close());
    cluster.stopNode(fourth);
    closeAll(stores);
  }

  @Test
  void aReplicaPastItsLagThresholdWarnsOnceAndIsNotReadyUntilItCatchesUp() throws Exception {
    String name = "lagging";
    ClusterSettings lagging =
        settings().withLagWarning(5, Duration.ofHours(1)).withStatusInterval(Duration.ofMillis(50));
    ClusterStore writerNode =
        ClusterStore.open(cluster.node(0), name, storeSettings(name), lagging);
    // Node 1's replica applies on a dispatcher of one thread, which the test holds.
    ClusterStore held =
        ClusterStore.open(
            cluster.node(1),
            name,
            storeSettings(name),
            storeSettings(name).withWriterDispatcher(HELD_DISPATCHER),
            lagging);
    await(writerNode.following());
    await(held.following());
    assertTrue(await(held.readiness().get()));
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    cluster
        .node(1)
        .dispatchers()
        .lookup(DispatcherSelector.fromConfig(HELD_DISPATCHER))
        .execute(
            () -> {
              holding.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    assertTrue(holding.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    long v = 0;
    try {
      long[] last = {0};
      LoggingTestKit.warn("lags the writer by")
          .withLoggerName(ReplicaActor.class.getName())
          .expect(
              cluster.node(1),
              () -> {
                try {
                  for (int i = 0; i < 20; i++) {
                    last[0] = await(writerNode.write(WriteBatch.ofPut("k", "v" + i)));
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                return null;
              });
      v = last[0];
      // The write's answer may overtake the commit on its way to the replica: wait for the news.
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (held.status().writerVersion() < v) {
        assertTrue(System.nanoTime() < deadline, held.status().toString());
        LockSupport.parkNanos(1_000_000);
      }
      ReplicaStatus status = held.status();
      assertTrue(status.lagVersions() > 5, status.toString());
      assertEquals(v, status.writerVersion());
      assertFalse(await(held.readiness().get()), "not ready past the threshold");
    } finally {
      release.countDown();
    }
    await(held.awaitVersion(v, WAIT));
    assertEquals(0, held.status().lagVersions());
    assertTrue(await(held.readiness().get()));
    await(held.close());
    await(writerNode.close());
  }

  @Test
  void aReplicasOwnStoreRefusesWritesAndTheNodesStoreIsNamedAfterTheClusterStore()
      throws Exception {
    List<ClusterStore> stores = openEverywhere("replica-writes");
    ZVerseStore replica = stores.get(1).replica();
    assertEquals("replica-writes", replica.name());
    UnsupportedOperationException e =
        assertThrows(UnsupportedOperationException.class, () -> replica.put("k", "v"));
    assertTrue(e.getMessage().contains("writes go through the cluster store"), e.getMessage());
    long v = await(stores.get(1).write(WriteBatch.ofPut("k", "v")));
    assertEquals("v", await(stores.get(0).awaitVersion(v, WAIT)).get("k"));
    closeAll(stores);
    assertThrows(IllegalStateException.class, () -> stores.get(0).snapshot());
    assertTrue(replica.isClosed());
  }

  @Test
  void aStoppedReplicaNodeRestartsAsANewSystemAndFollowsAgain() throws Exception {
    String name = "restart";
    List<ClusterStore> stores = openEverywhere(name);
    int extra = cluster.addNode();
    ClusterStore leaving =
        ClusterStore.open(cluster.node(extra), name, storeSettings(name), settings());
    await(leaving.following());
    for (int i = 0; i < 50; i++) {
      await(stores.get(i % stores.size()).write(WriteBatch.ofPut("k" + (i % 7), "a" + i)));
    }
    cluster.stopNode(extra);
    assertTrue(leaving.isClosed(), "coordinated shutdown closed it");
    // Writes go on while the node is away; its replica on the new system starts from nothing.
    long v = 0;
    for (int i = 0; i < 50; i++) {
      v = await(stores.get(i % stores.size()).write(WriteBatch.ofPut("k" + (i % 7), "b" + i)));
    }
    int again = cluster.addNode();
    ClusterStore back =
        ClusterStore.open(cluster.node(again), name, storeSettings(name), settings());
    await(back.following());
    Snapshot s = await(back.awaitVersion(v, WAIT));
    Snapshot w = ClusterStoreTest.writerStore(name, cluster).snapshot();
    for (long u = 1; u <= v; u++) {
      assertEquals(w.commit(u), s.commit(u));
    }
    long after = await(stores.get(1).write(WriteBatch.ofPut("after", "restart")));
    assertEquals("restart", await(back.awaitVersion(after, WAIT)).get("after"));
    await(back.close());
    cluster.stopNode(again);
    closeAll(stores);
  }

  /**
   * Four nodes, min-acks 1: a replica node leaves while writes go on, then the writer's node. Until
   * the writer drops the removed node from its follower set, the next election counts it: N = 4
   * needs 3 promises, and only nodes 1 and 2 are left to give them. Once a follower received what
   * was acknowledged when it left, it stops counting: N = 3, and two promises elect a writer.
   */
  @Test
  void aRemovedReplicaNodeStopsCountingSoTheNextElectionNeedsOnlyTheNodesLeft() throws Exception {
    String name = "shrink";
    try (ClusterHarness four = ClusterHarness.start(4, "")) {
      ClusterSettings s = ClusterSettings.create(four.node(0)).withWriteTimeout(WAIT);
      List<ClusterStore> stores = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        stores.add(
            ClusterStore.open(four.node(i), name, StoreSettings.create(four.node(i), name), s));
      }
      for (ClusterStore store : stores) {
        await(store.following());
      }
      TestProbe<ClusterEvent.MemberRemoved> removed = TestProbe.create(four.node(0));
      Cluster.get(four.node(0))
          .subscriptions()
          .tell(Subscribe.create(removed.ref(), ClusterEvent.MemberRemoved.class));
      Address leaving = Cluster.get(four.node(3)).selfMember().address();
      List<CompletionStage<Long>> during = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        during.add(stores.get(1).write(WriteBatch.ofPut("k" + (i % 5), "before " + i)));
      }
      four.stopNode(3);
      for (int i = 0; i < 20; i++) {
        during.add(stores.get(i % 2 + 1).write(WriteBatch.ofPut("k" + (i % 5), "during " + i)));
      }
      for (CompletionStage<Long> w : during) {
        await(w);
      }
      removed.fishForMessage(
          WAIT,
          e ->
              e.member().address().equals(leaving)
                  ? FishingOutcomes.complete()
                  : FishingOutcomes.continueAndIgnore());
      // Acknowledged after node 3's removal: its followers received what was acknowledged then.
      long v = 0;
      for (int i = 0; i < 5; i++) {
        v = await(stores.get(1).write(WriteBatch.ofPut("k" + i, "after removal " + i)));
      }
      four.stopNode(0);
      long next = await(stores.get(2).write(WriteBatch.ofPut("k0", "new writer")));
      assertTrue(next > v, next + " after " + v);
      Snapshot seen = await(stores.get(1).awaitVersion(next, WAIT));
      assertEquals("new writer", seen.get("k0"));
      for (int i = 1; i < 5; i++) {
        assertEquals("after removal " + i, seen.get("k" + i), "acknowledged before the failover");
      }
      await(stores.get(1).close());
      await(stores.get(2).close());
    }
  }
}
