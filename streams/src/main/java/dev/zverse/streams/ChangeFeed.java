package dev.zverse.streams;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.CommitRecord;
import java.util.Objects;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Change feeds: sources of a store's commits from a chosen version on, replayed from the retained
 * history and then live, with no gap and no duplicate between the two, in version order.
 *
 * <pre>{@code
 * // list, then watch: read a state, then follow every commit after it
 * try (ReadTransaction tx = store.readTransaction("orders view")) {
 *   List<Entry> orders = tx.scan(KeyRange.prefix("orders/"));
 *   ChangeFeed.commits(store, ChangeFeedOptions.after(tx).withRange(KeyRange.prefix("orders/")))
 *       .runForeach(commit -> apply(commit), system); // takes over the pin of tx here
 * }
 * }</pre>
 *
 * The feed started {@linkplain ChangeFeedOptions#after(dev.zverse.actors.ReadTransaction) after a
 * read transaction} takes a share of the transaction's pin when it is materialized, so the listed
 * version stays pinned without a gap until the feed holds its own place, whatever the writers and
 * the retention do meanwhile. A feed {@linkplain ChangeFeedOptions#after(long) after a plain
 * version} is pinned only from its materialization on: under concurrent writes with a short
 * retention, the version may be pruned before that, and the feed then fails with {@link
 * ChangeFeedCompactedException}.
 *
 * <h2>Elements</h2>
 *
 * {@link #commits} emits one {@link CommitRecord} per commit: its version, commit time and changes
 * in key order (each a key with its new value or a tombstone), with each key's previous value if
 * {@link ChangeFeedOptions#withPreviousValues asked for}. By default every version is emitted, also
 * a commit with no change in the range (a delete of an absent key, or a batch that touched other
 * keys), so the versions run without a gap; {@link ChangeFeedOptions#withEmptyCommits(boolean)}
 * skips those. {@link #changes} emits the changes one by one.
 *
 * <h2>Back-pressure and memory</h2>
 *
 * The feed reads a commit only when its consumer pulls; it holds no buffer, and a slow consumer
 * never slows the writer (the writer only sets a flag per feed on each publish). The feed pins the
 * oldest version it still needs, so that pruning keeps what it has not read, but by default only as
 * far as the store's retention keeps history anyway ({@code zverse.streams.change-feed.max-lag =
 * retention}): a feed that falls further behind fails with {@link ChangeFeedLagException}, and
 * compaction wins over a slow consumer. A lag limit in versions ({@code max-lag}, or {@link
 * ChangeFeedOptions#withMaxLag} per feed) lets a feed hold history past retention up to that many
 * versions behind the latest. A feed asked to start where its first commit is pruned fails with
 * {@link ChangeFeedCompactedException}: a feed never skips silently. Both errors are {@link
 * dev.zverse.engine.VersionCompactedException}s whose {@code watermark()} is where history starts
 * once the feed has let go. Cancelling a feed, or its failure or completion, releases its pin.
 *
 * <h2>Life cycle</h2>
 *
 * Each materialization is an independent feed that pins when it is materialized (on the calling
 * thread, without waiting) and registers when it starts: a source can be run many times. A feed
 * completes once the store is closed and it has emitted everything committed before. A feed
 * materialized on a closed store fails with {@link IllegalStateException}. A feed refused at the
 * start fails its stream with the error, quietly: Pekko logs no ERROR for it. Nothing is global:
 * the lag limit comes from the configuration of the actor system the stream runs in, when the
 * options do not set one.
 *
 * <p>Thread-safe: the factories may be called from any thread.
 */
public final class ChangeFeed {
  private ChangeFeed() {}

  /**
   * A source of the commits of {@code store} as {@code options} say: one element per commit.
   *
   * @param store the store to follow
   * @param options where to start and what to emit; a read transaction in them must be of {@code
   *     store}, else the feed fails with {@link IllegalArgumentException}
   * @return a source; each materialization is a new feed
   * @throws NullPointerException if an argument is null
   */
  public static Source<CommitRecord, NotUsed> commits(
      ZVerseStore store, ChangeFeedOptions options) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(options, "options");
    return Source.fromGraph(new ChangeFeedStage(store, options, null));
  }

  /**
   * {@link #commits(ZVerseStore, ChangeFeedOptions)} with explicit settings instead of those of the
   * actor system the stream runs in (options that set a lag limit still win): the way to give the
   * feeds of one store a lag limit of their own.
   *
   * @param store the store to follow
   * @param options where to start and what to emit
   * @param settings the lag limit when the options set none
   * @return a source; each materialization is a new feed
   * @throws NullPointerException if an argument is null
   */
  public static Source<CommitRecord, NotUsed> commits(
      ZVerseStore store, ChangeFeedOptions options, StreamsSettings settings) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(settings, "settings");
    return Source.fromGraph(new ChangeFeedStage(store, options, settings));
  }

  /**
   * A source of the changes of {@code store} as {@code options} say, one element per changed key:
   * the commits of {@link #commits(ZVerseStore, ChangeFeedOptions)} flattened, in version order and
   * then key order. Each {@link Change} carries its version; for commit times or previous values,
   * follow {@link #commits} instead.
   *
   * @param store the store to follow
   * @param options where to start and which keys; {@link ChangeFeedOptions#emptyCommits()} does not
   *     matter here
   * @return a source; each materialization is a new feed
   * @throws NullPointerException if an argument is null
   */
  public static Source<Change, NotUsed> changes(ZVerseStore store, ChangeFeedOptions options) {
    Objects.requireNonNull(options, "options");
    return commits(store, options.withEmptyCommits(false)).mapConcat(CommitRecord::changes);
  }
}
