package dev.zverse.streams;

import dev.zverse.engine.VersionCompactedException;

/**
 * A change feed fell further behind the store's latest version than its lag limit allows: it has
 * released its pin, and the history it still needed may now be pruned. It is a {@link
 * VersionCompactedException}, so a consumer that handles "my place is gone" handles this too.
 *
 * <p>By default ({@code zverse.streams.change-feed.max-lag = retention}) the limit is the store's
 * retention: the feed fails once the commit it needs next is older than retention alone would keep,
 * so a slow feed never holds history past retention. A feed with a {@link
 * ChangeFeedOptions#withMaxLag lag limit} of its own fails once it is more than that many versions
 * behind the latest.
 *
 * <p>{@link #watermark()} is where history will start once the feed has let go: the watermark the
 * store's retention alone gives when the feed failed ({@code ZVerseStore.retentionWatermark()}),
 * not the lower one the feed's own pin held the store at. A resyncing client lists the state at or
 * above it. {@link #requestedVersion()} is the last version the feed emitted (or skipped).
 *
 * <p>The way back is the one for any lost place: list the state in a read transaction and follow a
 * new feed {@link ChangeFeedOptions#after(dev.zverse.actors.ReadTransaction) after it}, or raise
 * the limit ({@code zverse.streams.change-feed.max-lag}, {@link ChangeFeedOptions#withMaxLag}) for
 * a consumer that is slow on purpose.
 */
public final class ChangeFeedLagException extends VersionCompactedException {
  private static final long serialVersionUID = 1L;

  private final long latestVersion;
  private final long maxLag;

  /**
   * @param cursor the last version the feed had emitted (or skipped): it needed {@code cursor + 1}
   * @param latestVersion the store's latest version when the feed gave up
   * @param maxLag the feed's lag limit in versions, or 0 if it was bounded by the store's retention
   * @param watermark where history starts once the feed has let go: the watermark the store's
   *     retention alone gives
   */
  public ChangeFeedLagException(long cursor, long latestVersion, long maxLag, long watermark) {
    super(
        "change feed at version "
            + cursor
            + " is "
            + (latestVersion - cursor)
            + " versions behind the latest version "
            + latestVersion
            + (maxLag > 0
                ? ", more than its max-lag of " + maxLag
                : ", further than the store's retention keeps (max-lag = retention)")
            + ": it released its pin, so history will start at version "
            + watermark
            + "; list the state in a read transaction and follow a new feed after it, or raise"
            + " max-lag",
        cursor,
        watermark);
    this.latestVersion = latestVersion;
    this.maxLag = maxLag;
  }

  /**
   * The store's latest version when the feed gave up.
   *
   * @return the version
   */
  public long latestVersion() {
    return latestVersion;
  }

  /**
   * The feed's lag limit, in versions.
   *
   * @return the limit, or 0 if the feed was bounded by the store's retention (the default)
   */
  public long maxLag() {
    return maxLag;
  }
}
