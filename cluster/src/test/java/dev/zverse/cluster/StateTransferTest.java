package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static dev.zverse.cluster.ClusterHarness.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CorruptSnapshotException;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.stream.javadsl.Flow;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * State transfer between two nodes of a cluster in one JVM, every message through its serializer: a
 * large store with history arrives equal at its version; a slow receiver holds the source's pin and
 * at most a few chunks in flight; a source node that stops, or a damaged chunk, fails the
 * receiver's stage with {@link StateTransferException} and the source releases its pin.
 */
class StateTransferTest {
  private static final Duration WAIT = Duration.ofMinutes(2);

  /** Chunks a stream ref asks ahead for; small, so that the bound on chunks in flight shows. */
  private static final int REF_BUFFER = 8;

  private static final String CONFIG =
      "pekko.stream.materializer.stream-ref.buffer-capacity = " + REF_BUFFER + "\n";

  private static ClusterHarness cluster;
  private final ExecutorService gateThreads = Executors.newCachedThreadPool();

  @BeforeAll
  static void start() throws Exception {
    cluster = ClusterHarness.start(2, CONFIG);
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  @AfterEach
  void stopGates() {
    gateThreads.shutdownNow();
  }

  @Test
  void aLargeStoreWithHistoryArrivesEqualToTheSourceAtItsVersion() throws Exception {
    ZVerseStore source = open(cluster.node(1), "large", 1_000_000);
    Random random = new Random(16);
    byte[] value = new byte[1024];
    for (int b = 0; b < 100; b++) {
      WriteBatch.Builder batch = WriteBatch.builder();
      for (int i = 0; i < 1000; i++) {
        random.nextBytes(value);
        batch.put(key(b * 1000 + i), value);
      }
      await(source.write(batch.build()));
    }
    for (int round = 0; round < 200; round++) {
      WriteBatch.Builder batch = WriteBatch.builder();
      for (int i = 0; i < 20; i++) {
        int k = random.nextInt(100_000);
        if (random.nextInt(4) == 0) {
          batch.delete(key(k));
        } else {
          random.nextBytes(value);
          batch.put(key(k), value);
        }
      }
      await(source.write(batch.build()));
    }
    Ended ended = new Ended();
    ActorRef<StateTransfer.Request> local = serve(cluster.node(1), source, "large", ended);
    Snapshot expected = source.snapshot();
    Snapshot got =
        await(
            StateTransfer.receive(
                cluster.node(0),
                remote(local),
                "large",
                Snapshot.empty(),
                settings(cluster.node(0))));
    assertEquals(expected.version(), got.version());
    assertSameAtEveryVersion(expected, got, 100);
    assertNull(ended.await(), "completed");
    StateTransfer.followed(local, receivingNode(), got.version() + 1);
    assertEquals(got.version(), ended.awaitReleased(), "released once the receiver follows");
    assertEquals(0, await(source.epochStats()).pins(), "the pin is released after");
    await(source.close());
  }

  /**
   * The received snapshot is built on {@code transfer.dispatcher}: before, on the thread that
   * completed Pekko's stream stage, the JDK's default executor, which starts a thread per task on 2
   * cores or fewer. A callback registered at once runs where the snapshot was built.
   */
  @Test
  void theReceivedSnapshotIsBuiltOnTheTransferDispatcher() throws Exception {
    ZVerseStore source = open(cluster.node(1), "built-on", 1000);
    fill(source, 200, 5);
    ActorRef<StateTransfer.Request> local = serve(cluster.node(1), source, "built-on", new Ended());
    TransferSettings settings = settings(cluster.node(0));
    String thread =
        await(
            StateTransfer.receive(
                    cluster.node(0), remote(local), "built-on", Snapshot.empty(), settings)
                .thenApply(s -> Thread.currentThread().getName()));
    assertTrue(thread.contains(settings.dispatcher()), thread + " is not " + settings.dispatcher());
    await(source.close());
  }

  @Test
  void aServerGivenWhatItMayOfferOffersThatVersionAndRefusesWhileThereIsNone() throws Exception {
    ZVerseStore source = open(cluster.node(1), "offered", 1000);
    fill(source, 200, 5);
    Snapshot acknowledged = source.snapshot();
    fill(source, 200, 5);
    AtomicReference<@Nullable Snapshot> offered = new AtomicReference<>();
    Ended ended = new Ended();
    ActorRef<StateTransfer.Request> local =
        cluster
            .node(1)
            .systemActorOf(
                StateTransfer.server(
                    source, settings(cluster.node(1)), endedListener(ended), offered::get),
                "transfer-offered",
                Props.empty());
    // Nothing acknowledged yet (a new writer before it re-acknowledged its tail): refused.
    Throwable refused =
        failure(
            StateTransfer.receive(
                cluster.node(0),
                remote(local),
                "offered",
                Snapshot.empty(),
                settings(cluster.node(0))));
    assertTrue(
        String.valueOf(refused.getMessage()).contains("no acknowledged version"),
        String.valueOf(refused));
    // The acknowledged snapshot, not the store's newer latest one, is what arrives.
    offered.set(acknowledged);
    Snapshot got =
        await(
            StateTransfer.receive(
                cluster.node(0),
                remote(local),
                "offered",
                Snapshot.empty(),
                settings(cluster.node(0))));
    assertTrue(source.version() > acknowledged.version());
    assertEquals(acknowledged.version(), got.version());
    assertSameAtEveryVersion(acknowledged, got, 100);
    assertNull(ended.await(), "completed");
    await(source.close());
  }

  @Test
  void aSlowReceiverHoldsThePinAndAtMostAFewChunksInFlight() throws Exception {
    ZVerseStore source = open(cluster.node(1), "slow", 10);
    fill(source, 3000, 200);
    AtomicLong sent = new AtomicLong();
    Ended ended = new Ended();
    StateTransfer.Listener listener =
        new StateTransfer.Listener() {
          @Override
          public void chunkSent(long version, int bytes) {
            sent.incrementAndGet();
          }

          @Override
          public void ended(long version, @Nullable Throwable failure) {
            ended.ended(failure);
          }

          @Override
          public void released(long version) {
            ended.released(version);
          }
        };
    ActorRef<StateTransfer.Request> local =
        cluster
            .node(1)
            .systemActorOf(
                StateTransfer.server(
                    source, settings(cluster.node(1)).withChunkBytes(1024), listener),
                "transfer-slow",
                Props.empty());
    ActorRef<StateTransfer.Request> server = remote(local);
    Snapshot expected = source.snapshot();
    Gate gate = new Gate();
    CompletionStage<Snapshot> received =
        StateTransfer.receive(
            cluster.node(0),
            server,
            "slow",
            Snapshot.empty(),
            settings(cluster.node(0)),
            gate.tap());
    int steps = 0;
    long maxAhead = 0;
    while (!received.toCompletableFuture().isDone()) {
      // Let 20 chunks through, wait until they have passed, and look at the source meanwhile.
      gate.let(20);
      steps++;
      assertTrue(gate.awaitPassed(20L * steps, received), "chunks passed");
      long ahead = sent.get() - gate.passed.get();
      maxAhead = Math.max(maxAhead, ahead);
      // The stream ref asks ahead for at most its buffer; the receiver's fused stages hold at most
      // one more each; the source's export writes a chunk only on demand.
      assertTrue(ahead <= 2L * REF_BUFFER + 4, ahead + " chunks written ahead of the receiver");
      if (steps % 10 == 1 && !ended.future.isDone()) {
        assertEquals(1, await(source.epochStats()).pins(), "the pin is held during the transfer");
        // Writes go on at the source; with retention of 10 versions only the pin keeps the
        // transferred version readable.
        await(source.put("during/" + steps, "x"));
        assertTrue(
            source.snapshot().watermark() <= expected.version(),
            "the watermark stays at or below the transferred version");
      }
      if (steps > 100_000) {
        throw new AssertionError("the transfer does not end");
      }
    }
    assertTrue(steps > 10, steps + " steps: the transfer was slowed down");
    Snapshot got = await(received);
    assertSameAtEveryVersion(expected, got, 1);
    assertNull(ended.await(), "completed");
    StateTransfer.followed(local, receivingNode(), got.version() + 1);
    assertEquals(got.version(), ended.awaitReleased(), "released once the receiver follows");
    assertEquals(0, await(source.epochStats()).pins(), "the pin is released after");
    assertTrue(maxAhead > 0, "chunks were sent ahead of the receiver");
    await(source.close());
  }

  @Test
  void aSourceNodeThatStopsFailsTheReceiverAndReleasesItsPin() throws Exception {
    try (ClusterHarness pair = ClusterHarness.start(2, CONFIG)) {
      ZVerseStore source = open(pair.node(1), "stops", 1000);
      fill(source, 3000, 20);
      long version = source.version();
      Ended ended = new Ended();
      ActorRef<StateTransfer.Request> server =
          remoteIn(
              pair.node(0),
              pair.node(1),
              pair.node(1)
                  .systemActorOf(
                      StateTransfer.server(
                          source,
                          settings(pair.node(1)).withChunkBytes(1024),
                          endedListener(ended)),
                      "transfer-stops",
                      Props.empty()));
      Gate gate = new Gate();
      CompletionStage<Snapshot> received =
          StateTransfer.receive(
              pair.node(0),
              server,
              "stops",
              Snapshot.empty(),
              settings(pair.node(0)).withStallTimeout(Duration.ofSeconds(20)),
              gate.tap());
      gate.let(30);
      assertTrue(gate.awaitPassed(30, received), "chunks passed");
      assertTrue(!received.toCompletableFuture().isDone(), "the transfer is under way");
      pair.node(1).terminate();
      pair.node(1).getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertNotNull(ended.await(), "the source's stream was cut and its pin released");
      gate.let(1_000_000);
      StateTransferException e = assertInstanceOf(StateTransferException.class, failure(received));
      assertEquals("stops", e.storeName());
      assertTrue(e.bytesReceived() > 0, e.getMessage());
      assertTrue(e.getMessage().contains("version " + version + " from"), e.getMessage());
    }
  }

  @Test
  void aDamagedChunkIsRefusedNamingItsOffsetAndTheSourceReleasesItsPin() throws Exception {
    ZVerseStore source = open(cluster.node(1), "damaged", 1000);
    fill(source, 2000, 20);
    Ended ended = new Ended();
    ActorRef<StateTransfer.Request> server =
        remote(
            cluster
                .node(1)
                .systemActorOf(
                    StateTransfer.server(
                        source,
                        settings(cluster.node(1)).withChunkBytes(1024),
                        endedListener(ended)),
                    "transfer-damaged",
                    Props.empty()));
    AtomicInteger seen = new AtomicInteger();
    AtomicLong damagedAt = new AtomicLong(-1);
    Flow<byte[], byte[], NotUsed> damage =
        Flow.<byte[]>create()
            .map(
                chunk -> {
                  if (seen.getAndIncrement() == 7) {
                    damagedAt.set(ByteBuffer.wrap(chunk).getLong(0));
                    byte[] bad = chunk.clone();
                    bad[bad.length / 2] ^= 0x10;
                    return bad;
                  }
                  return chunk;
                });
    CompletionStage<Snapshot> received =
        StateTransfer.receive(
            cluster.node(0),
            server,
            "damaged",
            Snapshot.empty(),
            settings(cluster.node(0)),
            damage);
    StateTransferException e = assertInstanceOf(StateTransferException.class, failure(received));
    CorruptSnapshotException cause = assertInstanceOf(CorruptSnapshotException.class, e.getCause());
    assertTrue(damagedAt.get() > 0);
    assertEquals(damagedAt.get(), cause.offset(), e.getMessage());
    assertEquals(damagedAt.get(), e.bytesReceived());
    assertTrue(e.getMessage().contains("at byte " + damagedAt.get()), e.getMessage());
    assertNotNull(ended.await(), "the receiver cancelled the source's stream");
    ended.awaitReleased();
    assertEquals(0, await(source.epochStats()).pins(), "the pin is released");
    await(source.close());
  }

  @Test
  void aServerOfAnotherStoreRefuses() throws Exception {
    ZVerseStore source = open(cluster.node(1), "named", 10);
    ActorRef<StateTransfer.Request> server =
        remote(serve(cluster.node(1), source, "named", new Ended()));
    StateTransferException e =
        assertInstanceOf(
            StateTransferException.class,
            failure(
                StateTransfer.receive(
                    cluster.node(0),
                    server,
                    "other",
                    Snapshot.empty(),
                    settings(cluster.node(0)))));
    assertTrue(e.getMessage().contains("offers store [named], not [other]"), e.getMessage());
    await(source.close());
  }

  @Test
  void aCompletedTransfersPinHoldsUntilTheReceiverFollowsFromAfterItsVersion() throws Exception {
    ZVerseStore source = open(cluster.node(1), "holds", 10);
    fill(source, 500, 20);
    Ended ended = new Ended();
    ActorRef<StateTransfer.Request> local = serve(cluster.node(1), source, "holds", ended);
    Snapshot got =
        await(
            StateTransfer.receive(
                cluster.node(0),
                remote(local),
                "holds",
                Snapshot.empty(),
                settings(cluster.node(0))));
    long v = got.version();
    assertNull(ended.await(), "completed");
    // With retention of 10 versions only the pin keeps version v + 1 retained for the receiver,
    // which asks the writer for it after the stream's end.
    for (int i = 0; i < 30; i++) {
      await(source.put("after/" + i, "x"));
    }
    assertEquals(1, await(source.epochStats()).pins(), "held after the stream completed");
    assertTrue(source.snapshot().watermark() <= v, "version " + (v + 1) + " is retained");
    // Another node following, or the receiver following from no later than v, changes nothing.
    StateTransfer.followed(local, cluster.node(1), v + 1);
    StateTransfer.followed(local, receivingNode(), v);
    assertEquals(1, await(source.epochStats()).pins(), "held until the receiver follows");
    assertFalse(ended.releasedAt.isDone(), "not released");
    assertTrue(source.snapshot().watermark() <= v, "version " + (v + 1) + " is retained");
    StateTransfer.followed(local, receivingNode(), v + 1);
    assertEquals(v, ended.awaitReleased());
    assertEquals(0, await(source.epochStats()).pins(), "released once the receiver follows");
    await(source.close());
  }

  @Test
  void aCompletedTransfersPinGoesAfterTheFollowTimeoutIfTheReceiverNeverFollows() throws Exception {
    ZVerseStore source = open(cluster.node(1), "expires", 10);
    fill(source, 100, 5);
    Ended ended = new Ended();
    ActorRef<StateTransfer.Request> local =
        serve(
            cluster.node(1),
            source,
            "expires",
            settings(cluster.node(1)).withFollowTimeout(Duration.ofMillis(200)),
            ended);
    Snapshot got =
        await(
            StateTransfer.receive(
                cluster.node(0),
                remote(local),
                "expires",
                Snapshot.empty(),
                settings(cluster.node(0))));
    assertEquals(got.version(), ended.awaitReleased(), "released by the timeout");
    assertEquals(0, await(source.epochStats()).pins(), "released by the timeout");
    await(source.close());
  }

  // ------------------------------------------------------------------ helpers

  /** Lets chunks through one by one as the test says, counting those that passed. */
  private final class Gate {
    final Semaphore permits = new Semaphore(0);
    final Semaphore passedSignal = new Semaphore(0);
    final AtomicLong passed = new AtomicLong();

    Flow<byte[], byte[], NotUsed> tap() {
      return Flow.<byte[]>create()
          .mapAsync(
              1,
              chunk ->
                  CompletableFuture.supplyAsync(
                      () -> {
                        // Waits for the test's signal, not for time to pass.
                        permits.acquireUninterruptibly();
                        return chunk;
                      },
                      gateThreads))
          .map(
              chunk -> {
                passed.incrementAndGet();
                passedSignal.release();
                return chunk;
              });
    }

    void let(int n) {
      permits.release(n);
    }

    /** Whether {@code total} chunks have passed, or {@code stream} ended first, within WAIT. */
    boolean awaitPassed(long total, CompletionStage<?> stream) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (passed.get() < total && !stream.toCompletableFuture().isDone()) {
        if (System.nanoTime() - deadline > 0) {
          return false;
        }
        // Woken by each chunk that passes; the bounded wait only notices a stream that ended.
        passedSignal.tryAcquire(100, TimeUnit.MILLISECONDS);
      }
      return true;
    }
  }

