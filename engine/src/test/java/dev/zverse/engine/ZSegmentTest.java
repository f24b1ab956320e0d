package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import java.nio.charset.StandardCharsets;

/**
 * One segment on its own, against brute force: every box returns exactly the held changes inside
 * it, in version order then key order, whatever the spread of versions (including spans past 32
 * bits, where versions are quantized and the ordering falls back to comparing versions) and of
 * keys (shared 8-byte prefixes, one prefix for all).
 */
class ZSegmentTest {
  private static final Comparator<Change> ORDER =
      Comparator.comparingLong(Change::version).thenComparing(c -> c.key, KeyOrder::compare);

  @Test
  void smallVersionSpans() {
    check(new Random(1), 1, 50);
    check(new Random(2), 30, 2_000);
  }

  @Test
  void oneVersionManyKeys() {
    check(new Random(3), 1, 1);
  }

  @Test
  void versionSpansPastThirtyTwoBits() {
    check(new Random(4), 1L << 33, 200);
    check(new Random(5), Long.MAX_VALUE / 4, 200);
  }

  /** Coarse version cells that hold several versions each: the box's edge cells need exact checks. */
  @Test
  void denseVersionsAndOneFarAway() {
    check(new Random(6), 1L << 36, 150, true);
  }

  private static void check(Random rnd, long span, int versionCount) {
    check(rnd, span, versionCount, false);
  }

  /**
   * Segments of random history with versions drawn from [1, 1 + span) (or, {@code dense}, 1 to
   * {@code versionCount} and {@code span}), queried with random boxes.
   */
  private static void check(Random rnd, long span, int versionCount, boolean dense) {
    for (int round = 0; round < 20; round++) {
      TreeSet<Long> versionSet = new TreeSet<>();
      if (dense) { // versions 1..count, and one at the far end of the span
        for (long v = 1; v <= versionCount; v++) {
          versionSet.add(v);
        }
        versionSet.add(span);
      }
      while (versionSet.size() < Math.min(versionCount, span)) {
        versionSet.add(1 + (long) (rnd.nextDouble() * span));
      }
      List<Change> held = new ArrayList<>();
      for (long v : versionSet) {
        TreeSet<byte[]> keys = new TreeSet<>(KeyOrder::compare);
        int n = 1 + rnd.nextInt(8);
        while (keys.size() < n) {
          keys.add(randomKey(rnd));
        }
        for (byte[] k : keys) {
          held.add(new Change(k, v, rnd.nextInt(5) == 0 ? null : new byte[] {(byte) v}));
        }
      }
      int n = held.size();
      long[] versions = new long[n];
      byte[][] keys = new byte[n][];
      byte[][] values = new byte[n][];
      for (int i = 0; i < n; i++) {
        versions[i] = held.get(i).version();
        keys[i] = held.get(i).key;
        values[i] = held.get(i).value();
      }
      ZSegment seg = ZSegment.build(0, n, versions, keys, values);
      // A merge re-sorts the same changes: it must answer the same.
      ZSegment merged = ZSegment.merge(List.of(seg), 0, 1);
      for (int q = 0; q < 50; q++) {
        byte[] a = randomKey(rnd);
        byte[] b = randomKey(rnd);
        KeyRange range = KeyOrder.compare(a, b) <= 0 ? KeyRange.closed(a, b) : KeyRange.closed(b, a);
        if (q % 10 == 0) {
          range = KeyRange.all();
        }
        long hi = dense && q % 2 == 0 ? versionCount : versionSet.last();
        long x = versionSet.first() + (long) (rnd.nextDouble() * (hi - versionSet.first()));
        long y = versionSet.first() + (long) (rnd.nextDouble() * (hi - versionSet.first()));
        long from = Math.min(x, y);
        long to = q % 7 == 0 ? Long.MAX_VALUE : Math.max(x, y);
        List<Change> expected = new ArrayList<>();
        for (Change c : held) {
          if (c.version() >= from && c.version() <= to && !range.belowStart(c.key) && !range.aboveEnd(c.key)) {
            expected.add(c);
          }
        }
        expected.sort(ORDER);
        List<Change> got = new ArrayList<>();
        seg.query(range, from, to, got);
        assertEquals(expected, got, "span " + span + ", box " + range + " x [" + from + ", " + to + "]");
        got.clear();
        merged.query(range, from, to, got);
        assertEquals(expected, got, "merged, span " + span);
      }
    }
  }

  /** Keys over a few shared 8-byte prefixes, with varied tails and lengths. */
  private static byte[] randomKey(Random rnd) {
    String[] prefixes = {"orders/0", "orders/1", "users/00", "u", ""};
    String p = prefixes[rnd.nextInt(prefixes.length)];
    return (p + rnd.nextInt(100)).getBytes(StandardCharsets.UTF_8);
  }
}
