package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static dev.zverse.cluster.ClusterHarness.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.EpochStats;
import dev.zverse.actors.PublishListener;
import dev.zverse.actors.StoreOverloadedException;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Condition;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster store on three nodes in one JVM, every message through its serializer: writes from
 * every node reach the one writer on the oldest node and are answered with their version or with
 * the local store's own refusal, and a write that gets no answer fails by the write timeout.
 */
class ClusterStoreTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  /** A writer dispatcher of one thread, which a test can hold to keep writes pending. */
  private static final String HELD_DISPATCHER = "zverse-test-held-writer";

  private static ClusterHarness cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = ClusterHarness.start(3, ClusterHarness.singleThreadDispatcher(HELD_DISPATCHER));
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  private static List<ClusterStore> openEverywhere(
      String name, StoreSettings store, ClusterSettings settings) {
    List<ClusterStore> stores = new ArrayList<>();
    for (int i = 0; i < cluster.size(); i++) {
      stores.add(ClusterStore.open(cluster.node(i), name, store, settings));
    }
    return stores;
  }

  private static List<ClusterStore> openEverywhere(String name) {
    return openEverywhere(name, StoreSettings.create(cluster.node(0), name), answered());
  }

  /**
   * Settings for writes that are answered: a write timeout long enough that a loaded machine
   * (opening the writer's store, identifying the singleton) never turns an answer into a timeout.
   */
  private static ClusterSettings answered() {
    return ClusterSettings.create(cluster.node(0)).withWriteTimeout(WAIT);
  }

  /** The writer's local store: on the oldest node, node 0, and on no other. */
  private static ZVerseStore writerStore(String name) {
    return writerStore(name, cluster);
  }

  /** The writer's local store in {@code cluster}: on node 0, and on neither of nodes 1 and 2. */
  static ZVerseStore writerStore(String name, ClusterHarness cluster) {
    String writer = WriterSingleton.writerStoreName(name);
    for (int i = 1; i < 3; i++) {
      assertTrue(ZVerse.get(cluster.node(i)).store(writer).isEmpty(), "a writer on node " + i);
    }
    return ZVerse.get(cluster.node(0)).store(writer).orElseThrow();
  }

  @Test
  void everyReplicaAppliesOnItsOwnDispatcherByDefaultAndTheSettingOverridesIt() throws Exception {
    assertEquals(
        List.of("zverse.cluster.replica-thread"),
        replicaThreads("own-thread", answered()),
        "every node's replica, the writer's node's included, on the replica thread");
    assertEquals(
        List.of(HELD_DISPATCHER),
        replicaThreads("other-thread", answered().withReplicaDispatcher(HELD_DISPATCHER)),
        "a dispatcher named by replica-dispatcher");
    assertEquals(
        List.of("zverse.writer-dispatcher"),
        replicaThreads("store-thread", answered().withReplicaDispatcher("")),
        "\"\" keeps the replica store's writer dispatcher");
  }

  /**
   * The dispatchers, by configuration path, on whose threads the replicas of a new store {@code
   * name} on every node published a write (one path when all agree).
   */
  private static List<String> replicaThreads(String name, ClusterSettings settings)
      throws Exception {
    List<ClusterStore> stores =
        openEverywhere(name, StoreSettings.create(cluster.node(0), name), settings);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    for (ClusterStore s : stores) {
      s.replica()
          .advanced()
          .addPublishListener(
              new PublishListener() {
                @Override
                public void published(Snapshot snapshot) {
                  // Runs on the replica store's writer: the thread names its dispatcher.
                  threads.add(Thread.currentThread().getName());
                }

                @Override
                public void stopped(Snapshot last) {}
              });
    }
    long v = await(stores.get(1).write(WriteBatch.ofPut("k", "v")));
    for (ClusterStore s : stores) {
      await(s.awaitVersion(v, WAIT));
    }
    for (ClusterStore s : stores) {
      await(s.close());
    }
    Set<String> paths = new HashSet<>();
    for (String thread : threads) {
      boolean known = false;
      for (String path :
          List.of(HELD_DISPATCHER, "zverse.cluster.replica-thread", "zverse.writer-dispatcher")) {
        if (thread.contains("-" + path + "-")) {
          paths.add(path);
          known = true;
        }
      }
      assertTrue(known, "thread " + thread + " of no known dispatcher");
    }
    return new ArrayList<>(paths);
  }

  @Test
  void writesFromEveryNodeCommitAsOneGaplessOrderKeepingEachNodesOrder() throws Exception {
    List<ClusterStore> stores = openEverywhere("every-node");
    int perNode = 60;
    Random random = new Random(16);
    List<List<CompletionStage<Long>>> sent = new ArrayList<>();
    for (int n = 0; n < stores.size(); n++) {
      sent.add(new ArrayList<>());
    }
    // Interleave sends of the three nodes in a random order; each node's writes go in sequence.
    int[] next = new int[stores.size()];
    for (int k = 0; k < perNode * stores.size(); k++) {
      int n;
      do {
        n = random.nextInt(stores.size());
      } while (next[n] == perNode);
      String key = "n" + n + "/" + next[n]++;
      sent.get(n).add(stores.get(n).write(WriteBatch.ofPut(key, "from " + n)));
    }
    Set<Long> versions = new HashSet<>();
    ZVerseStore writer = null;
    for (int n = 0; n < stores.size(); n++) {
      long previous = 0;
      for (int i = 0; i < perNode; i++) {
        long v = await(sent.get(n).get(i));
        assertTrue(v > previous, "node " + n + "'s writes commit in the order sent");
        previous = v;
        assertTrue(versions.add(v), "version " + v + " answered twice");
        if (writer == null) {
          writer = writerStore("every-node");
        }
        CommitRecord commit = writer.snapshot().commit(v);
        assertEquals(1, commit.size());
        assertEquals("n" + n + "/" + i, commit.changes().get(0).keyUtf8());
        assertEquals("from " + n, commit.changes().get(0).valueUtf8());
      }
    }
    assertEquals(perNode * stores.size(), versions.size());
    assertEquals(versions.size(), writer.version(), "versions 1..N, no gap");
  }

  @Test
  void conditionalBatchesAreCheckedOnTheWriterAndFailWithTheLocalType() throws Exception {
    List<ClusterStore> stores = openEverywhere("conditions");
    long created =
        await(stores.get(1).write(WriteBatch.builder().requireAbsent("x").put("x", "1").build()));
    Throwable refused =
        failure(stores.get(2).write(WriteBatch.builder().requireAbsent("x").put("x", "2").build()));
    ConditionFailedException e = assertInstanceOf(ConditionFailedException.class, refused);
    assertEquals(1, e.failures().size());
    assertEquals(Condition.absent("x"), e.failures().get(0).condition());
    long updated =
        await(
            stores
                .get(2)
                .write(
                    WriteBatch.builder()
                        .requireModVersion("x", created)
                        .requireValue("x", "1")
                        .put("x", "3")
                        .build()));
    assertEquals(created + 1, updated, "the refused batch took no version");
    Throwable stale =
        failure(
            stores
                .get(0)
                .write(WriteBatch.builder().requireModVersion("x", created).put("x", "4").build()));
    assertEquals(
        Condition.modVersion("x", created),
        assertInstanceOf(ConditionFailedException.class, stale).failures().get(0).condition());
    assertEquals("3", writerStore("conditions").get("x"));
  }

  @Test
  void aBatchOverTheWritersLimitIsRefusedNamingItAndChangesNothing() throws Exception {
    String name = "limits";
    List<ClusterStore> stores =
        openEverywhere(
            name, StoreSettings.create(cluster.node(0), name).withMaxKeyBytes(8), answered());
    long v = await(stores.get(1).write(WriteBatch.ofPut("short", "v")));
    Throwable refused = failure(stores.get(2).write(WriteBatch.ofPut("much-too-long", "v")));
    IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class, refused);
    assertTrue(e.getMessage().contains("maxKeyBytes"), e.getMessage());
    assertEquals(v, writerStore(name).version(), "the refused batch took no version");
    assertEquals("v", writerStore(name).get("short"));
  }

  @Test
  void writesPastTheWritersBoundFailWithStoreOverloaded() throws Exception {
    String name = "overload";
    List<ClusterStore> stores =
        openEverywhere(
            name,
            StoreSettings.create(cluster.node(0), name)
                .withMaxPendingWrites(1)
                .withWriterDispatcher(HELD_DISPATCHER),
            answered());
    long first = await(stores.get(2).write(WriteBatch.ofPut("k", "0")));
    // Hold the writer's only thread: the next write is admitted and stays pending, so the ones
    // after it, sent in order through the same proxy, meet the bound of 1.
    CountDownLatch release = cluster.hold(0, HELD_DISPATCHER);
    try {
      CompletionStage<Long> admitted = stores.get(2).write(WriteBatch.ofPut("k", "1"));
      List<CompletionStage<Long>> refused = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        refused.add(stores.get(2).write(WriteBatch.ofPut("k", "refused " + i)));
      }
      for (CompletionStage<Long> r : refused) {
        StoreOverloadedException e = assertInstanceOf(StoreOverloadedException.class, failure(r));
        assertEquals(name, e.storeName());
        assertEquals(1, e.maxPendingWrites());
      }
      assertFalse(admitted.toCompletableFuture().isDone(), "the writer is held");
      release.countDown();
      assertEquals(first + 1, await(admitted));
    } finally {
      release.countDown();
    }
    assertEquals("1", writerStore(name).get("k"));
  }

  /**
   * A write's stage completes on the node's dispatcher, on the writer's node (the answer comes from
   * the writer's own thread) and on another (from Artery's): never on a thread started for it. The
   * ask's stage runs a dependent stage "async" on the JDK's default executor, which starts a new
   * thread per task when the common pool has fewer than 2 threads (2 cores or fewer): on the
   * writer's node that cost the writer's thread one thread start per answered write, and with
   * min-acks = 1 the commit index waited behind them (the replica lag of benchmarks/README.md).
   */
  @Test
  void aWritesStageCompletesOnTheNodesDispatcherOnEveryNode() throws Exception {
    String name = "answer-threads";
    List<ClusterStore> stores =
        openEverywhere(
            name,
            StoreSettings.create(cluster.node(0), name).withWriterDispatcher(HELD_DISPATCHER),
            answered());
    await(stores.get(1).write(WriteBatch.ofPut("x", "0")));
    // Hold the writer's store, so that every callback below is registered before its answer.
    CountDownLatch release = cluster.hold(0, HELD_DISPATCHER);
    List<CompletionStage<String>> threads = new ArrayList<>();
    try {
      for (int node : new int[] {0, 1}) {
        for (WriteBatch batch :
            List.of(
                WriteBatch.ofPut("k" + node, "v"),
                WriteBatch.builder().requireAbsent("x").put("x", "refused").build())) {
          threads.add(
              stores
                  .get(node)
                  .write(batch)
                  .handle((v, e) -> node + ": " + Thread.currentThread().getName()));
        }
      }
    } finally {
      release.countDown();
    }
    for (CompletionStage<String> t : threads) {
      String thread = await(t);
      assertTrue(thread.contains("-pekko.actor.default-dispatcher-"), thread);
    }
  }

  /**
   * While writes wait for min-acks replicas, the writer's store keeps every version after the
   * acknowledged one, whatever its retention: the replicas that acknowledge need them next. Before,
   * retention pruned them (10,000 commits/s, 1,000 versions kept), the replicas were sent to state
   * transfer, which offers only acknowledged versions, and came back needing a pruned version
   * again: the writes failed. Here a retention of 2 versions, a window of 1 and node 2's replica
   * held.
   */
  @Test
  void theWriterKeepsTheVersionsItsReplicasHaveNotAcknowledged() throws Exception {
    String name = "unacknowledged";
    StoreSettings writer =
        StoreSettings.create(cluster.node(0), name)
            .withRetentionVersions(2)
            .withEpochTick(Duration.ofMillis(10));
    ClusterSettings settings =
        answered()
            .withMinAcks(2)
            .withReplicaWindow(1)
            .withAckTimeout(Duration.ofSeconds(100))
            .withReplicaDispatcher(HELD_DISPATCHER);
    List<ClusterStore> stores = new ArrayList<>();
    for (int i = 0; i < cluster.size(); i++) {
      stores.add(
          ClusterStore.open(
              cluster.node(i),
              name,
              writer,
              StoreSettings.create(cluster.node(i), name),
              settings));
    }
    long first = await(stores.get(1).write(WriteBatch.ofPut("k", "first")));
    await(stores.get(2).awaitVersion(first, WAIT));
    ZVerseStore writerStore = writerStore(name);
    int writes = 20;
    CountDownLatch committed = new CountDownLatch(1);
    writerStore
        .advanced()
        .addPublishListener(
            new PublishListener() {
              @Override
              public void published(Snapshot snapshot) {
                if (snapshot.version() >= first + writes) {
                  committed.countDown();
                }
              }

              @Override
              public void stopped(Snapshot last) {}
            });
    CountDownLatch release = cluster.hold(2, HELD_DISPATCHER);
    List<CompletionStage<Long>> sent = new ArrayList<>();
    try {
      for (int i = 0; i < writes; i++) {
        sent.add(stores.get(0).write(WriteBatch.ofPut("k", "v" + i)));
      }
      assertTrue(committed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "committed");
      // Until retention pruned what it may, or the writer's store holds a pin against it.
      EpochStats stats = await(writerStore.epochStats());
      while (stats.watermark() <= first && stats.pins() == 0) {
        stats = await(writerStore.epochStats());
      }
      // The writer sends only commits above its store's watermark: first + 1 must stay above it.
      assertTrue(
          writerStore.snapshot().watermark() <= first,
          "pruned to " + writerStore.snapshot().watermark() + " with " + first + " acknowledged");
    } finally {
      release.countDown();
    }
    for (int i = 0; i < writes; i++) {
      assertEquals(first + 1 + i, await(sent.get(i)));
    }
    assertEquals(
        "v" + (writes - 1), await(stores.get(2).awaitVersion(first + writes, WAIT)).get("k"));
    for (ClusterStore s : stores) {
      await(s.close());
    }
  }

  @Test
  void aWriteWithoutAnAnswerFailsByTheWriteTimeoutNeverHangs() throws Exception {
    // No node has the role, so no writer ever runs: the proxy buffers two writes and drops the
    // oldest of the rest, and no write is ever answered.
    List<ClusterStore> stores =
        openEverywhere(
            "unanswered",
            StoreSettings.create(cluster.node(0), "unanswered"),
            ClusterSettings.create(cluster.node(0))
                .withRole("no-such-role")
                .withProxyBufferSize(2)
                .withWriteTimeout(Duration.ofSeconds(1)));
    List<CompletionStage<Long>> writes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      writes.add(stores.get(i % stores.size()).write(WriteBatch.ofPut("k", "v" + i)));
    }
    for (CompletionStage<Long> w : writes) {
      ClusterWriteTimeoutException e =
          assertInstanceOf(ClusterWriteTimeoutException.class, failure(w));
      assertEquals("unanswered", e.storeName());
      assertEquals(Duration.ofSeconds(1), e.timeout());
      assertTrue(e.getMessage().contains("outcome is unknown"), e.getMessage());
    }
    for (int i = 0; i < cluster.size(); i++) {
      assertTrue(
          ZVerse.get(cluster.node(i))
              .store(WriterSingleton.writerStoreName("unanswered"))
              .isEmpty());
    }
  }
}
