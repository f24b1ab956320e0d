package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A new writer whose node's replica lags behind every other replica's retention: it cannot take the
 * commits after its node's version from anyone, so it takes the most advanced replica's state by
 * state transfer, then that replica's received tail, and serves; no acknowledged write is lost and
 * versions continue.
 */
@ExtendWith(LogCapturingExtension.class)
class WriterStateTransferTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  /** A writer dispatcher of one thread, which the test holds to keep node 1's replica behind. */
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
    try (ClusterHarness cluster =
        ClusterHarness.start(3, ClusterHarness.singleThreadDispatcher(HELD_DISPATCHER))) {
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
      CountDownLatch release = hold(cluster, next);
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
   * Holds the only thread of node {@code node}'s {@link #HELD_DISPATCHER} until the returned latch
   * is counted down; returns once the thread is held.
   */
  private static CountDownLatch hold(ClusterHarness cluster, int node) throws InterruptedException {
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Executor thread =
        cluster.node(node).dispatchers().lookup(DispatcherSelector.fromConfig(HELD_DISPATCHER));
    thread.execute(
        () -> {
          held.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    assertTrue(held.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    return release;
  }
}
