package dev.zverse.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The three ways to answer {@link Snapshot#changes}: the Z-index, a walk of the key range in the
 * tree, a walk of the commits in the version window; and the cost estimate that picks one.
 *
 * <p>Every path returns the changes in version order, then key order. Stateless.
 */
final class ChangeQuery {
  /** Commits whose sizes are summed exactly before the estimate turns to sampling. */
  private static final int SAMPLES = 32;

  private ChangeQuery() {}

  static List<Change> run(Snapshot s, KeyRange range, long from, long to, QueryPath path) {
    ZIndex index = s.zindex.settled(s.watermark);
    if (path == QueryPath.AUTO) {
      path = choose(s, index, range, from, to);
    }
    List<Change> out = new ArrayList<>();
    switch (path) {
      case Z_INDEX:
        viaIndex(s, index, range, from, to, out);
        break;
      case KEY_RANGE_WALK:
        viaKeys(s, range, from, to, out);
        break;
      case COMMIT_WALK:
        viaCommits(s, range, from, to, out);
        break;
      default:
        throw new AssertionError(path);
    }
    return out;
  }

  // Rough costs in nanoseconds, from the engine's benchmarks on a million keys.
  /** One level of a tree descent: a node's prefixes scanned, a cache miss or two. */
  private static final double DESCENT_LEVEL = 100;
  /** One version-chain node: a dependent load. */
  private static final double CHAIN_NODE = 50;
  /** One key passed in a leaf walk. */
  private static final double LEAF_SLOT = 30;
  /** One commit fetched from the commit log and binary-searched. */
  private static final double COMMIT = 80;
  /** One candidate checked in a segment: sequential array reads and a key compare. */
  private static final double CANDIDATE = 25;
  /** One step of a binary search in a segment's codes. */
  private static final double SEARCH_STEP = 20;
  /** One BIGMIN computation. */
  private static final double BIG_MIN = 60;

  /**
   * The path with the least estimated cost. A key-range walk passes every key in the range and its
   * newer chain nodes. A commit walk fetches every commit in the window and descends the tree for
   * each change it finds. The Z-index searches each segment that overlaps the window: with the
   * segment's n changes spread over a grid of about sqrt(n) by sqrt(n) cells, a box covering
   * fractions fx and fy of it is about (fx + fy) sqrt(n) runs of the curve, each reached by a BIGMIN
   * jump and a binary search, and fx fy n candidates; the unsealed versions are a commit walk.
   */
  static QueryPath choose(Snapshot s, ZIndex index, KeyRange range, long from, long to) {
    double keys = Math.max(1, s.keys);
    double fx =
        Math.max(
            0,
            TreeCursor.rankFraction(s.root, s.height, range.end)
                - (range.start == null ? 0 : TreeCursor.rankFraction(s.root, s.height, range.start)));
    double keysInRange = fx * keys + 1;
    double chain = s.storedVersions / keys;
    double keyWalk = s.height * DESCENT_LEVEL + keysInRange * (LEAF_SLOT + CHAIN_NODE * chain);

    long first = Math.max(from, 1);
    double perChange = s.height * DESCENT_LEVEL + CHAIN_NODE;
    double commitWalk = commitWalkCost(s, first, to, fx, perChange);

    double zIndex = 0;
    for (ZSegment seg : index.segments) {
      double inWindow = seg.estimateIn(first, to);
      if (inWindow > 0) {
        double n = seg.size();
        double fy = inWindow / n;
        double search = SEARCH_STEP * log2(seg.size());
        double runs = Math.min(fx * fy * n, (fx + fy) * Math.sqrt(n)) + 1;
        zIndex += runs * (BIG_MIN + search) + fx * inWindow * CANDIDATE;
      }
    }
    zIndex += commitWalkCost(s, Math.max(first, index.sealedThrough + 1), to, fx, perChange);

    // Ties go to the plain walks: with no segment in the window the index is a commit walk.
    if (zIndex < keyWalk && zIndex < commitWalk) {
      return QueryPath.Z_INDEX;
    }
    return keyWalk <= commitWalk ? QueryPath.KEY_RANGE_WALK : QueryPath.COMMIT_WALK;
  }

  private static double commitWalkCost(Snapshot s, long from, long to, double fraction, double perChange) {
    if (from > to) {
      return 0;
    }
    return COMMIT * (to - from + 1) + perChange * fraction * changesIn(s.commits, from, to);
  }

  /** The changes committed in [from, to]: summed, or sampled when the window is long. */
  private static double changesIn(CommitLog commits, long from, long to) {
    long n = to - from + 1;
    if (n <= SAMPLES) {
      long sum = 0;
      for (long u = from; u <= to; u++) {
        sum += commits.get(u).keys.length;
      }
      return sum;
    }
    long sum = 0;
    for (int i = 0; i < SAMPLES; i++) {
      sum += commits.get(from + (n - 1) * i / (SAMPLES - 1)).keys.length;
    }
    return (double) sum * n / SAMPLES;
  }

  private static double log2(int n) {
    return 32 - Integer.numberOfLeadingZeros(n);
  }

  /** The sealed segments, each sorted, then the unsealed commits. */
  static void viaIndex(Snapshot s, ZIndex index, KeyRange range, long from, long to, List<Change> out) {
    // Segments hold disjoint version windows, oldest first, and each answers in order.
    for (ZSegment seg : index.segments) {
      seg.query(range, from, to, out);
    }
    viaCommits(s, range, Math.max(from, index.sealedThrough + 1), to, out);
  }

  /** Each key of the range, each of its changes in the window; then sorted by version. */
  static void viaKeys(Snapshot s, KeyRange range, long from, long to, List<Change> out) {
    int start = out.size();
    TreeCursor c = new TreeCursor(s.root, s.height);
    for (c.seekStart(range, false); c.valid() && !range.aboveEnd(c.key()); c.next()) {
      byte[] key = c.key();
      for (Version v = c.head().visibleAt(to); v != null && v.version >= from; v = v.next) {
        out.add(new Change(key, v.version, v.value));
      }
    }
    // Stable: within one version the keys stay in the key order they were visited in.
    out.subList(start, out.size()).sort(Comparator.comparingLong(Change::version));
  }

  /** Each commit of the window, its keys in the range (commits keep their keys sorted). */
  static void viaCommits(Snapshot s, KeyRange range, long from, long to, List<Change> out) {
    for (long u = Math.max(from, 1); u <= to; u++) {
      Commit commit = s.commits.get(u);
      byte[][] keys = commit.keys;
      for (int i = firstInRange(keys, range); i < keys.length && !range.aboveEnd(keys[i]); i++) {
        out.add(new Change(keys[i], u, commit.values[i]));
      }
    }
  }

  /** Index of the first of the sorted {@code keys} not below the start of {@code range}. */
  private static int firstInRange(byte[][] keys, KeyRange range) {
    if (range.start == null) {
      return 0;
    }
    int lo = 0;
    int hi = keys.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (range.belowStart(keys[mid])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
