package dev.zverse.streams;

import dev.zverse.engine.VersionCompactedException;

/**
 * A change feed could not start where it was asked to: the commit after its start version (or, with
 * previous values, the state at it) was already pruned. It is a {@link VersionCompactedException},
 * so a consumer that handles "my place is gone" handles this too.
 *
 * <p>{@link #watermark()} is where history will start for a new feed: the watermark the store's
 * retention alone gives when the feed was refused ({@code ZVerseStore.retentionWatermark()}), at
 * least the store's watermark then. {@link #requestedVersion()} is the oldest version the feed
 * needed: {@link #afterVersion()} + 1, or {@link #afterVersion()} itself with previous values.
 *
 * <p>The way back: list the state in a read transaction and follow a feed {@link
 * ChangeFeedOptions#after(dev.zverse.actors.ReadTransaction) after it}; that form cannot be refused
 * this way.
 */
public final class ChangeFeedCompactedException extends VersionCompactedException {
  private static final long serialVersionUID = 1L;

  private final long afterVersion;

  /**
   * @param afterVersion the version the feed was to start after
   * @param neededVersion the oldest version the feed needed readable
   * @param watermark where history starts: the watermark the store's retention alone gives
   */
  public ChangeFeedCompactedException(long afterVersion, long neededVersion, long watermark) {
    super(
        "change feed after version "
            + afterVersion
            + " cannot start: it needs version "
            + neededVersion
            + ", below the retention watermark "
            + watermark
            + "; list the state in a read transaction and follow a feed after it",
        neededVersion,
        watermark);
    this.afterVersion = afterVersion;
  }

  /**
   * The version the feed was to start after.
   *
   * @return the version
   */
  public long afterVersion() {
    return afterVersion;
  }
}
