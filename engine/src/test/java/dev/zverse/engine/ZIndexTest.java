package dev.zverse.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ZIndexTest {
  private static final ZIndexOptions DIRECT =
      ZIndexOptions.defaults().withSegmentEntries(64).withExecutor(Runnable::run);

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  /** 2,000 versions of 5 changes each, under orders/, users/ and stock/. */
  private static Snapshot history(ZIndexOptions options) {
    Random rnd = new Random(42);
    String[] prefixes = {"orders/", "users/", "stock/"};
    Transient t = Snapshot.empty(Limits.defaults(), options).asTransient();
    Snapshot s = null;
    for (int v = 1; v <= 2_000; v++) {
      WriteBatch.Builder batch = WriteBatch.builder();
      for (int i = 0; i < 5; i++) {
        String key = prefixes[rnd.nextInt(3)] + rnd.nextInt(300);
        if (rnd.nextInt(10) == 0) {
          batch.delete(key);
        } else {
          batch.put(key, "v" + v);
        }
      }
      t.apply(batch.build());
      if (v % 10 == 0) { // publish now and then, as the writer does
        s = t.persistent();
        t = s.asTransient();
      }
    }
    return s;
  }

  @Test
  void everyChangeUnderAPrefixBetweenTwoVersions() {
    Snapshot s = history(DIRECT);
    ZIndexStats stats = s.indexStats();
    assertTrue(stats.segments() > 0, "sealed: " + stats);
    assertTrue(stats.segments() < 20, "merged: " + stats);
    assertTrue(stats.unsealedChanges() < 2 * 64, "unsealed: " + stats);

    List<Change> changes = s.changes("orders/", 1_000, 1_500);
    assertFalse(changes.isEmpty());
    long lastVersion = 0;
    byte[] lastKey = null;
    for (Change c : changes) {
      assertTrue(c.keyUtf8().startsWith("orders/"), c.toString());
      assertTrue(c.version() >= 1_000 && c.version() <= 1_500, c.toString());
      assertTrue(c.isDelete() || c.valueUtf8().equals("v" + c.version()), c.toString());
      if (c.version() == lastVersion) {
        assertTrue(Arrays.compareUnsigned(lastKey, c.key()) < 0, "key order within a version");
      }
      assertTrue(c.version() >= lastVersion, "version order");
      lastVersion = c.version();
      lastKey = c.key();
    }
    for (QueryPath path : QueryPath.values()) {
      assertEquals(changes, s.changes(KeyRange.prefix("orders/"), 1_000, 1_500, path), path.name());
    }
  }

  @Test
  void keysThatShareTheirFirstEightBytesAreToldApart() {
    Transient t = Snapshot.empty(Limits.defaults(), DIRECT.withSegmentEntries(4)).asTransient();
    for (int v = 0; v < 50; v++) {
      t.apply(
          WriteBatch.builder()
              .put("sensor-0001/a", "a" + v)
              .put("sensor-0001/b", "b" + v)
              .put("sensor-0001", "x")
              .build());
    }
    Snapshot s = t.persistent().apply(WriteBatch.builder().build());
    assertTrue(s.indexStats().segments() > 0);
    List<Change> got = s.changes(KeyRange.singleton(b("sensor-0001/b")), 10, 20, QueryPath.Z_INDEX);
    assertEquals(11, got.size());
    for (Change c : got) {
      assertEquals("sensor-0001/b", c.keyUtf8());
      assertEquals("b" + (c.version() - 1), c.valueUtf8());
    }
    // "sensor-0001" was put once; later puts of the same value are changes too.
    assertEquals(
        50, s.changes(KeyRange.singleton(b("sensor-0001")), 1, 50, QueryPath.Z_INDEX).size());
  }

  @Test
  void theQueryPicksTheCheapPathForThinBoxes() {
    Snapshot s = history(DIRECT);
    assertEquals(
        QueryPath.KEY_RANGE_WALK, s.plan(KeyRange.singleton(b("orders/7")), 1, s.version()));
    Snapshot more =
        s.apply(WriteBatch.ofPut("users/1", "x")).apply(WriteBatch.ofPut("users/2", "y"));
    long unsealed = more.indexStats().sealedThrough() + 1;
    assertTrue(unsealed <= more.version());
    assertEquals(QueryPath.COMMIT_WALK, more.plan(KeyRange.all(), unsealed, more.version()));
    // Where the index's box wins, on a history this small, it wins by too little for a stable
    // assertion (2.1 against 3.7 us, and the estimate shifts with the node size); the choice at
    // scale is checked by ZIndexQueryBenchmark, which reports what AUTO picks for every box.
  }

  @Test
  void pruningDropsSealedHistoryBelowTheWatermark() {
    Snapshot s = history(DIRECT);
    long before = s.indexStats().indexedChanges();
    Snapshot p =
        s.prune(1_900)
            .apply(WriteBatch.builder().build())
            .apply(WriteBatch.builder().build()); // adopt the trim
    ZIndexStats after = p.indexStats();
    assertTrue(after.indexedChanges() < before / 5, before + " -> " + after);
    assertEquals(
        s.changes(KeyRange.all(), 1_900, 2_000, QueryPath.KEY_RANGE_WALK),
        p.changes(KeyRange.all(), 1_900, 2_000, QueryPath.Z_INDEX));
    assertThrows(VersionCompactedException.class, () -> p.changes(KeyRange.all(), 1_899, 2_000));
    // The snapshot held from before the prune still answers from its own index.
    assertEquals(
        s.changes(KeyRange.all(), 1, 100, QueryPath.KEY_RANGE_WALK),
        s.changes(KeyRange.all(), 1, 100, QueryPath.Z_INDEX));
  }

  @Test
  void sealingAndMergingRunInTheBackground() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Snapshot s = history(ZIndexOptions.defaults().withSegmentEntries(64).withExecutor(pool));
      pool.submit(() -> {}).get(10, TimeUnit.SECONDS); // queued jobs have run
      ZIndexStats stats = s.indexStats();
      assertTrue(stats.segments() > 0, stats.toString());
      assertEquals(
          s.changes(KeyRange.prefix("users/"), 300, 1_700, QueryPath.KEY_RANGE_WALK),
          s.changes(KeyRange.prefix("users/"), 300, 1_700, QueryPath.Z_INDEX));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void withoutTheIndexOrItsJobsQueriesStillAnswer() {
    Snapshot off = history(ZIndexOptions.disabled());
    assertEquals(0, off.indexStats().segments());
    Snapshot stalled =
        history(ZIndexOptions.defaults().withSegmentEntries(64).withExecutor(task -> {}));
    assertTrue(stalled.indexStats().building());
    Snapshot on = history(DIRECT);
    KeyRange range = KeyRange.closed("stock/1", "stock/5");
    List<Change> expected = on.changes(range, 100, 1_900, QueryPath.Z_INDEX);
    assertFalse(expected.isEmpty());
    for (QueryPath path : QueryPath.values()) {
      assertEquals(expected, off.changes(range, 100, 1_900, path), "index off, " + path);
      assertEquals(expected, stalled.changes(range, 100, 1_900, path), "jobs stalled, " + path);
    }
  }

  @Test
  void badBoxesAreRefused() {
    Snapshot s = history(DIRECT).prune(100);
    assertThrows(IllegalArgumentException.class, () -> s.changes(KeyRange.all(), 500, 400));
    assertThrows(
        IllegalArgumentException.class, () -> s.changes(KeyRange.all(), 500, s.version() + 1));
    assertThrows(IllegalArgumentException.class, () -> s.changes(KeyRange.all(), -1, 200));
    VersionCompactedException e =
        assertThrows(VersionCompactedException.class, () -> s.changes(KeyRange.all(), 99, 200));
    assertEquals(100, e.watermark());
    assertThrows(NullPointerException.class, () -> s.changes((KeyRange) null, 100, 200));
    assertThrows(NullPointerException.class, () -> s.changes(KeyRange.all(), 100, 200, null));
    assertThrows(IllegalArgumentException.class, () -> KeyRange.closed("b", "a"));
    assertThrows(
        IllegalArgumentException.class, () -> ZIndexOptions.defaults().withSegmentEntries(0));
    assertThrows(NullPointerException.class, () -> ZIndexOptions.defaults().withExecutor(null));
  }
}
