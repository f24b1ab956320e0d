package dev.zverse.engine;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One immutable, Z-sorted run of history: changes (key, version, value or tombstone) sorted by the
 * Morton code of their quantized key rank and version, held as parallel arrays.
 *
 * <h2>Quantization</h2>
 *
 * A segment keeps its distinct keys once, sorted ({@code ranked}), and places each change by the
 * rank of its key among them and by its version relative to the segment's smallest, both shifted
 * right so that the two coordinates have about the same number of bits (see {@link #build}): {@code
 * qx = rank >>> shiftX}. The code of a change is then one {@code long}, {@link
 * MortonKey#interleave}. Ranks spread any key set evenly over the grid, whatever its bytes: keys
 * that share a long textual prefix ({@code orders/2026/11/...}) fall in as many cells as any other
 * keys, where a grid over the keys' first 8 bytes would put them all in one. A query's key range
 * maps to a range of ranks by two binary searches in {@code ranked}, and its versions to a range of
 * quantized versions; the codes narrow the search, and on the box's edge cells the exact rank and
 * version of each candidate decide.
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

  /**
   * A query's changes are placed by counting their versions when the box spans at most this many
   * versions per change found, plus {@link #COUNTING_SORT_MIN_SPAN}: the count is one pass over the
   * span, so it stays within a small multiple of the changes' own cost.
   */
  private static final int COUNTING_SORT_SPAN_PER_HIT = 4;

  /** See {@link #COUNTING_SORT_SPAN_PER_HIT}. */
  private static final int COUNTING_SORT_MIN_SPAN = 256;

  /** Smallest and largest version of the changes held. */
  final long minVersion;

  final long maxVersion;

  /** Merge generation: a sealed segment is level 0, a merge of level-L segments is level L + 1. */
  final int level;

  /** The distinct keys of the held changes, in key order; a change's rank indexes it. */
  private final byte[][] ranked;

  private final int shiftX;
  private final int shiftY;
  private final long[] codes;
  private final long[] versions;

  /** Each change's key, as its index in {@link #ranked}. */
  private final int[] ranks;

  /** Values put, {@code null} for deletes; shared with the version chains, never handed out. */
  private final byte[][] values;

  private ZSegment(
      int level,
      byte[][] ranked,
      int shiftX,
      long minVersion,
      long maxVersion,
      int shiftY,
      long[] codes,
      long[] versions,
      int[] ranks,
      byte[][] values) {
    this.level = level;
    this.ranked = ranked;
    this.shiftX = shiftX;
    this.minVersion = minVersion;
    this.maxVersion = maxVersion;
    this.shiftY = shiftY;
    this.codes = codes;
    this.versions = versions;
    this.ranks = ranks;
    this.values = values;
  }

  int size() {
    return codes.length;
  }

  /**
   * A segment of the first {@code n} changes of the arrays; {@code null} if {@code n} is 0. The
   * changes of any one version must come in key order (the query relies on it, see {@link
   * #emitInOrder}).
   */
  static @Nullable ZSegment build(
      int level, int n, long[] versions, byte[][] keys, byte[][] values) {
    if (n == 0) {
      return null;
    }
    int[] order = KeyOrder.sortedOrder(n == keys.length ? keys : Arrays.copyOf(keys, n));
    int[] ranks = new int[n];
    byte[][] distinct = new byte[n][];
    int d = 0;
    for (int i = 0; i < n; i++) {
      byte[] key = keys[order[i]];
      if (d == 0 || !Arrays.equals(distinct[d - 1], key)) {
        distinct[d++] = key;
      }
      ranks[order[i]] = d - 1;
    }
    return sorted(level, n, Arrays.copyOf(distinct, d), ranks, versions, values);
  }

  /**
   * One segment of the changes of {@code parts} at or above {@code watermark}, at {@code level};
   * {@code null} if none is left. No key is sorted or searched for: the parts' key lists are
   * already sorted, so their union is a merge (one part at a time, so O(parts x keys); a merge
   * takes a few parts), and each change's new rank is looked up, not searched for.
   */
  static @Nullable ZSegment merge(List<ZSegment> parts, long watermark, int level) {
    int total = 0;
    for (ZSegment s : parts) {
      total += s.size();
    }
    // The union of the parts' keys, merged two lists at a time; remap[p][r] is the union rank of
    // part p's rank r.
    byte[][] union = new byte[0][];
    int[][] remap = new int[parts.size()][];
    for (int p = 0; p < parts.size(); p++) {
      byte[][] keys = parts.get(p).ranked;
      byte[][] merged = new byte[union.length + keys.length][];
      int[] fromUnion = new int[union.length];
      int[] fromPart = new int[keys.length];
      int a = 0;
      int b = 0;
      int m = 0;
      while (a < union.length || b < keys.length) {
        int c = a == union.length ? 1 : b == keys.length ? -1 : KeyOrder.compare(union[a], keys[b]);
        if (c <= 0) {
          fromUnion[a] = m;
          merged[m] = union[a++];
        }
        if (c >= 0) {
          fromPart[b] = m;
          merged[m] = keys[b++];
        }
        m++;
      }
      for (int q = 0; q < p; q++) {
        int[] r = remap[q];
        for (int i = 0; i < r.length; i++) {
          r[i] = fromUnion[r[i]];
        }
      }
      remap[p] = fromPart;
      union = Arrays.copyOf(merged, m);
    }
    long[] versions = new long[total];
    int[] ranks = new int[total];
    byte[][] values = new byte[total][];
    boolean[] used = new boolean[union.length];
    int n = 0;
    for (int p = 0; p < parts.size(); p++) {
      ZSegment s = parts.get(p);
      for (int i = 0; i < s.size(); i++) {
        if (s.versions[i] >= watermark) {
          versions[n] = s.versions[i];
          ranks[n] = remap[p][s.ranks[i]];
          used[ranks[n]] = true;
          values[n] = s.values[i];
          n++;
        }
      }
    }
    if (n == 0) {
      return null;
    }
    // Keys whose every change fell below the watermark leave the list.
    int[] compact = new int[union.length];
    int d = 0;
    for (int r = 0; r < union.length; r++) {
      compact[r] = d;
      if (used[r]) {
        union[d++] = union[r];
      }
    }
    for (int i = 0; i < n; i++) {
      ranks[i] = compact[ranks[i]];
    }
    return sorted(level, n, Arrays.copyOf(union, d), ranks, versions, values);
  }

  /**
   * The segment of the first {@code n} changes, their keys given as ranks in {@code ranked}.
   *
   * <p>Both coordinates get the same number of bits, so that the curve splits keys and versions
   * alike and a box that is a small fraction of both is a few runs of the curve. Versions keep
   * every bit they need (up to 32); ranks are cut to as many bits as the versions use, or more when
   * the versions alone cannot spread the segment's changes over about 4n cells (a segment of few
   * versions with many keys each). A segment of 1,000,000 changes to 100,000 keys over 1,000
   * versions has a 12-by-10-bit grid, about four cells per change.
   */
  private static ZSegment sorted(
      int level, int n, byte[][] ranked, int[] ranks, long[] versions, byte[][] values) {
    long minV = Long.MAX_VALUE;
    long maxV = Long.MIN_VALUE;
    for (int i = 0; i < n; i++) {
      minV = Math.min(minV, versions[i]);
      maxV = Math.max(maxV, versions[i]);
    }
    int rankBits = bitsOf(ranked.length - 1L);
    int bitsY = Math.min(32, bitsOf(maxV - minV));
    int bitsX = Math.min(rankBits, Math.max(bitsY, bitsOf(n) + 2 - bitsY));
    int shiftX = rankBits - bitsX;
    int shiftY = bitsOf(maxV - minV) - bitsY;
    long[] unsorted = new long[n];
    for (int i = 0; i < n; i++) {
      unsorted[i] = MortonKey.interleave(ranks[i] >>> shiftX, (versions[i] - minV) >>> shiftY);
    }
    int[] order = sortOrder(unsorted);
    long[] codes = new long[n];
    long[] vs = new long[n];
    int[] rs = new int[n];
    byte[][] xs = new byte[n][];
    for (int i = 0; i < n; i++) {
      int j = order[i];
      codes[i] = unsorted[j];
      vs[i] = versions[j];
      rs[i] = ranks[j];
      xs[i] = values[j];
    }
    return new ZSegment(level, ranked, shiftX, minV, maxV, shiftY, codes, vs, rs, xs);
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
   * Adds to {@code out}, in version order then key order, every held change with key in {@code
   * range} and version in [{@code from}, {@code to}].
   */
  void query(KeyRange range, long from, long to, List<Change> out) {
    if (to < minVersion || from > maxVersion) {
      return;
    }
    int rLo = range.firstNotBelowStart(ranked);
    int rHi = firstAboveEnd(range) - 1;
    if (rLo > rHi) {
      return;
    }
    long qx1 = (long) rLo >>> shiftX;
    long qx2 = (long) rHi >>> shiftX;
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
        // the cells on the box's edges need the exact check, and it compares the held rank and
        // version, never a key's bytes.
        // Unquantized (shiftY 0), a row is one version, and the box's rows are exactly [from, to].
        boolean versionInside =
            shiftY == 0 || (cy != yMin && cy != yMax) || (versions[i] >= from && versions[i] <= to);
        boolean keyInside = (cx != xMin && cx != xMax) || (ranks[i] >= rLo && ranks[i] <= rHi);
        if (versionInside && keyInside) {
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
    emitInOrder(hits, h, from, to, out);
  }

  /**
   * Adds the changes at the positions {@code hits[0, h)}, in position order, to {@code out} in
   * version order, then key order; their versions are in [{@code from}, {@code to}].
   *
   * <p>Within one version, position order is already key order: the codes of one version grow with
   * the quantized rank, which grows with the key, and changes with equal codes keep their input
   * order (the radix sort is stable), which is key order in a sealed segment (its input is read
   * commit by commit, each commit's keys sorted) and, by the same argument, in a merged one. So a
   * stable sort by version is enough, and no key is compared.
   *
   * <p>The changes are made in position order first, so that the arrays are read in ascending order
   * rather than at random. A query box spans few versions against the changes it finds (100
   * versions against about 1,000 changes on a 1% x 1% box of 10,000 versions), so they are then
   * placed by counting their versions, one pass each way; a box with many more versions than
   * changes sorts packed (version, index) longs instead.
   */
  private void emitInOrder(long[] hits, int h, long from, long to, List<Change> out) {
    if (h == 0) {
      return;
    }
    Change[] found = new Change[h];
    for (int k = 0; k < h; k++) {
      int pos = (int) hits[k];
      found[k] = new Change(ranked[ranks[pos]], versions[pos], values[pos]);
    }
    long lo = Math.max(from, minVersion);
    long span = Math.min(to, maxVersion) - lo + 1;
    if (span <= COUNTING_SORT_SPAN_PER_HIT * (long) h + COUNTING_SORT_MIN_SPAN) {
      int[] next = new int[(int) span + 1];
      for (Change c : found) {
        next[(int) (c.version() - lo) + 1]++;
      }
      for (int v = 1; v < span; v++) {
        next[v] += next[v - 1];
      }
      Change[] sorted = new Change[h];
      for (Change c : found) { // in position order, so the placement is stable
        sorted[next[(int) (c.version() - lo)]++] = c;
      }
      Collections.addAll(out, sorted);
      return;
    }
    if (maxVersion - minVersion < (1L << 32)) {
      for (int k = 0; k < h; k++) {
        hits[k] = ((found[k].version() - minVersion) << 31) | k;
      }
      Arrays.sort(hits, 0, h);
      for (int k = 0; k < h; k++) {
        out.add(found[(int) (hits[k] & Integer.MAX_VALUE)]);
      }
      return;
    }
    // A segment spanning 2^32 versions or more (billions of empty commits): compare the versions.
    // The object sort is stable, so position order breaks ties.
    Arrays.sort(found, (a, b) -> Long.compare(a.version(), b.version()));
    Collections.addAll(out, found);
  }

  /** Cells of the quantized grid along the keys. */
  double cellsX() {
    return (double) ((ranked.length - 1L) >>> shiftX) + 1;
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

  /** The rank of the first held key above the range's end: {@code ranked.length} if none. */
  private int firstAboveEnd(KeyRange range) {
    int lo = 0;
    int hi = ranked.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (range.aboveEnd(ranked[mid])) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
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
