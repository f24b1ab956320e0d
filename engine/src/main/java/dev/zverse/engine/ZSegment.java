package dev.zverse.engine;

import java.util.Arrays;
import java.util.List;

/**
 * One immutable, Z-sorted run of history: changes (key, version, value or tombstone) sorted by the
 * Morton code of their quantized key prefix and version, held as parallel arrays.
 *
 * <h2>Quantization</h2>
 *
 * A segment maps its keys' 8-byte prefixes and its versions into at most 32 bits each, relative to
 * its own smallest prefix and version, shifted right so that both coordinates have about the same
 * number of bits (see {@link #build}): {@code qx = (prefix - minPrefix) >>> shiftX}. The code of a
 * change is then one {@code long}, {@link MortonKey#interleave}. A
 * query box maps to the quantized box that covers it, so the codes narrow the search and the exact
 * version and full key of each candidate decide. Keys that share their first 8 bytes, or that
 * quantize together, are told apart by that final check.
 *
 * <h2>Search</h2>
 *
 * Binary search to the box's first code, then walk forward; after a few codes outside the box in a
 * row, jump with {@link MortonKey#bigMin} to the next code that can be inside (Tropf and Herzog).
 *
 * <p>Immutable; safe for concurrent readers once published (segments are handed to the writer
 * through a volatile field).
 */
final class ZSegment {
  /** Codes outside the box stepped over one by one before a BIGMIN jump: stepping is cheaper. */
  private static final int STEPS_BEFORE_JUMP = 8;

  /** Smallest and largest version of the changes held. */
  final long minVersion;
  final long maxVersion;
  /** Merge generation: a sealed segment is level 0, a merge of level-L segments is level L + 1. */
  final int level;

  private final long minPrefix;
  private final long maxPrefix;
  private final int shiftX;
  private final int shiftY;
  private final long[] codes;
  private final long[] versions;
  private final byte[][] keys;
  /** Values put, {@code null} for deletes; shared with the version chains, never handed out. */
  private final byte[][] values;

  private ZSegment(
      int level,
      long minPrefix,
      long maxPrefix,
      int shiftX,
      long minVersion,
      long maxVersion,
      int shiftY,
      long[] codes,
      long[] versions,
      byte[][] keys,
      byte[][] values) {
    this.level = level;
    this.minPrefix = minPrefix;
    this.maxPrefix = maxPrefix;
    this.shiftX = shiftX;
    this.minVersion = minVersion;
    this.maxVersion = maxVersion;
    this.shiftY = shiftY;
    this.codes = codes;
    this.versions = versions;
    this.keys = keys;
    this.values = values;
  }

  int size() {
    return codes.length;
  }

  /**
   * A segment of the first {@code n} changes of the arrays, which it may keep or reorder; {@code
   * null} if {@code n} is 0. The changes of any one version must come in key order (the query
   * relies on it, see {@link #emitInOrder}).
   *
   * <p>Both coordinates get the same number of bits, so that the curve splits keys and versions
   * alike and a box that is a small fraction of both is a few runs of the curve. Versions keep
   * every bit they need (up to 32); key prefixes are cut to as many bits as the versions use, or
   * more when the versions alone cannot spread the segment's changes over about 4n cells (a
   * segment of few versions with many keys each). A segment of 1,000,000 changes over 1,000
   * versions has a 12-by-10-bit grid, about four cells per change.
   */
  static ZSegment build(int level, int n, long[] versions, byte[][] keys, byte[][] values) {
    if (n == 0) {
      return null;
    }
    long minP = -1L;
    long maxP = 0;
    long minV = Long.MAX_VALUE;
    long maxV = Long.MIN_VALUE;
    long[] prefixes = new long[n];
    for (int i = 0; i < n; i++) {
      long p = KeyOrder.rawPrefix(keys[i]);
      prefixes[i] = p;
      if (Long.compareUnsigned(p, minP) < 0) {
        minP = p;
      }
      if (Long.compareUnsigned(p, maxP) > 0) {
        maxP = p;
      }
      minV = Math.min(minV, versions[i]);
      maxV = Math.max(maxV, versions[i]);
    }
    int bitsY = Math.min(32, bitsOf(maxV - minV));
    int bitsX = Math.min(bitsOf(maxP - minP), Math.max(bitsY, bitsOf(n) + 2 - bitsY));
    int shiftX = bitsOf(maxP - minP) - Math.min(32, bitsX);
    int shiftY = bitsOf(maxV - minV) - bitsY;
    long[] unsorted = new long[n];
    for (int i = 0; i < n; i++) {
      unsorted[i] =
          MortonKey.interleave((prefixes[i] - minP) >>> shiftX, (versions[i] - minV) >>> shiftY);
    }
    int[] order = sortOrder(unsorted);
    long[] codes = new long[n];
    long[] vs = new long[n];
    byte[][] ks = new byte[n][];
    byte[][] xs = new byte[n][];
    for (int i = 0; i < n; i++) {
      int j = order[i];
      codes[i] = unsorted[j];
      vs[i] = versions[j];
      ks[i] = keys[j];
      xs[i] = values[j];
    }
    return new ZSegment(level, minP, maxP, shiftX, minV, maxV, shiftY, codes, vs, ks, xs);
  }

