package dev.zverse.streams;

import dev.zverse.engine.KeyRange;
import java.util.Objects;

/**
 * Where a change feed starts and what it emits: the version it follows from, a key range, previous
 * values, whether commits with no change in the range are emitted, and its lag limit.
 *
 * <pre>{@code
 * ChangeFeedOptions.after(snapshot.version())     // every commit after the snapshot's version
 *     .withRange(KeyRange.prefix("orders/"))
 *     .withPreviousValues(true)
 *     .withMaxLag(10_000);
 * }</pre>
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class ChangeFeedOptions {
  private static final long FROM_NOW = -1;
  /** {@link #maxLag} when the feed takes {@code zverse.streams.change-feed.max-lag}. */
  private static final long FROM_CONFIG = 0;

  private final long afterVersion;
  private final KeyRange range;
  private final boolean previousValues;
  private final boolean emptyCommits;
  private final long maxLag;

  private ChangeFeedOptions(
      long afterVersion, KeyRange range, boolean previousValues, boolean emptyCommits, long maxLag) {
    this.afterVersion = afterVersion;
    this.range = range;
    this.previousValues = previousValues;
    this.emptyCommits = emptyCommits;
    this.maxLag = maxLag;
  }

  /**
   * A feed of the commits after {@code afterVersion}, exclusive: the first commit emitted is {@code
   * afterVersion + 1}. This is the list-then-watch form: read a snapshot at version {@code v}, then
   * follow {@code after(v)}; nothing is missed and nothing is seen twice. {@code after(0)} replays
   * everything from the first commit, if the store still holds it.
   *
   * <p>When the feed is materialized, {@code afterVersion} must be at or above the store's
   * watermark (the state at it must be readable), else the feed fails with {@link
   * dev.zverse.engine.VersionCompactedException}, and at most the latest version, else it fails with
   * {@link IllegalArgumentException}. The lag limit holds from the start: a feed that starts more
   * than its max-lag versions behind the latest fails at once with {@link ChangeFeedLagException};
   * give a long replay a higher {@link #withMaxLag limit}.
   *
   * @param afterVersion the version the consumer already has, at least 0
   * @throws IllegalArgumentException if {@code afterVersion} is negative
   */
  public static ChangeFeedOptions after(long afterVersion) {
    if (afterVersion < 0) {
      throw new IllegalArgumentException("afterVersion must be >= 0, was " + afterVersion);
    }
    return new ChangeFeedOptions(afterVersion, KeyRange.all(), false, true, FROM_CONFIG);
  }

  /**
   * A feed of the commits after the latest version at the moment the feed is materialized: live
   * commits only, no history needed.
   */
  public static ChangeFeedOptions fromNow() {
    return new ChangeFeedOptions(FROM_NOW, KeyRange.all(), false, true, FROM_CONFIG);
  }

  /**
   * A copy that emits only the changes to keys in {@code range}.
   *
   * @throws NullPointerException if {@code range} is null
   */
  public ChangeFeedOptions withRange(KeyRange range) {
    return new ChangeFeedOptions(afterVersion, Objects.requireNonNull(range, "range"), previousValues, emptyCommits, maxLag);
  }

  /**
   * A copy that reads, for each change, the key's value just before the commit ({@link
   * dev.zverse.engine.CommitRecord#previousValue(int)}); one more read per change, in the same
   * chain walk.
   */
  public ChangeFeedOptions withPreviousValues(boolean previousValues) {
    return new ChangeFeedOptions(afterVersion, range, previousValues, emptyCommits, maxLag);
  }

  /**
   * A copy that emits, or skips, commits with no change in the range (batches that changed nothing,
   * or nothing in the range). Emitted by default: then the feed emits one element per version, with
   * no gap, and the last element's version is always the feed's position. Skipping them is the
   * better choice for a narrow range over a busy store.
   */
  public ChangeFeedOptions withEmptyCommits(boolean emptyCommits) {
    return new ChangeFeedOptions(afterVersion, range, previousValues, emptyCommits, maxLag);
  }

  /**
   * A copy with its own lag limit instead of {@code zverse.streams.change-feed.max-lag}.
   *
   * @param maxLag how far, in versions, the feed may fall behind the latest version, in [1, 10^9]
   * @throws IllegalArgumentException if out of bounds
   */
  public ChangeFeedOptions withMaxLag(long maxLag) {
    return new ChangeFeedOptions(
        afterVersion, range, previousValues, emptyCommits, StreamsSettings.requireMaxLag(maxLag, "maxLag"));
  }

  /** Whether the feed starts at the latest version when materialized ({@link #fromNow()}). */
  public boolean isFromNow() {
    return afterVersion == FROM_NOW;
  }

  /**
   * The version after which the feed starts.
   *
   * @throws IllegalStateException if the feed starts {@linkplain #fromNow() from now}
   */
  public long afterVersion() {
    if (isFromNow()) {
      throw new IllegalStateException("a feed from now starts at the version it is materialized at");
    }
    return afterVersion;
  }

  /** The keys whose changes the feed emits. */
  public KeyRange range() {
    return range;
  }

  /** Whether the feed reads previous values. */
  public boolean previousValues() {
    return previousValues;
  }

  /** Whether the feed emits commits with no change in its range. */
  public boolean emptyCommits() {
    return emptyCommits;
  }

  /** This feed's lag limit, or {@code settings.maxLag()} if it has none of its own. */
  long maxLag(StreamsSettings settings) {
    return maxLag == FROM_CONFIG ? settings.maxLag() : maxLag;
  }

  /** Whether a lag limit was set on these options. */
  boolean hasMaxLag() {
    return maxLag != FROM_CONFIG;
  }

  @Override
  public String toString() {
    return "ChangeFeedOptions["
        + (isFromNow() ? "from now" : "after " + afterVersion)
        + ", range=" + range
        + ", previousValues=" + previousValues
        + ", emptyCommits=" + emptyCommits
        + (hasMaxLag() ? ", maxLag=" + maxLag : "")
        + "]";
  }
}
