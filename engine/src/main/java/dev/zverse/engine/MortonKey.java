package dev.zverse.engine;

/**
 * The Z-order (Morton) curve over two unsigned 32-bit coordinates, {@code x} (a key's quantized
 * rank in its segment) and {@code y} (a quantized version), as one 64-bit code compared unsigned.
 *
 * <p>The code interleaves the bits from the top: code bit {@code 2i + 1} is bit {@code i} of {@code
 * x} and code bit {@code 2i} is bit {@code i} of {@code y}. Sorting by the code keeps points that
 * are near in both coordinates near each other, so a box query (x in [x1, x2], y in [y1, y2]) reads
 * a few runs of the sorted codes and jumps over the rest with {@link #bigMin} (the next code inside
 * the box after one outside it), after Tropf and Herzog, "Multidimensional Range Search in
 * Dynamically Balanced Trees" (1981).
 *
 * <p>Why 32 bits a coordinate: a {@link ZSegment} quantizes its keys and versions, relative to its
 * own smallest, to at most 32 bits each, so that a code is one {@code long} and a segment's codes
 * sort and search as a plain {@code long[]}; the exact key and version of a candidate decide.
 *
 * <p>Stateless; safe for concurrent use.
 */
final class MortonKey {
  /** Code bits that come from {@code x}: the odd positions. Masked to them, codes order as x. */
  static final long X_BITS = 0xAAAA_AAAA_AAAA_AAAAL;

  /** Code bits that come from {@code y}: the even positions. Masked to them, codes order as y. */
  static final long Y_BITS = 0x5555_5555_5555_5555L;

  private MortonKey() {}

  /**
   * The code of ({@code x}, {@code y}).
   *
   * @param x the first coordinate; only its low 32 bits count
   * @param y the second coordinate; only its low 32 bits count
   */
  static long interleave(long x, long y) {
    return (spread(x) << 1) | spread(y);
  }

  /**
   * BIGMIN, without allocation: the smallest code inside the box with corner codes {@code min} and
   * {@code max} that is greater than {@code z}, where {@code z} lies outside the box and between
   * the corners.
   *
   * @return that code, or 0 if there is none (0 is never an answer: it is not greater than any
   *     code)
   */
  static long bigMin(long z, long min, long max) {
    long bigMin = 0;
    for (int bit = 63; bit >= 0; bit--) {
      long self = 1L << bit;
      long lower = ((bit & 1) == 1 ? X_BITS : Y_BITS) & (self - 1);
      int key =
          ((z & self) != 0 ? 4 : 0) | ((min & self) != 0 ? 2 : 0) | ((max & self) != 0 ? 1 : 0);
      switch (key) {
        case 0b000, 0b111 -> {
          // z, min and max agree at this bit: nothing to decide yet
        }
        case 0b001 -> {
          // z 0, min 0, max 1: remember min's upper half, go on in the lower half
          bigMin = (min | self) & ~lower;
          max = (max & ~self) | lower;
        }
        case 0b011 -> {
          return min; // z 0, min 1, max 1: min itself is next
        }
        case 0b100 -> {
          return bigMin; // z 1, min 0, max 0: the box lies left of z from here
        }
        case 0b101 -> {
          // z 1, min 0, max 1: only the upper half can follow z
          min = (min | self) & ~lower;
        }
        default -> throw new AssertionError("min above max in one dimension at bit " + bit);
      }
    }
    return bigMin;
  }

  /** Spreads the low 32 bits of {@code v} to the even bit positions of a long. */
  private static long spread(long v) {
    v &= 0xFFFF_FFFFL;
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFFL;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FFL;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0FL;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333L;
    v = (v | (v << 1)) & 0x5555_5555_5555_5555L;
    return v;
  }
}
