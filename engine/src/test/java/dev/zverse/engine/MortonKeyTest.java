package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class MortonKeyTest {
  /** The x coordinate of a code: its odd bits gathered. */
  private static long x(long code) {
    return compact(code >>> 1);
  }

  /** The y coordinate of a code: its even bits gathered. */
  private static long y(long code) {
    return compact(code);
  }

  /** Gathers the even bit positions of {@code v} into the low 32 bits, bit by bit. */
  private static long compact(long v) {
    long out = 0;
    for (int i = 0; i < 32; i++) {
      out |= ((v >>> (2 * i)) & 1) << i;
    }
    return out;
  }

  @Property(tries = 2000)
  void decodeInvertsEncode(@ForAll int xs, @ForAll int ys) {
    long x = Integer.toUnsignedLong(xs);
    long y = Integer.toUnsignedLong(ys);
    long code = MortonKey.interleave(x, y);
    assertEquals(x, x(code));
    assertEquals(y, y(code));
  }

  @Test
  void interleavesFromTheTopWithXAboveY() {
    assertEquals(0x8000_0000_0000_0000L, MortonKey.interleave(0x8000_0000L, 0));
    assertEquals(0x4000_0000_0000_0000L, MortonKey.interleave(0, 0x8000_0000L));
    assertEquals(0b10, MortonKey.interleave(1, 0));
    assertEquals(0b01, MortonKey.interleave(0, 1));
    assertEquals(0b1110, MortonKey.interleave(3, 2));
  }

  @Test
  void onlyTheLow32BitsOfACoordinateCount() {
    assertEquals(MortonKey.interleave(5, 9), MortonKey.interleave(5 | (7L << 32), 9 | (-1L << 32)));
  }

  @Property(tries = 2000)
  void codeOrderAgreesWithBothCoordinatesOnTheDiagonal(@ForAll int as, @ForAll int bs) {
    // Where both coordinates move the same way, the code does too.
    long a = Integer.toUnsignedLong(as);
    long b = Integer.toUnsignedLong(bs);
    int c = Long.compareUnsigned(a, b);
    int z = Long.compareUnsigned(MortonKey.interleave(a, a), MortonKey.interleave(b, b));
    assertEquals(Integer.signum(c), Integer.signum(z));
  }

  @Property(tries = 2000)
  void maskedToOneDimensionCodesOrderAsThatCoordinate(
      @ForAll int x1, @ForAll int y1, @ForAll int x2, @ForAll int y2) {
    // ZSegment's box test relies on this.
    long a = MortonKey.interleave(x1, y1);
    long b = MortonKey.interleave(x2, y2);
    assertEquals(
        Integer.signum(Integer.compareUnsigned(x1, x2)),
        Integer.signum(Long.compareUnsigned(a & MortonKey.X_BITS, b & MortonKey.X_BITS)));
    assertEquals(
        Integer.signum(Integer.compareUnsigned(y1, y2)),
        Integer.signum(Long.compareUnsigned(a & MortonKey.Y_BITS, b & MortonKey.Y_BITS)));
  }

  @Test
  void bigMinAgreesWithBruteForceOnSmallDomainsAndTheTopOfTheRange() {
    Random rnd = new Random(11);
    for (int shift : new int[] {0, 26}) { // 26: the 6-bit grid fills the top of the coordinates
      List<long[]> pts = new ArrayList<>();
      for (long x = 0; x < 64; x++) {
        for (long y = 0; y < 64; y++) {
          long px = x << shift;
          long py = y << shift;
          pts.add(new long[] {MortonKey.interleave(px, py), px, py});
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
        long min = MortonKey.interleave(x1, y1);
        long max = MortonKey.interleave(x2, y2);
        for (int i = 0; i < pts.size(); i++) {
          long[] p = pts.get(i);
          boolean inside = p[1] >= x1 && p[1] <= x2 && p[2] >= y1 && p[2] <= y2;
          if (inside
              || Long.compareUnsigned(p[0], min) < 0
              || Long.compareUnsigned(p[0], max) > 0) {
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
          long got = MortonKey.bigMin(p[0], min, max);
          if (shift == 0) {
            assertEquals(expected, got, "BIGMIN after " + p[0]);
          } else if (expected != 0) {
            // Between grid points the box is continuous: the answer is in it, after z, not after
            // the next grid point.
            assertTrue(
                Long.compareUnsigned(got, p[0]) > 0 && Long.compareUnsigned(got, expected) <= 0);
            long gx = x(got);
            long gy = y(got);
            assertTrue(gx >= x1 && gx <= x2 && gy >= y1 && gy <= y2, "BIGMIN in box");
          }
        }
      }
    }
  }

  @Test
  void jumpsFromOutsideABoxLandOnItsNearestPoint() {
    // Box x in [1, 2], y in [0, 1]: codes 2, 3 and 8, 9; z = 4 is the point (0, 2) between them.
    long min = MortonKey.interleave(1, 0);
    long max = MortonKey.interleave(2, 1);
    assertEquals(2, min);
    assertEquals(9, max);
    assertEquals(8, MortonKey.bigMin(4, min, max));
  }
}
