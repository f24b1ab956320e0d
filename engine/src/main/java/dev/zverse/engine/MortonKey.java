package dev.zverse.engine;

/**
 * The Z-order (Morton) curve over two unsigned 64-bit coordinates, {@code x} (a key's 8-byte
 * prefix) and {@code y} (a version), as a 128-bit code held in two {@code long}s, {@code hi} and
 * {@code lo}, compared unsigned.
 *
 * <p>The code interleaves the bits from the top: code bit {@code 2i + 1} is bit {@code i} of
 * {@code x} and code bit {@code 2i} is bit {@code i} of {@code y}. Sorting by the code keeps points
 * that are near in both coordinates near each other, so a box query (x in [x1, x2], y in [y1, y2])
 * reads a few runs of the sorted codes and jumps over the rest with {@link #bigMin} (the next code
 * inside the box after one outside it) and {@link #litMax} (the previous one), after Tropf and
 * Herzog, "Multidimensional Range Search in Dynamically Balanced Trees" (1981).
 *
 * <p>Stateless; safe for concurrent use.
 */
final class MortonKey {
  /** Code bits that come from {@code x}: the odd positions. */
  private static final long X_BITS = 0xAAAA_AAAA_AAAA_AAAAL;
  /** Code bits that come from {@code y}: the even positions. */
  private static final long Y_BITS = 0x5555_5555_5555_5555L;

  private MortonKey() {}

  /** High 64 bits of the code of ({@code x}, {@code y}). */
  static long hi(long x, long y) {
    return (spread(x >>> 32) << 1) | spread(y >>> 32);
  }

  /** Low 64 bits of the code of ({@code x}, {@code y}). */
  static long lo(long x, long y) {
    return (spread(x & 0xFFFF_FFFFL) << 1) | spread(y & 0xFFFF_FFFFL);
  }

  /** The {@code x} coordinate of a code. */
  static long x(long hi, long lo) {
    return (compact(hi >>> 1) << 32) | compact(lo >>> 1);
  }

  /** The {@code y} coordinate of a code. */
  static long y(long hi, long lo) {
    return (compact(hi) << 32) | compact(lo);
  }

  /** Unsigned comparison of two codes. */
  static int compare(long hi1, long lo1, long hi2, long lo2) {
    int c = Long.compareUnsigned(hi1, hi2);
    return c != 0 ? c : Long.compareUnsigned(lo1, lo2);
  }

  /** Spreads the low 32 bits of {@code v} to the even bit positions of a long. */
  static long spread(long v) {
    v &= 0xFFFF_FFFFL;
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFFL;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FFL;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0FL;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333L;
    v = (v | (v << 1)) & 0x5555_5555_5555_5555L;
    return v;
  }

  /** Gathers the even bit positions of {@code v} into the low 32 bits. */
  static long compact(long v) {
    v &= 0x5555_5555_5555_5555L;
    v = (v | (v >>> 1)) & 0x3333_3333_3333_3333L;
    v = (v | (v >>> 2)) & 0x0F0F_0F0F_0F0F_0F0FL;
    v = (v | (v >>> 4)) & 0x00FF_00FF_00FF_00FFL;
    v = (v | (v >>> 8)) & 0x0000_FFFF_0000_FFFFL;
    v = (v | (v >>> 16)) & 0x0000_0000_FFFF_FFFFL;
    return v;
  }

  /** Whether the point of the code lies in the box [{@code minX}, {@code maxX}] x [{@code minY}, {@code maxY}]. */
  static boolean inBox(long hi, long lo, long minX, long minY, long maxX, long maxY) {
    long x = x(hi, lo);
    long y = y(hi, lo);
    return Long.compareUnsigned(x, minX) >= 0
        && Long.compareUnsigned(x, maxX) <= 0
        && Long.compareUnsigned(y, minY) >= 0
        && Long.compareUnsigned(y, maxY) <= 0;
  }

  /**
   * BIGMIN: the smallest code inside the box [{@code min}, {@code max}] that is greater than
   * {@code z}, written to {@code out[0..1]} (hi, lo). {@code z} must lie between the corners' codes
   * and outside the box.
   *
   * @return false if no code of the box is greater than {@code z}
   */
  static boolean bigMin(long zHi, long zLo, long minHi, long minLo, long maxHi, long maxLo, long[] out) {
    boolean found = false;
    for (int bit = 127; bit >= 0; bit--) {
      int zb = bitAt(zHi, zLo, bit);
      int minb = bitAt(minHi, minLo, bit);
      int maxb = bitAt(maxHi, maxLo, bit);
      int key = (zb << 2) | (minb << 1) | maxb;
      switch (key) {
        case 0b000:
        case 0b111:
          break;
        case 0b001: // z 0, min 0, max 1
          out[0] = load1(minHi, bit, true);
          out[1] = load1(minLo, bit, false);
          found = true;
          long nmHi = load0(maxHi, bit, true);
          long nmLo = load0(maxLo, bit, false);
          maxHi = nmHi;
          maxLo = nmLo;
          break;
        case 0b011: // z 0, min 1, max 1: min itself is next
          out[0] = minHi;
          out[1] = minLo;
          return true;
        case 0b100: // z 1, min 0, max 0: everything of the box left of z
          return found;
        case 0b101: // z 1, min 0, max 1
          long lmHi = load1(minHi, bit, true);
          long lmLo = load1(minLo, bit, false);
          minHi = lmHi;
          minLo = lmLo;
          break;
        default:
          throw new AssertionError("min above max in one dimension at bit " + bit);
      }
    }
    return found;
  }