  /**
   * One segment of the changes of {@code parts} at or above {@code watermark}, at {@code level};
   * {@code null} if none is left.
   */
  static ZSegment merge(List<ZSegment> parts, long watermark, int level) {
    int total = 0;
    for (ZSegment s : parts) {
      total += s.size();
    }
    long[] versions = new long[total];
    byte[][] keys = new byte[total][];
    byte[][] values = new byte[total][];
    int n = 0;
    for (ZSegment s : parts) {
      for (int i = 0; i < s.size(); i++) {
        if (s.versions[i] >= watermark) {
          versions[n] = s.versions[i];
          keys[n] = s.keys[i];
          values[n] = s.values[i];
          n++;
        }
      }
    }
    return build(level, n, versions, keys, values);
  }

  /** Number of held changes at or above {@code watermark}. */
  int countFrom(long watermark) {
    if (minVersion >= watermark) {
      return size();
    }
    int n = 0;
    for (long v : versions) {
      if (v >= watermark) {
        n++;
      }
    }
    return n;
  }

  /**
   * Adds to {@code out}, in version order then key order, every held change with key in {@code range} and version in
   * [{@code from}, {@code to}].
   */
  void query(KeyRange range, long from, long to, List<Change> out) {
    if (to < minVersion || from > maxVersion) {
      return;
    }
    long pLo = range.start == null ? 0 : KeyOrder.rawPrefix(range.start);
    long pHi = range.end == null ? -1L : KeyOrder.rawPrefix(range.end);
    if (Long.compareUnsigned(pHi, minPrefix) < 0 || Long.compareUnsigned(pLo, maxPrefix) > 0) {
      return;
    }
    long qx1 = Long.compareUnsigned(pLo, minPrefix) <= 0 ? 0 : (pLo - minPrefix) >>> shiftX;
    long qx2 = ((Long.compareUnsigned(pHi, maxPrefix) >= 0 ? maxPrefix : pHi) - minPrefix) >>> shiftX;
    long qy1 = (Math.max(from, minVersion) - minVersion) >>> shiftY;
    long qy2 = (Math.min(to, maxVersion) - minVersion) >>> shiftY;
    final long zMin = MortonKey.interleave(qx1, qy1);
    final long zMax = MortonKey.interleave(qx2, qy2);
    final long xMin = zMin & MortonKey.X_BITS;
    final long xMax = zMax & MortonKey.X_BITS;
    final long yMin = zMin & MortonKey.Y_BITS;
    final long yMax = zMax & MortonKey.Y_BITS;
    final long[] codes = this.codes;
    final int n = codes.length;
    long[] hits = new long[16];
    int h = 0;
    int i = lowerBound(codes, 0, n, zMin);
    int misses = 0;
    while (i < n) {
      long c = codes[i];
      if (Long.compareUnsigned(c, zMax) > 0) {
        break;
      }
      // Masked to one dimension's bits, codes compare as that coordinate does.
      long cx = c & MortonKey.X_BITS;
      long cy = c & MortonKey.Y_BITS;
      if (Long.compareUnsigned(cx, xMin) >= 0
          && Long.compareUnsigned(cx, xMax) <= 0
          && Long.compareUnsigned(cy, yMin) >= 0
          && Long.compareUnsigned(cy, yMax) <= 0) {
        misses = 0;
        // A quantized coordinate strictly inside the box's is inside the exact bounds too: only
        // the cells on the box's edges need the exact check, and only the key edges need to
        // read the key's bytes (a cache miss each).
        boolean versionInside =
            (cy != yMin && cy != yMax) || (versions[i] >= from && versions[i] <= to);
        if (versionInside
            && ((cx != xMin && cx != xMax) || (!range.belowStart(keys[i]) && !range.aboveEnd(keys[i])))) {
          if (h == hits.length) {
            hits = Arrays.copyOf(hits, h * 2);
          }
          hits[h++] = i;
        }
        i++;
      } else if (++misses < STEPS_BEFORE_JUMP) {
        i++;
      } else {
        misses = 0;
        long next = MortonKey.bigMin(c, zMin, zMax);
        if (next == 0) {
          break;
        }
        i = gallop(codes, i + 1, n, next);
      }
    }
    emitInOrder(hits, h, out);
  }

