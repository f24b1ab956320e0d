package dev.zverse.engine;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * How a store keeps its Z-index, the Z-order index over (key, version) that answers {@link
 * Snapshot#changes(KeyRange, long, long)}: whether at all, how many changes a sealed segment
 * gathers, and where the sorting and merging run.
 *
 * <p>The index costs the writer nothing but a counter: history is sealed into sorted segments, and
 * segments are merged, by tasks on the {@linkplain #executor() executor}, and the writer adopts
 * their results when it next publishes. It costs memory: 24 bytes per indexed change (a code, a
 * version and two references to the key and value that the tree already holds).
 *
 * <p>Immutable.
 */
public final class ZIndexOptions {
  /** Changes a segment gathers before it is sealed, by default. */
  public static final int DEFAULT_SEGMENT_ENTRIES = 65_536;

  /** Most changes a segment may gather before it is sealed. */
  public static final int MAX_SEGMENT_ENTRIES = 1 << 24;

  private static final ZIndexOptions DEFAULTS =
      new ZIndexOptions(true, DEFAULT_SEGMENT_ENTRIES, ForkJoinPool.commonPool(), true);
  private static final ZIndexOptions DISABLED =
      new ZIndexOptions(false, DEFAULT_SEGMENT_ENTRIES, ForkJoinPool.commonPool(), true);

  private final boolean enabled;
  private final int segmentEntries;
  private final Executor executor;
  private final boolean packChains;

  private ZIndexOptions(
      boolean enabled, int segmentEntries, Executor executor, boolean packChains) {
    this.enabled = enabled;
    this.segmentEntries = segmentEntries;
    this.executor = executor;
    this.packChains = packChains;
  }

  /**
   * The index on, sealing every {@value #DEFAULT_SEGMENT_ENTRIES} changes, building on {@link
   * ForkJoinPool#commonPool()}.
   */
  public static ZIndexOptions defaults() {
    return DEFAULTS;
  }

  /**
   * No index: {@link Snapshot#changes} walks the tree or the commit log instead, and the writer
   * does no index work at all.
   */
  public static ZIndexOptions disabled() {
    return DISABLED;
  }

  /**
   * These options with another segment size.
   *
   * @param segmentEntries changes gathered before a segment is sealed, in [1, {@value
   *     #MAX_SEGMENT_ENTRIES}]; small segments are sealed often and merged often, large ones leave
   *     more history to the unsealed walk
   * @throws IllegalArgumentException if {@code segmentEntries} is out of bounds
   */
  public ZIndexOptions withSegmentEntries(int segmentEntries) {
    if (segmentEntries < 1 || segmentEntries > MAX_SEGMENT_ENTRIES) {
      throw new IllegalArgumentException(
          "segmentEntries must be in [1, " + MAX_SEGMENT_ENTRIES + "], was " + segmentEntries);
    }
    return new ZIndexOptions(enabled, segmentEntries, executor, packChains);
  }

  /**
   * These options with the index on or off, the segment size and executor kept.
   *
   * @param enabled whether the index is kept
   * @return a copy with the index on or off
   */
  public ZIndexOptions withEnabled(boolean enabled) {
    return new ZIndexOptions(enabled, segmentEntries, executor, packChains);
  }

  /**
   * These options with another executor for sealing and merging, and for packing version chains
   * (which runs even with the index disabled). A direct executor ({@code Runnable::run}) does the
   * work on the writer's thread, inside {@link Transient#persistent()}: deterministic, for tests.
   * An executor that rejects a task only delays the index: the task is tried again at a later
   * publish, and queries walk the unsealed history meanwhile.
   *
   * @throws NullPointerException if {@code executor} is null
   */
  public ZIndexOptions withExecutor(Executor executor) {
    return new ZIndexOptions(
        enabled, segmentEntries, Objects.requireNonNull(executor, "executor"), packChains);
  }

  /**
   * These options with the packing of version chains on or off (on in {@link #defaults()} and
   * {@link #disabled()}). Packing copies the versions of a key with history into two arrays in the
   * background, on the {@linkplain #executor() executor}, so that a read at an older version
   * binary-searches one run instead of walking a node per newer version; it changes no answer. Off,
   * the writer hands the packer nothing and chains stay linked nodes.
   *
   * @param packChains whether version chains are packed
   * @return a copy with packing on or off
   */
  public ZIndexOptions withPackedChains(boolean packChains) {
    return new ZIndexOptions(enabled, segmentEntries, executor, packChains);
  }

  /** Whether version chains are packed in the background; see {@link #withPackedChains}. */
  public boolean packsChains() {
    return packChains;
  }

  /** Whether the index is kept. */
  public boolean enabled() {
    return enabled;
  }

  /** Changes gathered before a segment is sealed. */
  public int segmentEntries() {
    return segmentEntries;
  }

  /** Where sealing, merging and the packing of version chains run. */
  public Executor executor() {
    return executor;
  }

  @Override
  public String toString() {
    return (enabled ? "ZIndexOptions[segmentEntries=" + segmentEntries : "ZIndexOptions[disabled")
        + (packChains ? "]" : ", chains unpacked]");
  }
}
