package dev.zverse.streams;

import dev.zverse.engine.VersionCompactedException;

/**
 * A change feed fell further behind the store's latest version than its lag limit allows: it has
 * released its pin, and the history it still needed may now be pruned. It is a {@link
 * VersionCompactedException}, so a consumer that handles "my place is gone" handles this too.
 *
 * <p>The way back is the one for any lost place: take a snapshot, read its state, and follow a new
 * feed from its version ({@code ChangeFeed.commits(store, ChangeFeedOptions.after(snapshot.version()))}),
 * or raise the limit ({@code zverse.streams.change-feed.max-lag}, {@link
 * ChangeFeedOptions#withMaxLag}) for a consumer that is slow on purpose.
 */
public final class ChangeFeedLagException extends VersionCompactedException {
  private static final long serialVersionUID = 1L;

  private final long latestVersion;
  private final long maxLag;

  /**
   * @param cursor the last version the feed had emitted (or skipped): it needed {@code cursor + 1}
   * @param latestVersion the store's latest version when the feed gave up
   * @param maxLag the feed's lag limit, in versions
   * @param watermark the store's watermark when the feed gave up
   */
  public ChangeFeedLagException(long cursor, long latestVersion, long maxLag, long watermark) {
    super(
        "change feed at version "
            + cursor
            + " is "
            + (latestVersion - cursor)
            + " versions behind the latest version "
            + latestVersion
            + ", more than its max-lag of "
            + maxLag
            + ": it released its pin, so the history after version "
            + cursor
            + " may be pruned; take a snapshot and follow a new feed from its version, or raise max-lag",
        cursor,
        watermark);
    this.latestVersion = latestVersion;
    this.maxLag = maxLag;
  }

  /** The store's latest version when the feed gave up. */
  public long latestVersion() {
    return latestVersion;
  }

  /** The feed's lag limit, in versions. */
  public long maxLag() {
    return maxLag;
  }
}
