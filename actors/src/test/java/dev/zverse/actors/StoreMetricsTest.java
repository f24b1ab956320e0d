package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static dev.zverse.actors.StoreTestKit.awaitStats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.LogFaults;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import javax.management.MBeanServer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Each figure of {@link StoreMetrics}, and its JMX attribute, moves as the store does. */
@ExtendWith(LogCapturingExtension.class)
class StoreMetricsTest {
  private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static Object attribute(ZVerseStore store, String name) throws Exception {
    return JMX.getAttribute(StoreJmx.objectName(store.name()), name);
  }

  @Test
  void writesCountGroupsAndLatencyAsTheyCommit() throws Exception {
    ZVerseStore store = kit.open(kit.settings());
    StoreMetrics m = store.metrics();
    assertEquals(0, m.writes());
    assertEquals(0, m.groups());
    List<CompletionStage<Long>> sent = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      sent.add(store.put("k" + i, "v"));
    }
    sent.forEach(StoreTestKit::await);

    assertEquals(50, m.writes());
    assertEquals(50, m.answeredWrites());
    assertEquals(50, m.version());
    assertTrue(m.groups() >= 1 && m.groups() <= 50, "groups " + m.groups());
    assertEquals(50, m.groupWrites().sum(), "each write in exactly one group");
    assertEquals(m.groups(), m.commitNanos().count(), "one latency per group");
    assertTrue(m.commitNanos().max() > 0);
    assertTrue(m.heapBytes() > 0);
    assertEquals(0, m.pendingWrites());
    assertEquals(kit.settings().maxPendingWrites(), m.maxPendingWrites());
    assertEquals(50L, attribute(store, "Writes"));
    assertEquals(50L, attribute(store, "Version"));
    assertEquals(m.heapBytes(), attribute(store, "HeapBytes"));
    assertEquals(false, attribute(store, "Durable"));
    await(store.close());
  }

  @Test
  void pinsTheirAgeAndTheFeedLagFollowTheStoresClock() throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    ZVerseStore store = kit.open(kit.settings().withClock(clock));
    StoreMetrics m = store.metrics();
    StoreTestKit.putVersions(store, 1, 3);
    assertEquals(0, m.pins());
    assertEquals(Duration.ZERO, m.oldestPinAge());
    assertEquals(0, m.oldestPinLag());

    VersionPin feedCursor = store.advanced().pin(1, "feed");
    PublishListener feed =
        new PublishListener() {
          @Override
          public void published(Snapshot snapshot) {}

          @Override
          public void stopped(Snapshot last) {}
        };
    store.advanced().addPublishListener(feed);
    clock.move(Duration.ofSeconds(7));
    StoreTestKit.putVersions(store, 4, 5);

    assertEquals(1, m.pins());
    assertEquals(Duration.ofSeconds(7), m.oldestPinAge());
    assertEquals(4, m.oldestPinLag(), "version 5, cursor at 1");
    assertEquals(1, m.changeFeeds());
    assertEquals(7000L, attribute(store, "OldestPinAgeMillis"));
    assertEquals(4L, attribute(store, "OldestPinLag"));
    assertEquals(1, attribute(store, "ChangeFeeds"));

    feedCursor.close();
    store.advanced().removePublishListener(feed);
    assertEquals(0, m.pins());
    assertEquals(0, m.changeFeeds());
    await(store.close());
  }

  @Test
  void pruningMovesTheWatermarkAndShrinksRetainedVersions() throws Exception {
    ZVerseStore store =
        kit.open(kit.settings().withRetentionVersions(3).withEpochTick(Duration.ofMillis(20)));
    StoreMetrics m = store.metrics();
    StoreTestKit.putVersions(store, 1, 10);
    awaitStats(store, s -> s.watermark() == 8, "watermark 8");

    assertEquals(8, m.watermark());
    assertEquals(3, m.retainedVersions());
    assertEquals(3L, attribute(store, "RetainedVersions"));
    await(store.close());
  }

  @Test
  void overloadRefusalsAreCounted() throws Exception {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store =
        kit.open(kit.settings().withMaxPendingWrites(2).withCallerRuns(false), applier);
    WriteBatch first = WriteBatch.ofPut("k", "0");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    applier.pause(first, entered, release);
    CompletionStage<Long> a = store.write(first);
    entered.await();
    CompletionStage<Long> b = store.put("k", "1");
    assertEquals(2, store.metrics().pendingWrites());
    for (int i = 0; i < 3; i++) {
      assertInstanceOf(StoreOverloadedException.class, awaitFailure(store.put("k", "x")));
    }

    assertEquals(3, store.metrics().overloadRefusals());
    assertEquals(3L, attribute(store, "OverloadRefusals"));
    assertEquals(2, attribute(store, "PendingWrites"));
    release.countDown();
    await(a);
    await(b);
    await(store.close());
  }

  @Test
  void aDurableStoreRecordsItsLogCheckpointsAndRecovery(@TempDir Path dir) throws Exception {
    StoreSettings settings = kit.settings().withDataDirectory(dir);
    ZVerseStore store = kit.open(settings);
    StoreMetrics m = store.metrics();
    assertTrue(m.durable());
    assertEquals(0, m.checkpointNanos().count());
    StoreTestKit.putVersions(store, 1, 20);
    assertEquals(m.groups(), m.logNanos().count(), "one append per published group");
    assertTrue(m.logNanos().max() > 0);
    await(store.close());
    assertEquals(1, m.checkpointNanos().count(), "the final checkpoint");
    assertTrue(m.lastCheckpointBytes() > 0);
    assertFalse(JMX.isRegistered(StoreJmx.objectName(store.name())), "unregistered once closed");

    ZVerseStore reopened = ZVerseStore.open(kit.testKit.system(), store.name(), settings);
    assertTrue(reopened.metrics().recoveryTime().compareTo(Duration.ZERO) > 0);
    assertEquals(20, reopened.metrics().version());
    assertEquals(0, reopened.metrics().lastCheckpointBytes(), "none written by this opening");
    assertEquals(
        reopened.metrics().recoveryTime().toMillis(), attribute(reopened, "RecoveryMillis"));
    await(reopened.close());
  }

  @Test
  void aFailedLogWriteIsCountedAndShown(@TempDir Path dir) throws Exception {
    ZVerseStore store = kit.open(kit.settings().withDataDirectory(dir));
    await(store.put("k", "v"));
    LogFaults.failWrites(store.durableLog(), new IOException("disk full"));
    assertInstanceOf(StoreFailedException.class, awaitFailure(store.put("k", "w")));

    assertEquals(1, store.metrics().logFailures());
    assertEquals(1L, attribute(store, "LogFailures"));
    assertEquals(true, attribute(store, "Failed"));
    assertEquals(1, store.metrics().writes(), "the failed write is not counted as committed");
    assertEquals(2, store.metrics().answeredWrites());
    await(store.close());
  }

  @Test
  void aMemoryOnlyStoreHasNoLogFigures() {
    ZVerseStore store = kit.open(kit.settings());
    StoreMetrics m = store.metrics();
    assertFalse(m.durable());
    assertEquals(Duration.ZERO, m.recoveryTime());
    assertEquals(0, m.logNanos().count());
    assertEquals(0, m.lastCheckpointBytes());
    await(store.close());
  }

  @Test
  void theHistogramBucketsByPowersOfTwo() {
    StoreMetrics.Histogram h = new StoreMetrics.Histogram();
    assertEquals(0, h.quantileUpperBound(0.5));
    for (long v : new long[] {0, 1, 2, 3, 4, 1000, -5}) {
      h.record(v);
    }
    assertEquals(7, h.count());
    assertEquals(1010, h.sum(), "a negative value counts as zero");
    assertEquals(1000, h.max());
    assertEquals(2, h.bucketCount(0));
    assertEquals(1, h.bucketCount(1));
    assertEquals(2, h.bucketCount(2));
    assertEquals(1, h.bucketCount(3));
    assertEquals(1, h.bucketCount(10));
    assertEquals(3, h.quantileUpperBound(0.5));
    assertEquals(1000, h.quantileUpperBound(1));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> h.quantileUpperBound(1.5));
    assertEquals("q must be in [0, 1], was 1.5", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> h.bucketCount(64));
  }
}