  /**
   * Adds the changes at the positions {@code hits[0, h)} to {@code out} in version order, then key
   * order.
   *
   * <p>Within one version, position order is already key order: the codes of one version grow
   * with the quantized prefix, which grows with the key, and changes with equal codes keep their
   * input order (the radix sort is stable), which is key order in a sealed segment (its input is
   * read commit by commit, each commit's keys sorted) and, by the same argument, in a merged one.
   * So sorting by (version, position) is enough: one primitive sort of packed longs, no key
   * compared.
   */
  private void emitInOrder(long[] hits, int h, List<Change> out) {
    if (maxVersion - minVersion < (1L << 32)) {
      for (int k = 0; k < h; k++) {
        int pos = (int) hits[k];
        hits[k] = ((versions[pos] - minVersion) << 31) | pos;
      }
      Arrays.sort(hits, 0, h);
      for (int k = 0; k < h; k++) {
        int pos = (int) (hits[k] & Integer.MAX_VALUE);
        out.add(new Change(keys[pos], versions[pos], values[pos]));
      }
      return;
    }
    // A segment spanning 2^32 versions or more (billions of empty commits): compare the versions.
    // The hits come in position order and the object sort is stable, so positions break ties.
    Integer[] boxed = new Integer[h];
    for (int k = 0; k < h; k++) {
      boxed[k] = (int) hits[k];
    }
    Arrays.sort(boxed, (a, b) -> Long.compare(versions[a], versions[b]));
    for (int p : boxed) {
      out.add(new Change(keys[p], versions[p], values[p]));
    }
  }

  /** Cells of the quantized grid along the keys. */
  double cellsX() {
    return (double) ((maxPrefix - minPrefix) >>> shiftX) + 1;
  }

  /** Cells of the quantized grid along the versions. */
  double cellsY() {
    return (double) ((maxVersion - minVersion) >>> shiftY) + 1;
  }

  /** Estimated number of held changes with version in [from, to], as if versions spread evenly. */
  double estimateIn(long from, long to) {
    if (to < minVersion || from > maxVersion) {
      return 0;
    }
    double span = (double) (maxVersion - minVersion) + 1;
    double overlap = (double) (Math.min(to, maxVersion) - Math.max(from, minVersion)) + 1;
    return size() * (overlap / span);
  }

  /** Bits needed to count to {@code span} (unsigned). */
  private static int bitsOf(long span) {
    return 64 - Long.numberOfLeadingZeros(span);
  }

  /**
   * {@link #lowerBound} for a target that is usually near {@code from}: doubles a step until it
   * passes {@code z}, then searches only the last step. A BIGMIN jump mostly lands a few runs
   * ahead, so this touches O(log distance) codes instead of O(log rest of the segment).
   */
  private static int gallop(long[] codes, int from, int to, long z) {
    int lo = from;
    int step = 1;
    while (lo + step < to && Long.compareUnsigned(codes[lo + step], z) < 0) {
      lo += step;
      step <<= 1;
    }
    return lowerBound(codes, lo, Math.min(to, lo + step + 1), z);
  }

  /** First index in [from, to) whose code is not below {@code z} (unsigned). */
  private static int lowerBound(long[] codes, int from, int to, long z) {
    int lo = from;
    int hi = to;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(codes[mid], z) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The permutation that sorts {@code codes} unsigned: a least-significant-digit radix sort, one
   * byte per pass, skipping the bytes in which every code agrees (the top ones, in a segment whose
   * coordinates need fewer than 32 bits). Linear in the number of codes, and stable.
   */
  static int[] sortOrder(long[] codes) {
    int n = codes.length;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    long[] keys = codes.clone();
    long[] keysTmp = new long[n];
    int[] orderTmp = new int[n];
    int[] count = new int[257];
    for (int shift = 0; shift < 64; shift += 8) {
      Arrays.fill(count, 0);
      for (int i = 0; i < n; i++) {
        count[(int) ((keys[i] >>> shift) & 0xFF) + 1]++;
      }
      if (count[(int) ((keys[0] >>> shift) & 0xFF) + 1] == n) {
        continue; // every code has the same byte here
      }
      for (int b = 0; b < 256; b++) {
        count[b + 1] += count[b];
      }
      for (int i = 0; i < n; i++) {
        int dst = count[(int) ((keys[i] >>> shift) & 0xFF)]++;
        keysTmp[dst] = keys[i];
        orderTmp[dst] = order[i];
      }
      long[] k = keys;
      keys = keysTmp;
      keysTmp = k;
      int[] o = order;
      order = orderTmp;
      orderTmp = o;
    }
    return order;
  }
}
