package dev.zverse.actors;

import dev.zverse.engine.ZIndexOptions;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The {@code z-index} section of a store's settings: whether the store keeps the engine's Z-order
 * index over (key, version), which answers {@link dev.zverse.engine.Snapshot#changes}, how large
 * its sealed segments grow, and where they are sealed and merged. Reached through {@link
 * StoreSettings#zIndex()} and changed with {@link StoreSettings#withZIndex}:
 *
 * <pre>{@code
 * settings.withZIndex(z -> z.withSegmentEntries(4096))
 * }</pre>
 *
 * <p>What the engine takes is held as its {@link ZIndexOptions}, which checks those bounds; the
 * dispatcher, which the store looks up when it opens, beside it.
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class ZIndexSettings {
  /** The engine's options, but for the executor, which the store looks up. */
  private final ZIndexOptions index;

  private final String dispatcher;

  ZIndexSettings(ZIndexOptions index, String dispatcher) {
    this.index = Objects.requireNonNull(index, "index");
    this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
  }

  /** Whether the store keeps the Z-index ({@code z-index.enabled}). */
  public boolean enabled() {
    return index.enabled();
  }

  /** How many changes a sealed segment gathers ({@code z-index.segment-entries}). */
  public int segmentEntries() {
    return index.segmentEntries();
  }

  /**
   * The configuration path of the dispatcher that seals and merges segments ({@code
   * z-index.dispatcher}); empty for the actor system's default dispatcher.
   */
  public String dispatcher() {
    return dispatcher;
  }

  /**
   * The engine's options of the Z-index, building on {@code executor}.
   *
   * @param executor where segments are sealed and merged
   */
  ZIndexOptions options(Executor executor) {
    return index.enabled() ? index.withExecutor(executor) : ZIndexOptions.disabled();
  }

  /**
   * These settings with the Z-index on or off.
   *
   * @param enabled whether the store keeps the Z-index; without it {@code changes} walks the tree
   *     or the commit log, and the writer does no index work
   * @return a copy with the index on or off
   */
  public ZIndexSettings withEnabled(boolean enabled) {
    return new ZIndexSettings(index.withEnabled(enabled), dispatcher);
  }

  /**
   * These settings with another segment size.
   *
   * @param segmentEntries changes a segment gathers before it is sealed, in [1, {@value
   *     ZIndexOptions#MAX_SEGMENT_ENTRIES}]
   * @return a copy with this segment size
   * @throws IllegalArgumentException if out of bounds
   */
  public ZIndexSettings withSegmentEntries(int segmentEntries) {
    return new ZIndexSettings(index.withSegmentEntries(segmentEntries), dispatcher);
  }

  /**
   * These settings with another dispatcher for Z-index work.
   *
   * @param dispatcher the configuration path of a dispatcher for sealing and merging segments, or
   *     {@code ""} for the actor system's default dispatcher
   * @return a copy with this dispatcher
   * @throws NullPointerException if null
   */
  public ZIndexSettings withDispatcher(String dispatcher) {
    return new ZIndexSettings(index, dispatcher);
  }

  @Override
  public String toString() {
    return index + ", dispatcher=" + dispatcher;
  }
}
