package dev.zverse.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.VersionPin;
import dev.zverse.actors.ZVerseStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each meter moves as the store does, read through a {@link SimpleMeterRegistry}. */
class StoreMeterBinderTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("metrics-test");
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static StoreSettings settings() {
    return StoreSettings.create(kit.system().settings().config().getConfig("zverse.store"));
  }

  private static double gauge(SimpleMeterRegistry r, String name) {
    return r.get(StoreMeterBinder.PREFIX + name).gauge().value();
  }

  private static double counter(SimpleMeterRegistry r, String name) {
    return r.get(StoreMeterBinder.PREFIX + name).functionCounter().count();
  }

  private static FunctionTimer timer(SimpleMeterRegistry r, String name) {
    return r.get(StoreMeterBinder.PREFIX + name).functionTimer();
  }

  @Test
  void writesPinsAndFeedLagMoveTheirMeters() throws Exception {
    ZVerseStore store = ZVerseStore.open(kit.system(), "moves", settings());
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    new StoreMeterBinder(store, Tags.of("node", "a")).bindTo(r);
    assertEquals(0, gauge(r, "version"));
    assertEquals(0, counter(r, "writes"));

    for (int i = 1; i <= 5; i++) {
      await(store.put("k", "v" + i));
    }
    assertEquals(5, gauge(r, "version"));
    assertEquals(5, counter(r, "writes"));
    assertEquals(counter(r, "groups"), timer(r, "commit.latency").count());
    assertTrue(timer(r, "commit.latency").totalTime(TimeUnit.NANOSECONDS) > 0);
    assertTrue(gauge(r, "heap") > 0);
    assertEquals(6, gauge(r, "retained.versions"));

    VersionPin cursor = store.advanced().pin(2, "feed");
    await(store.put("k", "v6"));
    assertEquals(1, gauge(r, "pins"));
    assertEquals(4, gauge(r, "pins.oldest.lag"));
    cursor.close();
    assertEquals(0, gauge(r, "pins"));
    assertEquals(0, gauge(r, "pins.oldest.lag"));

    Gauge tagged = r.get(StoreMeterBinder.PREFIX + "version").tags("store", "moves").gauge();
    assertEquals("a", tagged.getId().getTag("node"));
    await(store.close());
  }

  @Test
  void pruningMovesTheWatermark() throws Exception {
    ZVerseStore store =
        ZVerseStore.open(
            kit.system(),
            "prunes",
            settings().withRetentionVersions(2).withEpochTick(Duration.ofMillis(20)));
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    new StoreMeterBinder(store).bindTo(r);
    for (int i = 1; i <= 10; i++) {
      await(store.put("k", "v" + i));
    }
    // The EpochActor prunes on its tick: wait for its decision through the store's own ask.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (await(store.epochStats()).watermark() < 9) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("watermark never reached 9");
      }
    }
    assertEquals(9, gauge(r, "watermark"));
    assertEquals(2, gauge(r, "retained.versions"));
    await(store.close());
  }

  @Test
  void logAppendsCheckpointsAndRecoveryMoveTheLogMeters(@TempDir Path dir) throws Exception {
    StoreSettings durable = settings().withDataDirectory(dir);
    ZVerseStore store = ZVerseStore.open(kit.system(), "durable", durable);
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    new StoreMeterBinder(store).bindTo(r);
    await(store.put("k", "v"));
    assertEquals(1, timer(r, "log.latency").count());
    await(store.close());
    assertEquals(1, timer(r, "checkpoint.duration").count(), "the final checkpoint");
    assertTrue(gauge(r, "checkpoint.size") > 0);

    ZVerseStore reopened = ZVerseStore.open(kit.system(), "durable", durable);
    SimpleMeterRegistry r2 = new SimpleMeterRegistry();
    new StoreMeterBinder(reopened).bindTo(r2);
    TimeGauge recovery = r2.get(StoreMeterBinder.PREFIX + "recovery.time").timeGauge();
    assertTrue(recovery.value(TimeUnit.NANOSECONDS) > 0);
    assertEquals(0, counter(r2, "log.failures"));

    await(reopened.close());
  }

  @Test
  void overloadRefusalsAndPendingWritesAreMetered() throws Exception {
    // The actor path: with caller-runs a put that finds the writer idle never waits in the bound.
    ZVerseStore store =
        ZVerseStore.open(
            kit.system(), "bound", settings().withMaxPendingWrites(1).withCallerRuns(false));
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    new StoreMeterBinder(store).bindTo(r);
    assertEquals(1, gauge(r, "writes.pending.max"));
    FunctionCounter refusals =
        r.get(StoreMeterBinder.PREFIX + "overload.refusals").functionCounter();
    assertEquals(0, refusals.count());
    List<CompletableFuture<Long>> sent = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      sent.add(store.put("k", "v" + i).toCompletableFuture());
    }
    CompletableFuture.allOf(
            sent.stream().map(f -> f.exceptionally(e -> -1L)).toArray(CompletableFuture[]::new))
        .get(10, TimeUnit.SECONDS);
    long refused =
        sent.stream()
            .filter(f -> f.isCompletedExceptionally())
            .map(f -> f.handle((v, e) -> e.getClass().getSimpleName()).join())
            .filter("StoreOverloadedException"::equals)
            .count();
    assertEquals(refused, refusals.count(), "one count per refused write");
    assertEquals(200 - refused, counter(r, "writes"));
    assertEquals(0, gauge(r, "writes.pending"));
    await(store.close());
  }

  @Test
  void anExtraStoreTagIsRefused() throws Exception {
    ZVerseStore store = ZVerseStore.open(kit.system(), "tags", settings());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new StoreMeterBinder(store, Tags.of("store", "x")));
    assertTrue(
        e.getMessage().startsWith("extraTags must not hold the key [store]"), e.getMessage());
    await(store.close());
  }
}
