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
      case Z_INDEX -> viaIndex(s, index, range, from, to, out);
      case KEY_RANGE_WALK -> viaKeys(s, range, from, to, out);
      case COMMIT_WALK -> viaCommits(s, range, from, to, out);
      default -> throw new AssertionError(path);
    }
    return out;
  }

  // Costs in nanoseconds, fitted to ZIndexQueryBenchmark on a million keys (tree height 4) with
  // ten versions each, on the 2-core machine: see benchmarks/README.md.
  /** One level of a tree descent: a node's prefixes scanned, a cache miss or two. */
  private static final double DESCENT_LEVEL = 300;

  /** One key passed in a key-range walk, its version chain walked to the window. */
  private static final double KEY_STEP = 150;

  /** One commit fetched from the commit log. */
  private static final double COMMIT = 50;

  /** One step of a binary search among a commit's keys for the range's start: a cache miss. */
  private static final double COMMIT_SEARCH_STEP = 40;

  /** One key compared with the range's end: a cache miss. */
  private static final double KEY_CHECK = 50;

  /** One change put in the answer. */
  private static final double HIT = 10;

  /** One candidate checked in a segment: sequential array reads. */
  private static final double CANDIDATE = 5;

  /** One step of a binary search in a segment's codes. */
  private static final double SEARCH_STEP = 20;

  /** One jump to the next run of the curve in the box: a BIGMIN and a galloping search. */
  private static final double JUMP = 250;

  /** One comparison of the primitive sort that puts a segment's hits in order. */
  private static final double SORT_STEP = 2;

  /**
   * The path with the least estimated cost.
   *
   * <ul>
   *   <li>A key-range walk descends once, then passes every key in the range and its chain.
   *   <li>A commit walk fetches every commit in the window, binary-searches each for the range's
   *       start, and reads the changes in the range straight from the commit.
   *   <li>The Z-index searches each segment that overlaps the window. In a segment's grid of cx by
   *       cy cells, the box covers about wx by wy cells; the curve enters it about (long side /
   *       short side) * min(short side, 4) + wx + wy times (each entry a jump), but never more
   *       often than there are candidates, the changes in the covered cells. The unsealed versions
   *       are a commit walk.
   * </ul>
   */
  static QueryPath choose(Snapshot s, ZIndex index, KeyRange range, long from, long to) {
    double keys = Math.max(1, s.keys);
    double fx =
        Math.max(
            0,
            TreeCursor.rankFraction(s.root, s.height, range.end)
                - (range.start == null
                    ? 0
                    : TreeCursor.rankFraction(s.root, s.height, range.start)));
    long first = Math.max(from, 1);
    double hits = fx * changesIn(s.commits, first, to);
    double keyWalk = s.height * DESCENT_LEVEL + (fx * keys + 1) * KEY_STEP + hits * HIT;
    double commitWalk = commitWalkCost(s, range, first, to, fx);

    double zIndex = 0;
    for (ZSegment seg : index.segments) {
      double inWindow = seg.estimateIn(first, to);
      if (inWindow > 0) {
        double n = seg.size();
        double cx = seg.cellsX();
        double cy = seg.cellsY();
        double wx = Math.min(cx, fx * cx + 1);
        double wy = Math.min(cy, inWindow / n * cy + 1);
        double candidates = n * (wx / cx) * (wy / cy);
        double shortSide = Math.min(wx, wy);
        double runs = Math.max(wx, wy) / shortSide * Math.min(shortSide, 4) + wx + wy;
        double segHits = fx * inWindow;
        zIndex +=
            SEARCH_STEP * log2(seg.size())
                + Math.min(runs, candidates + 1) * JUMP
                + candidates * CANDIDATE
                + segHits
                    * (HIT + SORT_STEP * log2((int) Math.min(segHits + 1, Integer.MAX_VALUE)));
      }
    }
    zIndex += commitWalkCost(s, range, Math.max(first, index.sealedThrough + 1), to, fx);

    // Ties go to the plain walks: with no segment in the window the index is a commit walk.
    if (zIndex < keyWalk && zIndex < commitWalk) {
      return QueryPath.Z_INDEX;
    }
    return keyWalk <= commitWalk ? QueryPath.KEY_RANGE_WALK : QueryPath.COMMIT_WALK;
  }

  private static double commitWalkCost(
      Snapshot s, KeyRange range, long from, long to, double fraction) {
    if (from > to) {
      return 0;
    }
    double commits = to - from + 1;
    double changes = changesIn(s.commits, from, to);
    double perCommit = COMMIT;
    if (range.start != null) {
      perCommit +=
          COMMIT_SEARCH_STEP * log2((int) Math.min(changes / commits + 1, Integer.MAX_VALUE));
    }
    return commits * perCommit + fraction * changes * (HIT + (range.end != null ? KEY_CHECK : 0));
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
  static void viaIndex(
      Snapshot s, ZIndex index, KeyRange range, long from, long to, List<Change> out) {
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
    for (c.seekStart(range, false); c.valid() && !range.aboveEnd(c.key(), c.prefix()); c.next()) {
      byte[] key = c.key();
      for (Version v = c.head().visibleAt(to); v != null && v.version >= from; v = v.next()) {
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
      for (int i = range.firstNotBelowStart(keys);
          i < keys.length && !range.aboveEnd(keys[i]);
          i++) {
        out.add(new Change(keys[i], u, commit.values[i]));
      }
    }
  }
}