  /** The end of the source's stream, as its server tells it. */
  private static final class Ended {
    final CompletableFuture<@Nullable Throwable> future = new CompletableFuture<>();
    final CompletableFuture<Long> releasedAt = new CompletableFuture<>();

    void ended(@Nullable Throwable failure) {
      future.complete(failure);
    }

    void released(long version) {
      releasedAt.complete(version);
    }

    /** The version whose pin the server released. */
    long awaitReleased() throws Exception {
      return releasedAt.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Nullable Throwable await() throws Exception {
      return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private static StateTransfer.Listener endedListener(Ended ended) {
    return new StateTransfer.Listener() {
      @Override
      public void ended(long version, @Nullable Throwable failure) {
        ended.ended(failure);
      }

      @Override
      public void released(long version) {
        ended.released(version);
      }
    };
  }

  private static ZVerseStore open(ActorSystem<?> node, String name, long retention) {
    return ZVerseStore.open(
        node,
        name,
        StoreSettings.create(node, name)
            .withRetentionVersions(retention)
            .withEpochTick(Duration.ofMillis(10)));
  }

  /** {@code keys} keys of 1 KB, then {@code rounds} batches of overwrites and deletes. */
  private static void fill(ZVerseStore store, int keys, int rounds) throws Exception {
    Random random = new Random(keys);
    byte[] value = new byte[1024];
    WriteBatch.Builder batch = WriteBatch.builder();
    for (int i = 0; i < keys; i++) {
      random.nextBytes(value);
      batch.put(key(i), value);
    }
    await(store.write(batch.build()));
    for (int r = 0; r < rounds; r++) {
      int k = random.nextInt(keys);
      random.nextBytes(value);
      await(
          store.write(
              WriteBatch.builder().put(key(k), value).delete(key(random.nextInt(keys))).build()));
    }
  }

  private static byte[] key(int i) {
    return String.format("key/%08d", i).getBytes(StandardCharsets.UTF_8);
  }

  private static TransferSettings settings(ActorSystem<?> node) {
    return TransferSettings.create(node);
  }

  /** A server on {@code node}, as a local reference there. */
  private static ActorRef<StateTransfer.Request> serve(
      ActorSystem<?> node, ZVerseStore store, String name, Ended ended) {
    return serve(node, store, name, settings(node), ended);
  }

  private static ActorRef<StateTransfer.Request> serve(
      ActorSystem<?> node, ZVerseStore store, String name, TransferSettings settings, Ended ended) {
    return node.systemActorOf(
        StateTransfer.server(store, settings, endedListener(ended)),
        "transfer-" + name,
        Props.empty());
  }

  /** An actor on the receiving node 0 as node 1 sees it: it names the node a replica runs on. */
  private static ActorRef<Void> receivingNode() {
    return remoteIn(cluster.node(1), cluster.node(0), cluster.node(0));
  }

  /** {@code ref} as node 0 sees it: a remote reference, so every message crosses the wire. */
  private static <T> ActorRef<T> remote(ActorRef<T> ref) {
    return remoteIn(cluster.node(0), cluster.node(1), ref);
  }

  private static <T> ActorRef<T> remoteIn(
      ActorSystem<?> node, ActorSystem<?> owner, ActorRef<T> ref) {
    String path = ActorRefResolver.get(owner).toSerializationFormat(ref);
    if (!path.contains("@")) {
      throw new AssertionError("not a full address: " + path);
    }
    return ActorRefResolver.get(node).resolveActorRef(path);
  }

  /**
   * Reads at every version {@code got} retains agree with {@code expected}, a snapshot of the
   * source at the same version: the whole store at the latest version, at the watermark and half
   * way, every commit in between, the history of every {@code historyEvery}-th key, and the Z-order
   * changes of the whole window. The source may have pruned further by the time its server pinned
   * the version (its epoch prunes on its own tick), so {@code got}'s watermark may be above {@code
   * expected}'s, never below it.
   */
  private static void assertSameAtEveryVersion(Snapshot expected, Snapshot got, int historyEvery) {
    assertEquals(expected.version(), got.version(), "version");
    assertEquals(expected.size(), got.size(), "size");
    long w = got.watermark();
    long v = expected.version();
    assertTrue(w >= expected.watermark() && w <= v, "watermark " + w);
    for (long at : new long[] {w, (w + v) / 2, v}) {
      Iterator<Entry> a = expected.iterator(KeyRange.all(), at, Direction.FORWARD);
      Iterator<Entry> b = got.iterator(KeyRange.all(), at, Direction.FORWARD);
      long n = 0;
      while (a.hasNext()) {
        assertTrue(b.hasNext(), "entry " + n + " @" + at);
        assertEquals(a.next(), b.next(), "entry " + n + " @" + at);
        n++;
      }
      assertFalse(b.hasNext(), "no more entries @" + at);
    }
    for (long at = Math.max(1, w); at <= v; at++) {
      assertEquals(expected.commit(at), got.commit(at), "commit " + at);
      assertEquals(expected.commitTime(at), got.commitTime(at), "commit time " + at);
      assertEquals(expected.versionAt(expected.commitTime(at)), got.versionAt(got.commitTime(at)));
    }
    Iterator<Entry> all = expected.iterator(KeyRange.all(), v, Direction.FORWARD);
    for (long n = 0; all.hasNext(); n++) {
      byte[] k = all.next().key();
      if (n % historyEvery == 0) {
        assertEquals(expected.history(k, w, v), got.history(k, w, v), "history");
        assertArrayEquals(expected.get(k, w), got.get(k, w));
      }
    }
    assertEquals(expected.changes(KeyRange.all(), w, v), got.changes(KeyRange.all(), w, v));
  }
}
