package dev.zverse.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.cluster.ClusterSettings;
import dev.zverse.cluster.ClusterStore;
import dev.zverse.cluster.ReplicaStatus;
import dev.zverse.engine.WriteBatch;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replica meters move as the replica does, on two nodes of a loopback cluster in one JVM: node
 * 0 alone has the writer's role, node 1's replica is bound. Writes move its applied version; a
 * replica whose writer thread is held shows the lag in versions and (on the writer's manual clock)
 * in time; a stopped writer shows unreachable.
 */
class ClusterStoreMeterBinderTest {
  private static final Duration WAIT = Duration.ofMinutes(2);

  /** A dispatcher of one thread for node 1's replica, which the test holds to make it lag. */
  private static final String HELD = "zverse-test-held-replica";

  private static final String CONFIG =
      """
      pekko.actor.provider = cluster
      pekko.remote.artery.canonical.hostname = 127.0.0.1
      pekko.remote.artery.canonical.port = 0
      pekko.actor.serialize-messages = on
      pekko.actor.allow-java-serialization = off
      pekko.actor.no-serialization-verification-needed-class-prefix = [
        "org.apache.pekko.", "dev.zverse.actors."]
      pekko.actor.warn-about-java-serializer-usage = off
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
      pekko.loglevel = WARNING
      # ClusterStore refuses to open without a downing provider (failover needs one).
      pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
      zverse-test-held-replica {
        type = Dispatcher
        executor = thread-pool-executor
        thread-pool-executor.fixed-pool-size = 1
      }
      """;

  private ActorSystem<Void> writerNode;
  private ActorSystem<Void> replicaNode;

  @AfterEach
  void stop() throws Exception {
    for (ActorSystem<?> node : new ActorSystem<?>[] {replicaNode, writerNode}) {
      if (node != null) {
        node.terminate();
        node.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      }
    }
  }

  private static ActorSystem<Void> node(String roles) {
    Config c =
        ConfigFactory.parseString("pekko.cluster.roles = " + roles + "\n" + CONFIG)
            .withFallback(ConfigFactory.load());
    return ActorSystem.create(Behaviors.empty(), "zverse-metrics-cluster-test", c);
  }

  /** Starts node 0, the only one with the writer's role, and node 1, joined through node 0. */
  private void startNodes() {
    writerNode = node("[writer]");
    replicaNode = node("[]");
    Address first = Cluster.get(writerNode).selfMember().address();
    Cluster.get(writerNode).manager().tell(Join.create(first));
    Cluster.get(replicaNode).manager().tell(Join.create(first));
  }

  /** Holds node 1's replica writer thread until the returned latch is counted down. */
  private CountDownLatch holdReplicaWriter() throws InterruptedException {
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Executor replicaThread = replicaNode.dispatchers().lookup(DispatcherSelector.fromConfig(HELD));
    replicaThread.execute(
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

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Waits for an event (the replica actor's, the failure detector's), not for time to pass. */
  private static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.onSpinWait();
    }
  }

  private static double gauge(SimpleMeterRegistry r, String name) {
    return gauge(r, "lagging", name);
  }

  private static double gauge(SimpleMeterRegistry r, String store, String name) {
    return r.get(ClusterStoreMeterBinder.PREFIX + name).tags("store", store).gauge().value();
  }

  private static double lagSeconds(SimpleMeterRegistry r) {
    TimeGauge g = r.get(ClusterStoreMeterBinder.PREFIX + "lag.time").timeGauge();
    return g.value(TimeUnit.SECONDS);
  }

  @Test
  void theReplicaMetersMoveAsTheReplicaDoes() throws Exception {
    startNodes();

    // The writer's commits are stamped by a clock the test sets: the lag in time is exact.
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-29T12:00:00Z"));
    ClusterSettings cluster =
        ClusterSettings.create(writerNode).withRole("writer").withWriteTimeout(WAIT);
    StoreSettings writer = StoreSettings.create(writerNode, "lagging").withClock(now::get);
    ClusterStore onWriter = ClusterStore.open(writerNode, "lagging", writer, writer, cluster);
    ClusterStore onReplica =
        ClusterStore.open(
            replicaNode,
            "lagging",
            writer,
            StoreSettings.create(replicaNode, "lagging").withWriterDispatcher(HELD),
            cluster);
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    new ClusterStoreMeterBinder(onReplica, Tags.of("node", "1")).bindTo(r);
    await(onWriter.following());
    await(onReplica.following());

    // Writes move the applied version; a replica that keeps up lags by nothing.
    long v = 0;
    for (int i = 1; i <= 3; i++) {
      v = await(onReplica.write(WriteBatch.ofPut("k", "v" + i)));
    }
    await(onReplica.awaitVersion(v, WAIT));
    assertEquals(v, gauge(r, "applied.version"));
    assertEquals(v, gauge(r, "writer.version"));
    assertEquals(0, gauge(r, "lag.versions"));
    assertEquals(0, lagSeconds(r));
    assertEquals(0, gauge(r, "catching.up"));
    assertEquals(1, gauge(r, "writer.reachable"));
    assertEquals(0, gauge(r, "failed"));
    assertEquals(
        "1",
        r.get(ClusterStoreMeterBinder.PREFIX + "applied.version").meter().getId().getTag("node"));

    // Hold the replica's writer thread: commits arrive and are known, none is published.
    CountDownLatch release = holdReplicaWriter();
    long behind;
    try {
      now.set(now.get().plusSeconds(7));
      await(onWriter.write(WriteBatch.ofPut("k", "late 1")));
      behind = await(onWriter.write(WriteBatch.ofPut("k", "late 2")));
      long target = behind;
      awaitTrue(() -> gauge(r, "writer.version") == target, "the replica to know " + target);
      assertEquals(v, gauge(r, "applied.version"));
      assertEquals(behind - v, gauge(r, "lag.versions"));
      // Commit times rise by at least a microsecond per commit: 7 s less 1 us, exactly.
      assertEquals(7 - 1e-6, lagSeconds(r), 1e-9);
    } finally {
      release.countDown();
    }
    await(onReplica.awaitVersion(behind, WAIT));
    assertEquals(behind, gauge(r, "applied.version"));
    assertEquals(0, gauge(r, "lag.versions"));
    assertEquals(0, lagSeconds(r));

    // A stopped writer (no other node has its role): the replica keeps its version, unreachable.
    writerNode.terminate();
    writerNode.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    awaitTrue(() -> gauge(r, "writer.reachable") == 0, "the writer to be unreachable");
    ReplicaStatus status = onReplica.status();
    assertEquals(behind, gauge(r, "applied.version"));
    assertEquals(status.writerReachable() ? 1 : 0, gauge(r, "writer.reachable"));
  }

  /**
   * A replica that joins after the writer pruned the versions it would need catches up by state
   * transfer: while it does (its writer thread held, so the reset waits), {@code catching.up} is 1
   * and the replica is not ready; then 0, ready, at the writer's version.
   */
  @Test
  void aReplicaCatchingUpShowsItAndIsNotReady() throws Exception {
    startNodes();
    // min-acks 0: the writer writes before the other node's replica exists, which is the point.
    ClusterSettings cluster =
        ClusterSettings.create(writerNode).withRole("writer").withWriteTimeout(WAIT).withMinAcks(0);
    StoreSettings writer = StoreSettings.create(writerNode, "late").withRetentionVersions(2);
    ClusterStore onWriter = ClusterStore.open(writerNode, "late", writer, writer, cluster);
    await(onWriter.following());
    long last = 0;
    for (int i = 1; i <= 10; i++) {
      last = await(onWriter.write(WriteBatch.ofPut("k" + i, "v")));
    }
    ZVerseStore writerStore = ZVerse.get(writerNode).store("late-writer").orElseThrow();
    awaitTrue(() -> writerStore.snapshot().watermark() > 1, "the writer to prune version 1");

    CountDownLatch release = holdReplicaWriter();
    ClusterStore late;
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    try {
      late =
          ClusterStore.open(
              replicaNode,
              "late",
              writer,
              StoreSettings.create(replicaNode, "late").withWriterDispatcher(HELD),
              cluster);
      new ClusterStoreMeterBinder(late).bindTo(r);
      awaitTrue(() -> gauge(r, "late", "catching.up") == 1, "the replica to catch up");
      assertFalse(await(late.readiness().get()), "not ready while catching up");
      assertEquals(0, gauge(r, "late", "applied.version"));
    } finally {
      release.countDown();
    }
    await(late.following());
    await(late.awaitVersion(last, WAIT));
    assertEquals(0, gauge(r, "late", "catching.up"));
    assertEquals(last, gauge(r, "late", "applied.version"));
    assertEquals(1, gauge(r, "late", "writer.reachable"));
    assertTrue(await(late.readiness().get()));
  }

  @Test
  void theStoreTagIsTheBindersOwn() {
    replicaNode = node("[]");
    ClusterStore store =
        ClusterStore.open(
            replicaNode,
            "tagged",
            StoreSettings.create(replicaNode, "tagged"),
            ClusterSettings.create(replicaNode).withRole("nobody"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ClusterStoreMeterBinder(store, Tags.of("store", "other")));
    assertTrue(e.getMessage().contains("[store]"), e.getMessage());
  }
}
