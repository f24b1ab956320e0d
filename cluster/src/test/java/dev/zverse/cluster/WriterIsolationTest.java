package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.cluster.FailoverChecker.Acked;
import dev.zverse.cluster.FailoverChecker.History;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.FutureConverters;

/**
 * A writer isolated from the others, for real (issue 17): three nodes in one JVM with Artery's test
 * mode on, and the writer's node cut off from both others in both directions the way Pekko's
 * multi-node testkit does its {@code blackhole}: a {@code SetThrottle(address, Both, Blackhole)}
 * management command to the node's remote transport, on each side of each link. Nothing crosses
 * those links, heartbeats included, until the test passes traffic through again.
 *
 * <p>The isolated writer cannot get a write acknowledged (each fails with {@link
 * NotEnoughReplicasException} or ends as {@link WriteOutcomeUnknownException}); the majority side's
 * Split Brain Resolver downs its node and a new writer serves the clients on the majority side.
 * When traffic resumes, the old writer gets nothing more acknowledged, and the old node's replica
 * holds no version with another content than the new writer's history ({@link FailoverChecker}).
 *
 * <p>The isolated node's own resolver waits much longer than the others' ({@link #ISOLATED}): a
 * minority node downs itself after the same stable time, and the test wants the old writer alive
 * when traffic resumes.
 */
class WriterIsolationTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static final String CONFIG =
      """
      pekko.remote.artery.advanced.test-mode = on
      pekko.coordinated-shutdown.run-by-actor-system-terminate = off
      """;

  /** The isolated node: its resolver does not down it (the minority) while the test runs. */
  private static final String ISOLATED =
      """
      pekko.cluster.split-brain-resolver.stable-after = 300s
      """;

  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  @Test
  void anIsolatedWriterGetsNoWriteAcknowledgedAndTheMajorityMovesTheWriter() throws Exception {
    String name = "isolation";
    try (ClusterHarness cluster = ClusterHarness.start(3, CONFIG, i -> i == 0 ? ISOLATED : "")) {
      List<ClusterStore> stores = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        ActorSystem<Void> system = cluster.node(i);
        stores.add(
            ClusterStore.open(
                system,
                name,
                StoreSettings.create(system, name),
                ClusterSettings.create(system).withWriteTimeout(WRITE_TIMEOUT)));
      }
      for (ClusterStore s : stores) {
        await(s.following());
      }
      Map<Long, Acked> acked = new ConcurrentHashMap<>();
      for (int i = 0; i < 10; i++) {
        Acked a = new Acked("before-" + i, "vbefore-" + i);
        acked.put(await(stores.get(1).write(WriteBatch.ofPut(a.key(), a.value()))), a);
      }

      // Node 0 runs the writer (the oldest). Cut it off from both others.
      Address isolated = address(cluster.node(0));
      for (int j = 1; j < 3; j++) {
        throttle(cluster.node(0), address(cluster.node(j)), true);
        throttle(cluster.node(j), isolated, true);
      }
      List<CompletionStage<Long>> cutOff = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        cutOff.add(stores.get(0).write(WriteBatch.ofPut("cut-" + i, "vcut-" + i)));
      }

      // Clients on the majority side write until a new writer acknowledged some of their writes.
      AtomicBoolean stop = new AtomicBoolean();
      List<Throwable> unexpected = new CopyOnWriteArrayList<>();
      AtomicInteger count = new AtomicInteger();
      List<Thread> clients = new ArrayList<>();
      for (int node = 1; node < 3; node++) {
        ClusterStore store = stores.get(node);
        String tag = "n" + node;
        Thread t =
            new Thread(
                () -> FailoverTest.write(store, tag, stop, acked, count, unexpected),
                "client-" + tag);
        clients.add(t);
        t.start();
      }
      FailoverTest.awaitCount(count, 20);
      for (Member m : Cluster.get(cluster.node(1)).state().getMembers()) {
        assertFalse(m.address().equals(isolated), "the majority removed the isolated node");
      }

      // Not one write on the isolated writer was acknowledged.
      for (CompletionStage<Long> w : cutOff) {
        assertNotWritten(w);
      }

      // Traffic resumes: the old writer gets nothing acknowledged, the new one goes on.
      for (int j = 1; j < 3; j++) {
        throttle(cluster.node(0), address(cluster.node(j)), false);
        throttle(cluster.node(j), isolated, false);
      }
      CompletionStage<Long> afterResume = stores.get(0).write(WriteBatch.ofPut("late", "vlate"));
      FailoverTest.awaitCount(count, count.get() + 10);
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      assertNotWritten(afterResume);
      assertTrue(unexpected.isEmpty(), () -> "unexpected failures " + unexpected);

      long max = acked.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
      List<History> survivors = new ArrayList<>();
      for (int i = 1; i < 3; i++) {
        survivors.add(History.of("node " + i, await(stores.get(i).awaitVersion(max, WAIT))));
      }
      Snapshot old = stores.get(0).replica().advanced().lastPublished();
      FailoverChecker.check(
          "isolation", survivors, List.of(History.of("isolated node 0", old)), Map.copyOf(acked));
      assertTrue(
          old.version() <= max,
          "the isolated node's replica shows "
              + old.version()
              + ", beyond every acknowledged "
              + max);
      for (long v = old.watermark() + 1; v <= old.version(); v++) {
        assertEquals(
            survivors.get(0).commits().get(v),
            History.of("isolated node 0", old).commits().get(v),
            "version " + v + " on the isolated node and on the new writer's side");
      }
    }
  }

  /** Blackholes (or passes again) the traffic between {@code from} and {@code to}, both ways. */
  private static void throttle(ActorSystem<Void> from, Address to, boolean blackhole)
      throws Exception {
    RARP rarp = (RARP) RARP.get(from.classicSystem());
    Object done =
        FutureConverters.asJava(
                rarp.provider()
                    .transport()
                    .managementCommand(
                        new ThrottlerTransportAdapter.SetThrottle(
                            to,
                            ThrottlerTransportAdapter.bothDirection(),
                            blackhole
                                ? ThrottlerTransportAdapter.blackholeThrottleMode()
                                : ThrottlerTransportAdapter.unthrottledThrottleMode())))
            .toCompletableFuture()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(Boolean.TRUE, done, "the transport took the throttle (test mode on)");
  }

  private static Address address(ActorSystem<Void> system) {
    return Cluster.get(system).selfMember().address();
  }

  /** {@code write} failed as a write without its acknowledgements may: never written. */
  private static void assertNotWritten(CompletionStage<Long> write) throws Exception {
    try {
      long v = write.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      throw new AssertionError("an isolated writer's write was acknowledged at version " + v);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      assertTrue(
          cause instanceof NotEnoughReplicasException
              || cause instanceof WriteOutcomeUnknownException,
          () -> "the write failed otherwise: " + cause);
    }
  }
}
