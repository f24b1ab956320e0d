package dev.zverse.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * The Z-index of a snapshot: its history, sealed into immutable Z-sorted {@link ZSegment}s, plus
 * the count of the newest changes not sealed yet.
 *
 * <p>Its own fields never change, but it is not immutable: the seal and merge {@link Job}s it
 * carries finish on another thread, each once, and a query that meets a finished job uses its
 * segment. That changes how a query finds its answer, never the answer (a job's segment holds the
 * same changes at or above the watermark as the commits or segments it replaces, and queries ask
 * for nothing below it). Safe for concurrent readers: a job's result is read only after its
 * volatile state says it is done.
 *
 * <h2>Design</h2>
 *
 * The writer never sorts. It counts the changes it commits; once {@link
 * ZIndexOptions#segmentEntries()} of them are unsealed, publishing a snapshot starts a
 * <em>seal</em> job on the options' executor, which reads that published snapshot (immutable, so
 * the job needs no lock) and builds a segment of the changes in versions ({@link #sealedThrough},
 * that version]. Once {@value #MERGE_FANOUT} segments of one level line up, a <em>merge</em> job
 * builds one segment of the next level from them (so a query meets a few segments per level,
 * logarithmically many in all), dropping what lies below the watermark; a merge of the oldest
 * segment alone trims it once most of it has fallen below the watermark. At most one seal and one
 * merge run at a time.
 *
 * <p>A job's result reaches snapshots in two ways, both through the job's volatile state: every
 * later publish adopts finished jobs into the new snapshot's index ({@link #settled}), and a query
 * on any snapshot that carries a finished job uses its result at once. A job belongs to the
 * snapshot that started it and every snapshot derived from it, which all share the history it
 * covers, so forks of a snapshot may each adopt it safely. A merge is adopted only if the segments
 * it merged are still the index's (a prune may have dropped them meanwhile); otherwise it is thrown
 * away and redone.
 *
 * <p>The invariant queries rely on: the segments hold every change in the retained versions up to
 * {@link #sealedThrough} (and perhaps some below the watermark, which queries never ask for), and
 * the commit log holds the rest.
 */
final class ZIndex {
  /** Segments of one level merged into one of the next. */
  static final int MERGE_FANOUT = 4;

  /** A merge never builds a segment larger than this. */
  private static final long MAX_MERGED = 1 << 28;

  private static final ZSegment[] NONE = new ZSegment[0];

  final ZIndexOptions options;

  /** Sealed segments, oldest versions first; their version spans never overlap. */
  final ZSegment[] segments;

  /** Every retained change at or below this version is in {@link #segments}. */
  final long sealedThrough;

  /** Changes committed in versions ({@link #sealedThrough}, the snapshot's version]. */
  final long unsealed;

  private final @Nullable Job<Seal> seal;
  private final @Nullable Job<Merge> merge;

  private ZIndex(
      ZIndexOptions options,
      ZSegment[] segments,
      long sealedThrough,
      long unsealed,
      @Nullable Job<Seal> seal,
      @Nullable Job<Merge> merge) {
    this.options = options;
    this.segments = segments;
    this.sealedThrough = sealedThrough;
    this.unsealed = unsealed;
    this.seal = seal;
    this.merge = merge;
  }

  static ZIndex empty(ZIndexOptions options) {
    return new ZIndex(options, NONE, 0, 0, null, null);
  }

  /** This index with {@code n} more unsealed changes. */
  ZIndex withUnsealed(long n) {
    return n == 0 ? this : new ZIndex(options, segments, sealedThrough, unsealed + n, seal, merge);
  }

  /**
   * This index with the results of finished jobs taken in, and without the segments wholly below
   * {@code watermark}.
   */
  ZIndex settled(long watermark) {
    ZSegment[] segs = segments;
    long through = sealedThrough;
    long open = unsealed;
    Job<Seal> s = seal;
    Job<Merge> m = merge;
    if (s != null && s.finished()) {
      if (!s.failed()) {
        if (s.result != null) {
          segs = append(segs, s.result);
        }
        through = Math.max(through, s.work.to());
        open = Math.max(0, open - s.work.entries());
      }
      s = null;
    }
    if (m != null && m.finished()) {
      if (!m.failed()) {
        segs = replace(segs, m.work.inputs(), m.result);
      }
      m = null;
    }
    int drop = 0;
    while (drop < segs.length && segs[drop].maxVersion < watermark) {
      drop++;
    }
    if (drop > 0) {
      segs = Arrays.copyOfRange(segs, drop, segs.length);
    }
    if (segs == segments && s == seal && m == merge) {
      return this;
    }
    return new ZIndex(options, segs, through, open, s, m);
  }

  /**
   * This index after a prune to {@code watermark}, given the commit log from before the prune:
   * segments wholly below it go, and unsealed history below it stops counting.
   */
  ZIndex pruned(long watermark, CommitLog commits) {
    ZIndex z = settled(watermark);
    if (z.seal != null || z.sealedThrough >= watermark - 1) {
      return z;
    }
    long open = z.unsealed;
    for (long u = Math.max(z.sealedThrough + 1, commits.firstVersion()); u < watermark; u++) {
      open -= commits.get(u).keys.length;
    }
    return new ZIndex(options, z.segments, watermark - 1, Math.max(0, open), null, z.merge);
  }

  /**
   * This index after the publish of a snapshot with these parts: finished jobs adopted, and a seal
   * or merge started if one is due. Called by the writer once the snapshot's commit log is
   * immutable (a seal reads the keys and values of its commits, nothing else).
   */
  ZIndex published(CommitLog commits, long version, long watermark) {
    ZIndex z = settled(watermark);
    if (!options.enabled()) {
      return z;
    }
    Job<Seal> newSeal = null;
    if (z.seal == null && z.unsealed >= options.segmentEntries()) {
      long from = Math.max(Math.max(z.sealedThrough + 1, watermark), commits.firstVersion());
      if (from <= version) {
        newSeal = new Job<>(new Seal(commits, from, version, z.unsealed));
      }
    }
    Job<Merge> newMerge = z.merge == null ? z.mergeDue(watermark) : null;
    if (newSeal == null && newMerge == null) {
      return z;
    }
    ZIndex next =
        new ZIndex(
            options,
            z.segments,
            z.sealedThrough,
            z.unsealed,
            newSeal == null ? z.seal : newSeal,
            newMerge == null ? z.merge : newMerge);
    // Started only now that the index that owns them exists: a direct executor finishes them here.
    if (newSeal != null) {
      newSeal.start(options);
    }
    if (newMerge != null) {
      newMerge.start(options);
    }
    return next;
  }

  /** Counters for {@link Snapshot#indexStats()}. */
  ZIndexStats stats() {
    long indexed = 0;
    for (ZSegment s : segments) {
      indexed += s.size();
    }
    boolean building = (seal != null && !seal.finished()) || (merge != null && !merge.finished());
    return new ZIndexStats(segments.length, indexed, unsealed, sealedThrough, building);
  }

  /** A merge worth running now, or {@code null}. */
  private @Nullable Job<Merge> mergeDue(long watermark) {
    if (segments.length == 0) {
      return null;
    }
    ZSegment oldest = segments[0];
    if (oldest.minVersion < watermark
        && (watermark - oldest.minVersion) * 2 >= oldest.maxVersion - oldest.minVersion + 1) {
      return new Job<>(new Merge(new ZSegment[] {oldest}, watermark, oldest.level));
    }
    for (int end = segments.length; end >= MERGE_FANOUT; end--) {
      int level = segments[end - 1].level;
      long size = 0;
      boolean run = true;
      for (int i = end - MERGE_FANOUT; i < end && run; i++) {
        run = segments[i].level == level;
        size += segments[i].size();
      }
      if (run && size <= MAX_MERGED) {
        ZSegment[] inputs = Arrays.copyOfRange(segments, end - MERGE_FANOUT, end);
        return new Job<>(new Merge(inputs, watermark, level + 1));
      }
    }
    return null;
  }

  private static ZSegment[] append(ZSegment[] segs, ZSegment s) {
    ZSegment[] out = Arrays.copyOf(segs, segs.length + 1);
    out[segs.length] = s;
    return out;
  }

  /**
   * {@code segs} with the run {@code inputs} replaced by {@code result}, or unchanged if the run is
   * gone.
   */
  private static ZSegment[] replace(ZSegment[] segs, ZSegment[] inputs, @Nullable ZSegment result) {
    int at = -1;
    for (int i = 0; i < segs.length && at < 0; i++) {
      if (segs[i] == inputs[0]) {
        at = i;
      }
    }
    if (at < 0 || at + inputs.length > segs.length) {
      return segs;
    }
    for (int i = 1; i < inputs.length; i++) {
      if (segs[at + i] != inputs[i]) {
        return segs;
      }
    }
    List<ZSegment> out = new ArrayList<>(Arrays.asList(segs).subList(0, at));
    if (result != null) {
      out.add(result);
    }
    out.addAll(Arrays.asList(segs).subList(at + inputs.length, segs.length));
    return out.toArray(NONE);
  }

  /** What a {@link Job} builds: one record per kind of job, each with its own build. */
  sealed interface Work permits Seal, Merge {
    /**
     * Builds the job's segment. Runs on the options' executor, reading only immutable inputs.
     *
     * @return the segment, or {@code null} if no change is left for it
     */
    @Nullable ZSegment build();
  }

  /**
   * Seals the changes in versions [{@code from}, {@code to}] of one published snapshot's commits
   * (immutable once published), {@code entries} of them as the writer counted.
   */
  record Seal(CommitLog commits, long from, long to, long entries) implements Work {
    @Override
    public @Nullable ZSegment build() {
      int capacity = (int) Math.min(Math.max(entries, 16), Integer.MAX_VALUE - 16);
      long[] versions = new long[capacity];
      byte[][] keys = new byte[capacity][];
      byte[][] values = new byte[capacity][];
      int n = 0;
      for (long u = from; u <= to; u++) {
        Commit commit = commits.get(u);
        for (int i = 0; i < commit.keys.length; i++) {
          if (n == versions.length) {
            int grown = (int) Math.min((long) n * 2, Integer.MAX_VALUE - 16);
            versions = Arrays.copyOf(versions, grown);
            keys = Arrays.copyOf(keys, grown);
            values = Arrays.copyOf(values, grown);
          }
          versions[n] = u;
          keys[n] = commit.keys[i];
          values[n] = commit.values[i];
          n++;
        }
      }
      return ZSegment.build(0, n, versions, keys, values);
    }
  }

  /**
   * Merges the run {@code inputs} into one segment of {@code level}, without the changes below
   * {@code watermark}. The array is never changed, and the record is never compared (its equals
   * would compare the array's identity).
   */
  @SuppressWarnings("ArrayRecordComponent") // never compared, as said above
  record Merge(ZSegment[] inputs, long watermark, int level) implements Work {
    @Override
    public @Nullable ZSegment build() {
      return ZSegment.merge(Arrays.asList(inputs), watermark, level);
    }
  }

  /**
   * A seal or merge, run once on the options' executor. Its result is published by the volatile
   * write of {@link #state}, which the writer and queries read before {@link #result}.
   */
  static final class Job<W extends Work> implements Runnable {
    private static final int RUNNING = 0;
    private static final int DONE = 1;
    private static final int FAILED = 2;

    final W work;

    /** Written once by the job before {@link #state}; read after it. */
    private @Nullable ZSegment result;

    private volatile int state = RUNNING;

    Job(W work) {
      this.work = work;
    }

    void start(ZIndexOptions options) {
      try {
        options.executor().execute(this);
      } catch (RejectedExecutionException e) {
        state = FAILED; // tried again at a later publish; queries walk the commits meanwhile
      }
    }

    boolean finished() {
      return state != RUNNING;
    }

    boolean failed() {
      return state == FAILED;
    }

    @Override
    public void run() {
      try {
        result = work.build();
        state = DONE;
      } catch (Throwable t) {
        state = FAILED;
        throw t; // a bug, or out of memory: let the executor report it; the index only lags
      }
    }
  }
}