  /**
   * LITMAX: the largest code inside the box [{@code min}, {@code max}] that is less than {@code z},
   * written to {@code out[0..1]}; the mirror of {@link #bigMin}.
   *
   * @return false if no code of the box is less than {@code z}
   */
  static boolean litMax(long zHi, long zLo, long minHi, long minLo, long maxHi, long maxLo, long[] out) {
    boolean found = false;
    for (int bit = 127; bit >= 0; bit--) {
      int zb = bitAt(zHi, zLo, bit);
      int minb = bitAt(minHi, minLo, bit);
      int maxb = bitAt(maxHi, maxLo, bit);
      int key = (zb << 2) | (minb << 1) | maxb;
      switch (key) {
        case 0b000:
        case 0b111:
          break;
        case 0b001: // z 0, min 0, max 1
          long nmHi = load0(maxHi, bit, true);
          long nmLo = load0(maxLo, bit, false);
          maxHi = nmHi;
          maxLo = nmLo;
          break;
        case 0b011: // z 0, min 1, max 1: everything of the box right of z
          return found;
        case 0b100: // z 1, min 0, max 0: max itself is previous
          out[0] = maxHi;
          out[1] = maxLo;
          return true;
        case 0b101: // z 1, min 0, max 1
          out[0] = load0(maxHi, bit, true);
          out[1] = load0(maxLo, bit, false);
          found = true;
          long lmHi = load1(minHi, bit, true);
          long lmLo = load1(minLo, bit, false);
          minHi = lmHi;
          minLo = lmLo;
          break;
        default:
          throw new AssertionError("min above max in one dimension at bit " + bit);
      }
    }
    return found;
  }

  /**
   * The 64-bit code of two 32-bit coordinates (the low halves of {@code x} and {@code y}): {@link
   * #lo}, which is all of the code when both fit in 32 bits. The Z-index's segments quantize their
   * keys and versions to 32 bits each and use these short codes.
   */
  static long interleave32(long x, long y) {
    return lo(x, y);
  }

  /**
   * BIGMIN over 64-bit codes of 32-bit coordinates, without allocation: the smallest code inside the
   * box with corner codes {@code min} and {@code max} that is greater than {@code z}, where {@code z}
   * lies outside the box and between the corners.
   *
   * @return that code, or 0 if there is none (0 is never an answer: it is not greater than any code)
   */
  static long bigMin32(long z, long min, long max) {
    long bigMin = 0;
    for (int bit = 63; bit >= 0; bit--) {
      long self = 1L << bit;
      long lower = ((bit & 1) == 1 ? X_BITS : Y_BITS) & (self - 1);
      int key = ((z & self) != 0 ? 4 : 0) | ((min & self) != 0 ? 2 : 0) | ((max & self) != 0 ? 1 : 0);
      switch (key) {
        case 0b000:
        case 0b111:
          break;
        case 0b001: // z 0, min 0, max 1: remember min's upper half, go on in the lower half
          bigMin = (min | self) & ~lower;
          max = (max & ~self) | lower;
          break;
        case 0b011: // z 0, min 1, max 1: min itself is next
          return min;
        case 0b100: // z 1, min 0, max 0: the box lies left of z from here
          return bigMin;
        case 0b101: // z 1, min 0, max 1: only the upper half can follow z
          min = (min | self) & ~lower;
          break;
        default:
          throw new AssertionError("min above max in one dimension at bit " + bit);
      }
    }
    return bigMin;
  }

  private static int bitAt(long hi, long lo, int bit) {
    return (int) ((bit >= 64 ? hi >>> (bit - 64) : lo >>> bit) & 1);
  }

  /**
   * One half of the code with the pattern 1000... written into the dimension of {@code bit}: that
   * bit set, the lower bits of the same dimension cleared, other bits kept.
   *
   * @param half {@code hi} or {@code lo} of a code
   * @param isHi whether {@code half} is the high half
   */
  private static long load1(long half, int bit, boolean isHi) {
    long[] m = masks(bit, isHi);
    return (half | m[0]) & ~m[1];
  }

  /** Like {@link #load1} with the pattern 0111...: that bit cleared, lower bits of it set. */
  private static long load0(long half, int bit, boolean isHi) {
    long[] m = masks(bit, isHi);
    return (half & ~m[0]) | m[1];
  }

  /** {the bit itself, the lower bits of its dimension}, restricted to one half of the code. */
  private static long[] masks(int bit, boolean isHi) {
    long dim = (bit & 1) == 1 ? X_BITS : Y_BITS;
    long self;
    long lower;
    if (isHi) {
      if (bit >= 64) {
        self = 1L << (bit - 64);
        lower = dim & (self - 1);
      } else {
        self = 0;
        lower = 0;
      }
    } else {
      if (bit >= 64) {
        self = 0;
        lower = dim;
      } else {
        self = 1L << bit;
        lower = dim & (self - 1);
      }
    }
    return new long[] {self, lower};
  }
}
