package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class MortonKeyTest {
  @Property(tries = 2000)
  void decodeInvertsEncode(@ForAll long x, @ForAll long y) {
    long hi = MortonKey.hi(x, y);
    long lo = MortonKey.lo(x, y);
    assertEquals(x, MortonKey.x(hi, lo));
    assertEquals(y, MortonKey.y(hi, lo));
  }

  @Test
  void interleavesFromTheTopWithXAboveY() {
    assertEquals(0x8000_0000_0000_0000L, MortonKey.hi(0x8000_0000_0000_0000L, 0));
    assertEquals(0x4000_0000_0000_0000L, MortonKey.hi(0, 0x8000_0000_0000_0000L));
    assertEquals(0b10, MortonKey.lo(1, 0));
    assertEquals(0b01, MortonKey.lo(0, 1));
    assertEquals(0b1110, MortonKey.lo(3, 2));
  }

  @Property(tries = 2000)
  void codeOrderAgreesWithBothCoordinatesOnTheDiagonal(@ForAll long a, @ForAll long b) {
    // Where both coordinates move the same way, the code does too.
    int c = Long.compareUnsigned(a, b);
    int z = MortonKey.compare(MortonKey.hi(a, a), MortonKey.lo(a, a), MortonKey.hi(b, b), MortonKey.lo(b, b));
    assertEquals(Integer.signum(c), Integer.signum(z));
  }

  /** Every point of a 6-bit x 6-bit domain placed at {@code shift}, sorted by code. */
  private static long[][] domain(int shift) {
    List<long[]> pts = new ArrayList<>();
    for (long x = 0; x < 64; x++) {
      for (long y = 0; y < 64; y++) {
        long px = x << shift;
        long py = y << shift;
        pts.add(new long[] {MortonKey.hi(px, py), MortonKey.lo(px, py), px, py});
      }
    }
    pts.sort((p, q) -> MortonKey.compare(p[0], p[1], q[0], q[1]));
    return pts.toArray(new long[0][]);
  }

  private static void checkBox(long[][] pts, boolean exact, long x1, long x2, long y1, long y2) {
    long minHi = MortonKey.hi(x1, y1);
    long minLo = MortonKey.lo(x1, y1);
    long maxHi = MortonKey.hi(x2, y2);
    long maxLo = MortonKey.lo(x2, y2);
    long[] out = new long[2];
    for (int i = 0; i < pts.length; i++) {
      long[] p = pts[i];
      boolean inside = MortonKey.inBox(p[0], p[1], x1, y1, x2, y2);
      assertEquals(
          Long.compareUnsigned(p[2], x1) >= 0 && Long.compareUnsigned(p[2], x2) <= 0
              && Long.compareUnsigned(p[3], y1) >= 0 && Long.compareUnsigned(p[3], y2) <= 0,
          inside);
      if (inside
          || MortonKey.compare(p[0], p[1], minHi, minLo) < 0
          || MortonKey.compare(p[0], p[1], maxHi, maxLo) > 0) {
        continue;
      }
      long[] next = null;
      for (int j = i + 1; j < pts.length && next == null; j++) {
        if (MortonKey.inBox(pts[j][0], pts[j][1], x1, y1, x2, y2)) {
          next = pts[j];
        }
      }
      long[] prev = null;
      for (int j = i - 1; j >= 0 && prev == null; j--) {
        if (MortonKey.inBox(pts[j][0], pts[j][1], x1, y1, x2, y2)) {
          prev = pts[j];
        }
      }
      boolean hasNext = MortonKey.bigMin(p[0], p[1], minHi, minLo, maxHi, maxLo, out);
      assertEquals(next != null, hasNext);
      if (next != null) {
        if (exact) {
          assertArrayEquals(new long[] {next[0], next[1]}, out, "BIGMIN");
        } else {
          // The box is continuous below the grid: the answer is in it, after z, not after next.
          assertTrue(MortonKey.inBox(out[0], out[1], x1, y1, x2, y2), "BIGMIN in box");
          assertTrue(MortonKey.compare(out[0], out[1], p[0], p[1]) > 0, "BIGMIN after z");
          assertTrue(MortonKey.compare(out[0], out[1], next[0], next[1]) <= 0, "BIGMIN not after next");
        }
      }
      boolean hasPrev = MortonKey.litMax(p[0], p[1], minHi, minLo, maxHi, maxLo, out);
      assertEquals(prev != null, hasPrev);
      if (prev != null) {
        if (exact) {
          assertArrayEquals(new long[] {prev[0], prev[1]}, out, "LITMAX");
        } else {
          assertTrue(MortonKey.inBox(out[0], out[1], x1, y1, x2, y2), "LITMAX in box");
          assertTrue(MortonKey.compare(out[0], out[1], p[0], p[1]) < 0, "LITMAX before z");
          assertTrue(MortonKey.compare(out[0], out[1], prev[0], prev[1]) >= 0, "LITMAX not before prev");
        }
      }
    }
  }

  @Test
  void bigMinAndLitMaxAgreeWithBruteForceOnSmallDomains() {
    Random rnd = new Random(7);
    for (int shift : new int[] {0, 29, 58}) {
      long[][] pts = domain(shift);
      for (int box = 0; box < 60; box++) {
        long xa = rnd.nextInt(64);
        long xb = rnd.nextInt(64);
        long ya = rnd.nextInt(64);
        long yb = rnd.nextInt(64);
        checkBox(
            pts,
            shift == 0,
            Math.min(xa, xb) << shift,
            Math.max(xa, xb) << shift,
            Math.min(ya, yb) << shift,
            Math.max(ya, yb) << shift);
      }
    }
  }

  @Test
  void bigMin32AgreesWithBruteForceOnSmallDomainsAndTheTopOfTheRange() {
    Random rnd = new Random(11);
    for (int shift : new int[] {0, 26}) { // 26: the 6-bit grid fills the top of the 32-bit coordinates
      List<long[]> pts = new ArrayList<>();
      for (long x = 0; x < 64; x++) {
        for (long y = 0; y < 64; y++) {
          pts.add(new long[] {MortonKey.interleave32(x << shift, y << shift), x << shift, y << shift});
        }
      }
      pts.sort((p, q) -> Long.compareUnsigned(p[0], q[0]));
      for (int box = 0; box < 200; box++) {
        long xa = rnd.nextInt(64) << shift;
        long xb = rnd.nextInt(64) << shift;
        long ya = rnd.nextInt(64) << shift;
        long yb = rnd.nextInt(64) << shift;
        long x1 = Math.min(xa, xb);
        long x2 = Math.max(xa, xb);
        long y1 = Math.min(ya, yb);
        long y2 = Math.max(ya, yb);
        long min = MortonKey.interleave32(x1, y1);
        long max = MortonKey.interleave32(x2, y2);
        for (int i = 0; i < pts.size(); i++) {
          long[] p = pts.get(i);
          boolean inside = p[1] >= x1 && p[1] <= x2 && p[2] >= y1 && p[2] <= y2;
          if (inside || Long.compareUnsigned(p[0], min) < 0 || Long.compareUnsigned(p[0], max) > 0) {
            continue;
          }
          long expected = 0;
          for (int j = i + 1; j < pts.size(); j++) {
            long[] q = pts.get(j);
            if (q[1] >= x1 && q[1] <= x2 && q[2] >= y1 && q[2] <= y2) {
              expected = q[0];
              break;
            }
          }
          long got = MortonKey.bigMin32(p[0], min, max);
          if (shift == 0) {
            assertEquals(expected, got, "BIGMIN after " + p[0]);
          } else if (expected != 0) {
            // Between grid points the box is continuous: the answer is in it, after z, not after next.
            assertTrue(Long.compareUnsigned(got, p[0]) > 0 && Long.compareUnsigned(got, expected) <= 0);
            long gx = MortonKey.compact(got >>> 1);
            long gy = MortonKey.compact(got);
            assertTrue(gx >= x1 && gx <= x2 && gy >= y1 && gy <= y2, "BIGMIN in box");
          }
        }
      }
    }
  }

  @Test
  void jumpsFromOutsideABoxLandOnItsNearestPoints() {
    long[] out = new long[2];
    // Box x in [1, 2], y in [0, 1]: codes 2, 3 and 8, 9; z = 4 is the point (0, 2) between them.
    long minLo = MortonKey.lo(1, 0);
    long maxLo = MortonKey.lo(2, 1);
    assertEquals(2, minLo);
    assertEquals(9, maxLo);
    assertTrue(MortonKey.bigMin(0, 4, 0, minLo, 0, maxLo, out));
    assertEquals(8, out[1]);
    assertTrue(MortonKey.litMax(0, 4, 0, minLo, 0, maxLo, out));
    assertEquals(3, out[1]);
  }
}
