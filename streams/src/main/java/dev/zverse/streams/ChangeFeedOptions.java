package dev.zverse.streams;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.engine.KeyRange;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * Where a change feed starts and what it emits: the version it follows from, a key range, previous
 * values, whether commits with no change in the range are emitted, and its lag limit.
 *
 * <pre>{@code
 * ChangeFeedOptions.after(tx)                      // every commit after the transaction's version
 *     .withRange(KeyRange.prefix("orders/"))
 *     .withPreviousValues(true)
 *     .withMaxLag(10_000);
 * }</pre>
 *
 * <p><b>Where a feed can start.</b> A feed {@code after(v)} reads commits {@code v + 1} on, which
 * are readable while {@code v + 1} is at or above the store's watermark {@code W}: it can start
 * wherever a read can, including {@code after(W - 1)}, whose first commit is the one at {@code W}.
 * With {@linkplain #withPreviousValues previous values} it also reads the state at {@code v}, so
 * then {@code v} itself must be at or above {@code W}. The feed pins what it needs (commit {@code
 * cursor + 1} on, or the state at its cursor with previous values) and no more.
 *
 * <p>Immutable; the {@code withX} methods return validated copies.
 */
public final class ChangeFeedOptions {
  private static final long FROM_NOW = -1;

  /** {@link #maxLag} when the feed takes {@code zverse.streams.change-feed.max-lag}. */
  private static final long FROM_CONFIG = 0;

  private final long afterVersion;

  /** The transaction whose pin the feed takes over, or null. */
  private final @Nullable ReadTransaction transaction;

  private final KeyRange range;
  private final boolean previousValues;
  private final boolean emptyCommits;
  private final long maxLag;

  private ChangeFeedOptions(
      long afterVersion,
      @Nullable ReadTransaction transaction,
      KeyRange range,
      boolean previousValues,
      boolean emptyCommits,
      long maxLag) {
    this.afterVersion = afterVersion;
    this.transaction = transaction;
    this.range = range;
    this.previousValues = previousValues;
    this.emptyCommits = emptyCommits;
    this.maxLag = maxLag;
  }

  /**
   * A feed of the commits after {@code afterVersion}, exclusive: the first commit emitted is {@code
   * afterVersion + 1}; {@code after(0)} replays everything from the first commit, if the store
   * still holds it. For list-then-watch prefer {@link #after(ReadTransaction)}: a version read from
   * a plain snapshot is pinned by nothing, and under concurrent writes retention may prune past it
   * before the feed starts.
   *
   * <p>When the feed is materialized, commit {@code afterVersion + 1} must still be readable
   * ({@code afterVersion + 1} at or above the store's watermark; {@code afterVersion} itself with
   * previous values), else the feed fails with {@link ChangeFeedCompactedException}, and {@code
   * afterVersion} must be at most the latest version, else it fails with {@link
   * IllegalArgumentException}. The lag limit holds from the start: a feed that starts further
   * behind than its limit allows fails at once with {@link ChangeFeedLagException}; give a long
   * replay a higher {@link #withMaxLag limit}.
   *
   * @param afterVersion the version the consumer already has, at least 0
   * @return the options
   * @throws IllegalArgumentException if {@code afterVersion} is negative
   */
  public static ChangeFeedOptions after(long afterVersion) {
    if (afterVersion < 0) {
      throw new IllegalArgumentException("afterVersion must be >= 0, was " + afterVersion);
    }
    return new ChangeFeedOptions(afterVersion, null, KeyRange.all(), false, true, FROM_CONFIG);
  }

  /**
   * A feed of the commits after {@code transaction}'s version, which takes over the transaction's
   * pin: list, then watch, with nothing pruned in between. Read the state through the transaction,
   * materialize the feed, then close the transaction: materializing takes a share of the
   * transaction's pin on the calling thread, so the version stays pinned without a gap from the
   * transaction's read until the feed holds its own place, however busy the writers and however
   * short the retention.
   *
   * <pre>{@code
   * try (ReadTransaction tx = store.readTransaction("orders view")) {
   *   List<Entry> orders = tx.scan(KeyRange.prefix("orders/"));          // list
   *   ChangeFeed.commits(store, ChangeFeedOptions.after(tx)).run...(system); // then watch
   * }
   * }</pre>
   *
   * <p>Each materialization takes its own share, so a source made from these options can be run
   * again while the transaction is open; a materialization after the transaction closed fails the
   * feed with {@link IllegalStateException}, and one on another store's feed with {@link
   * IllegalArgumentException}. Otherwise as {@link #after(long)} with the transaction's version.
   *
   * @param transaction an open read transaction of the store the feed follows
   * @return the options
   * @throws NullPointerException if {@code transaction} is null
   * @throws IllegalStateException if {@code transaction} is closed
   */
  public static ChangeFeedOptions after(ReadTransaction transaction) {
    Objects.requireNonNull(transaction, "transaction");
    return new ChangeFeedOptions(
        transaction.version(), transaction, KeyRange.all(), false, true, FROM_CONFIG);
  }

  /**
   * A feed of the commits after the latest version at the moment the feed is materialized: live
   * commits only, no history needed.
   *
   * @return the options
   */
  public static ChangeFeedOptions fromNow() {
    return new ChangeFeedOptions(FROM_NOW, null, KeyRange.all(), false, true, FROM_CONFIG);
  }

  /**
   * A copy that emits only the changes to keys in {@code range}.
   *
   * @throws NullPointerException if {@code range} is null
   */
  public ChangeFeedOptions withRange(KeyRange range) {
    return new ChangeFeedOptions(
        afterVersion,
        transaction,
        Objects.requireNonNull(range, "range"),
        previousValues,
        emptyCommits,
        maxLag);
  }

  /**
   * A copy that reads, for each change, the key's value just before the commit ({@link
   * dev.zverse.engine.CommitRecord#previousValue(int)}); one more read per change, in the same
   * chain walk.
   */
  public ChangeFeedOptions withPreviousValues(boolean previousValues) {
    return new ChangeFeedOptions(
        afterVersion, transaction, range, previousValues, emptyCommits, maxLag);
  }

  /**
   * A copy that emits, or skips, commits with no change in the range (batches that changed nothing,
   * or nothing in the range). Emitted by default: then the feed emits one element per version, with
   * no gap, and the last element's version is always the feed's position. Skipping them is the
   * better choice for a narrow range over a busy store.
   */
  public ChangeFeedOptions withEmptyCommits(boolean emptyCommits) {
    return new ChangeFeedOptions(
        afterVersion, transaction, range, previousValues, emptyCommits, maxLag);
  }

  /**
   * A copy with its own lag limit instead of {@code zverse.streams.change-feed.max-lag}: the feed
   * may fall up to {@code maxLag} versions behind the latest version, pinning that history even
   * where the store's retention would prune it. By default a feed holds nothing beyond retention.
   *
   * @param maxLag how far, in versions, the feed may fall behind the latest version, in [1, 10^9]
   * @return the copy
   * @throws IllegalArgumentException if out of bounds
   */
  public ChangeFeedOptions withMaxLag(long maxLag) {
    return new ChangeFeedOptions(
        afterVersion,
        transaction,
        range,
        previousValues,
        emptyCommits,
        StreamsSettings.requireMaxLag(maxLag, "maxLag"));
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
      throw new IllegalStateException(
          "a feed from now starts at the version it is materialized at");
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

  /**
   * The read transaction whose pin the feed takes over.
   *
   * @return the transaction, if the feed starts {@link #after(ReadTransaction) after one}
   */
  public Optional<ReadTransaction> transaction() {
    return Optional.ofNullable(transaction);
  }

  /**
   * This feed's lag limit, else {@code settings.maxLag()}; empty if the feed is bounded by the
   * store's retention.
   */
  OptionalLong maxLag(StreamsSettings settings) {
    return maxLag == FROM_CONFIG ? settings.maxLag() : OptionalLong.of(maxLag);
  }

  /** Whether a lag limit was set on these options. */
  boolean hasMaxLag() {
    return maxLag != FROM_CONFIG;
  }

  @Override
  public String toString() {
    return "ChangeFeedOptions["
        + (isFromNow() ? "from now" : "after " + afterVersion)
        + (transaction != null ? " (read transaction of [" + transaction.owner() + "])" : "")
        + ", range="
        + range
        + ", previousValues="
        + previousValues
        + ", emptyCommits="
        + emptyCommits
        + (hasMaxLag() ? ", maxLag=" + maxLag : "")
        + "]";
  }
}
