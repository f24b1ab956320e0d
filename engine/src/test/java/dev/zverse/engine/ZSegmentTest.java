package dev.zverse.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * One segment on its own, against brute force: every box returns exactly the held changes inside
 * it, in version order then key order, whatever the spread of versions (including spans past 32
 * bits, where versions are quantized and the ordering falls back to comparing versions) and of keys
 * (shared 8-byte prefixes, one prefix for all).
 */
class ZSegmentTest {
  private static final Comparator<Change> ORDER =
      Comparator.comparingLong(Change::version).thenComparing(c -> c.key, KeyOrder::compare);

  @Test
  void smallVersionSpans() {
    check(new Random(1), 1, 50);
    check(new Random(2), 30, 2_000);
  }

  /**
   * Boxes that span far more versions than the changes they find (a segment's changes are placed by
   * sorting then, not by counting their versions) and boxes that span few (counted).
   */
  @Test
  void versionSpansWideAndNarrowAgainstTheChangesFound() {
    check(new Random(8), 100_000, 300);
    check(new Random(9), 5_000, 1_000);
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

  /**
   * Coarse version cells that hold several versions each: the box's edge cells need exact checks.
   */
  @Test
  void denseVersionsAndOneFarAway() {
    check(new Random(6), 1L << 36, 150, true);
  }

  /**
   * Keys that share a long textual prefix still spread over the grid: quantized by rank, not by
   * their first 8 bytes (which would put every one of them in one column of cells).
   */
  @Test
  void keysWithALongSharedPrefixSpreadOverTheGrid() {
    int n = 4_096;
    long[] versions = new long[n];
    byte[][] keys = new byte[n][];
    byte[][] values = new byte[n][];
    for (int i = 0; i < n; i++) {
      versions[i] = 1 + i / 64;
      keys[i] = String.format("orders/2026/11/%06d", (i % 64) * 64 + i / 64).getBytes(UTF_8);
      values[i] = new byte[] {(byte) i};
    }
    // One version's keys in key order, as the index hands them in.
    for (int v = 0; v < n / 64; v++) {
      java.util.Arrays.sort(keys, v * 64, v * 64 + 64, KeyOrder::compare);
    }
    ZSegment seg = ZSegment.build(0, n, versions, keys, values);
    assertTrue(seg.cellsX() >= 64, "cells along the keys: " + seg.cellsX());
  }

  /**
   * Several segments of disjoint version windows merged above a watermark answer exactly the
   * changes at or above it; the merge rebuilds the key ranks from the parts' sorted key lists.
   */
  @Test
  void mergedPartsAnswerTheChangesAboveTheWatermark() {
    Random rnd = new Random(7);
    for (int round = 0; round < 30; round++) {
      List<Change> held = new ArrayList<>();
      List<ZSegment> parts = new ArrayList<>();
      long v = 1;
      for (int p = 0, count = 1 + rnd.nextInt(4); p < count; p++) {
        List<Change> part = new ArrayList<>();
        for (int k = 0, versions = 1 + rnd.nextInt(30); k < versions; k++, v++) {
          TreeSet<byte[]> keys = new TreeSet<>(KeyOrder::compare);
          for (int j = 0, size = 1 + rnd.nextInt(6); j < size; j++) {
            keys.add(randomKey(rnd));
          }
          for (byte[] key : keys) {
            part.add(new Change(key, v, rnd.nextInt(5) == 0 ? null : new byte[] {(byte) v}));
          }
        }
        held.addAll(part);
        parts.add(segmentOf(part));
      }
      long watermark = 1 + (long) (rnd.nextDouble() * v);
      ZSegment merged = ZSegment.merge(parts, watermark, 1);
      List<Change> kept = held.stream().filter(c -> c.version() >= watermark).toList();
      if (kept.isEmpty()) {
        assertEquals(null, merged);
        continue;
      }
      assertEquals(kept.size(), merged.size());
      for (int q = 0; q < 40; q++) {
        KeyRange range = randomRange(rnd);
        long from = 1 + (long) (rnd.nextDouble() * v);
        long to = from + (long) (rnd.nextDouble() * (v - from + 1));
        List<Change> expected = new ArrayList<>();
        for (Change c : kept) {
          if (c.version() >= from
              && c.version() <= to
              && !range.belowStart(c.key)
              && !range.aboveEnd(c.key)) {
            expected.add(c);
          }
        }
        expected.sort(ORDER);
        List<Change> got = new ArrayList<>();
        merged.query(range, from, to, got);
        assertEquals(expected, got, "box " + range + " x [" + from + ", " + to + "]");
      }
    }
  }

  private static ZSegment segmentOf(List<Change> changes) {
    int n = changes.size();
    long[] versions = new long[n];
    byte[][] keys = new byte[n][];
    byte[][] values = new byte[n][];
    for (int i = 0; i < n; i++) {
      versions[i] = changes.get(i).version();
      keys[i] = changes.get(i).key;
      values[i] = changes.get(i).value();
    }
    return ZSegment.build(0, n, versions, keys, values);
  }

  /** A closed, half-open, open-ended or prefix range between random keys. */
  private static KeyRange randomRange(Random rnd) {
    byte[] a = randomKey(rnd);
    byte[] b = randomKey(rnd);
    if (KeyOrder.compare(a, b) > 0) {
      byte[] t = a;
      a = b;
      b = t;
    }
    switch (rnd.nextInt(5)) {
      case 0:
        return KeyRange.closed(a, b);
      case 1:
        return KeyRange.closedOpen(a, b);
      case 2:
        return rnd.nextBoolean() ? KeyRange.atLeast(a) : KeyRange.open(a, b);
      case 3:
        return KeyRange.prefix("orders/");
      default:
        return KeyRange.all();
    }
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
        KeyRange range =
            KeyOrder.compare(a, b) <= 0 ? KeyRange.closed(a, b) : KeyRange.closed(b, a);
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
          if (c.version() >= from
              && c.version() <= to
              && !range.belowStart(c.key)
              && !range.aboveEnd(c.key)) {
            expected.add(c);
          }
        }
        expected.sort(ORDER);
        List<Change> got = new ArrayList<>();
        seg.query(range, from, to, got);
        assertEquals(
            expected, got, "span " + span + ", box " + range + " x [" + from + ", " + to + "]");
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
