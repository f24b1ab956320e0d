package dev.zverse.examples;

import dev.zverse.actors.EpochStats;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.streams.ChangeFeed;
import dev.zverse.streams.ChangeFeedLagException;
import dev.zverse.streams.ChangeFeedOptions;
import dev.zverse.streams.SnapshotSource;
import dev.zverse.streams.WriteFlow;
import dev.zverse.streams.WriteResult;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.LoggerFactory;

/**
 * Example 4, change feeds: a Pekko Streams source of a store's commits that replays the retained
 * history from a chosen version, keeps to a key range, and then stays live while a writer commits.
 *
 * <p>A shop writes orders, customers and payments into one store. The example
 *
 * <ol>
 *   <li>follows {@code orders/} commit by commit after version 1 ({@link ChangeFeed#commits}, with
 *       previous values, commits without an order change skipped): it replays versions 3 and 4 out
 *       of the history, waits when it has caught up, and delivers the commits a {@link WriteFlow}
 *       makes meanwhile; the feed pins its place (one pin in {@link ZVerseStore#epochStats()}) and
 *       cancelling it releases the pin;
 *   <li>follows the same range change by change ({@link ChangeFeed#changes}, the flattened variant)
 *       from version 0 until the store closes;
 *   <li>shows a feed that starts further behind than its lag limit failing at once with {@link
 *       ChangeFeedLagException} rather than skipping anything;
 *   <li>watches the newest state with {@link SnapshotSource} while {@link WriteFlow#results} writes
 *       conditional batches, one of which is refused without failing the stream.
 * </ol>
 *
 * <p>Everything the feeds deliver is printed by the main thread, which pulls the feeds through
 * {@link Sink#queue()}, so the output is the same on every run.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.ChangeFeeds}
 */
public final class ChangeFeeds {
  private static final long TIMEOUT_SECONDS = 20;

  private ChangeFeeds() {}

  /**
   * What the example saw.
   *
   * @param perCommit the per-commit feed's elements, one line each, as printed
   * @param pinsWhileFollowing the store's pins while the per-commit feed ran
   * @param pinsAfterCancel the store's pins once it was cancelled
   * @param written the versions the write flow committed
   * @param lagFailure the failure of the feed that started too far behind
   * @param snapshotVersions the versions of the snapshots the snapshot source emitted
   * @param results the write-flow results of the conditional batches
   * @param flattened the flattened feed's changes, from version 0 until the store closed
   */
  public record Seen(
      List<String> perCommit,
      int pinsWhileFollowing,
      int pinsAfterCancel,
      List<Long> written,
      Throwable lagFailure,
      List<Long> snapshotVersions,
      List<WriteResult> results,
      List<Change> flattened) {}

  /**
   * Starts an actor system, runs the example on it, and terminates it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    LoggerFactory
        .getILoggerFactory(); // logging set up on this thread first, before Pekko's threads log
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "change-feeds");
    try {
      run(system, System.out);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /**
   * Opens a store named {@code shop} in {@code system}, follows it with change feeds while writing
   * to it, prints what the feeds deliver, and closes it.
   *
   * @param system the actor system that runs the store and the streams; it stays up
   * @param out where the example prints
   * @return what the feeds delivered
   */
  public static Seen run(ActorSystem<?> system, PrintStream out) {
    ZVerseStore store = ZVerseStore.open(system, "shop");
    KeyRange orders = KeyRange.prefix("orders/");

    // Some history before any feed exists.
    await(store.put("orders/1001", "open")); // v1
    await(store.put("customers/ada", "Ada Lovelace")); // v2, not an order
    await(store.put("orders/1002", "open")); // v3
    await(
        store.write(
            WriteBatch.builder()
                .put("orders/1001", "paid")
                .put("payments/1001", "42.00 EUR")
                .build())); // v4
    long before = store.version();
    out.printf("history: versions 1 to %d, orders and other keys%n", before);

    // 1. Per commit, with previous values, commits without an order change skipped.
    out.println("a feed of orders/ after version 1, per commit, with previous values:");
    SinkQueueWithCancel<CommitRecord> feed =
        ChangeFeed.commits(
                store,
                ChangeFeedOptions.after(1) // exclusive: the first commit it can emit is version 2
                    .withRange(orders)
                    .withPreviousValues(true)
                    .withEmptyCommits(false))
            .toMat(Sink.queue(), Keep.right())
            .run(system);
    List<String> perCommit = new ArrayList<>();
    CompletionStage<Optional<CommitRecord>> next = feed.pull();
    while (true) {
      CommitRecord c = await(next).orElseThrow();
      perCommit.add(describe(c, "replayed"));
      out.println(perCommit.get(perCommit.size() - 1));
      next = feed.pull();
      if (c.version() == before) {
        break;
      }
    }
    sleep(50);
    out.printf(
        "  caught up at v%d: the next pull %s%n",
        before, next.toCompletableFuture().isDone() ? "DID NOT WAIT" : "waits for the next commit");
    int pinsWhileFollowing = awaitStats(store, s -> s.pins() == 1).pins();
    out.printf(
        "  store.epochStats(): %d pin, the feed's (retention keeps what it has not read)%n",
        pinsWhileFollowing);

    // A writer commits while the feed is live: four batches through a write flow, in order.
    List<WriteBatch> batches =
        List.of(
            WriteBatch.builder()
                .put("orders/1002", "paid")
                .put("payments/1002", "18.50 EUR")
                .build(),
            WriteBatch.ofPut("customers/grace", "Grace Hopper"),
            WriteBatch.ofPut("orders/1001", "shipped"),
            WriteBatch.builder().delete("orders/1002").put("orders/1003", "open").build());
    List<Long> written =
        await(Source.from(batches).via(WriteFlow.create(store, 4)).runWith(Sink.seq(), system));
    long last = written.get(written.size() - 1);
    while (true) {
      CommitRecord c = await(next).orElseThrow();
      perCommit.add(describe(c, "live    "));
      out.println(perCommit.get(perCommit.size() - 1));
      if (c.version() == last) {
        break;
      }
      next = feed.pull();
    }
    out.printf(
        "  the write flow committed versions %s; v%d touched no order, so the feed skipped it%n",
        written, written.get(1));
    feed.cancel();
    int pinsAfterCancel = awaitStats(store, s -> s.pins() == 0).pins();
    out.printf(
        "  cancelled: store.epochStats() shows %d pins, history can be pruned again%n",
        pinsAfterCancel);

    // 2. Flattened: one element per changed key. Collected until the store closes, below.
    CompletionStage<List<Change>> flattened =
        ChangeFeed.changes(store, ChangeFeedOptions.after(0).withRange(orders))
            .runWith(Sink.seq(), system);
    awaitStats(store, s -> s.pins() == 1); // started: a feed materialized on a closed store fails

    // 3. A feed never skips: one that starts more than its lag limit behind fails at once.
    Throwable lagFailure =
        awaitFailure(
            ChangeFeed.commits(store, ChangeFeedOptions.after(0).withMaxLag(2))
                .runWith(Sink.head(), system));
    out.printf(
        "a feed after version 0 with max-lag 2 fails: %s%n", lagFailure.getClass().getSimpleName());
    out.printf("  %s%n", lagFailure.getMessage());

    // 4. The newest state after each publish, while a write flow commits conditional batches.
    SinkQueueWithCancel<Snapshot> snapshots =
        SnapshotSource.create(store).toMat(Sink.queue(), Keep.right()).run(system);
    List<Long> snapshotVersions = new ArrayList<>();
    Snapshot first = await(snapshots.pull()).orElseThrow();
    snapshotVersions.add(first.version());
    out.printf(
        "SnapshotSource: first the latest snapshot, v%d, with %d orders%n",
        first.version(), first.count(orders, first.version()));
    WriteBatch open1004 =
        WriteBatch.builder().requireAbsent("orders/1004").put("orders/1004", "open").build();
    List<WriteResult> results =
        await(
            Source.from(List.of(open1004, open1004))
                .via(WriteFlow.results(store, 2))
                .runWith(Sink.seq(), system));
    for (WriteResult r : results) {
      out.printf(
          "  WriteFlow.results: %s%n",
          r.isCommitted()
              ? "committed at v" + r.version()
              : "not committed, "
                  + Objects.requireNonNull(r.failure(), "failure").getClass().getSimpleName());
    }
    Snapshot newer = await(snapshots.pull()).orElseThrow();
    snapshotVersions.add(newer.version());
    out.printf(
        "SnapshotSource: then v%d, with %d orders (the refused batch took no version)%n",
        newer.version(), newer.count(orders, newer.version()));
    snapshots.cancel();

    await(store.close());
    List<Change> changes = await(flattened);
    out.printf(
        "the store closed; the flattened feed of orders/ after version 0 completed with %d changes:%n",
        changes.size());
    for (Change c : changes) {
      out.printf(
          "  v%d %s %s%n",
          c.version(), c.keyUtf8(), c.isDelete() ? "deleted" : "= " + c.valueUtf8());
    }
    return new Seen(
        perCommit,
        pinsWhileFollowing,
        pinsAfterCancel,
        written,
        lagFailure,
        snapshotVersions,
        results,
        changes);
  }

  /** One commit as a line: each changed key with its value before and after. */
  private static String describe(CommitRecord c, String how) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < c.size(); i++) {
      Change change = c.changes().get(i);
      String previous = c.previousValueUtf8(i);
      parts.add(
          change.keyUtf8()
              + ": "
              + (previous == null ? "(absent)" : previous)
              + " -> "
              + (change.isDelete() ? "(deleted)" : change.valueUtf8()));
    }
    return "  v" + c.version() + " " + how + " " + String.join("; ", parts);
  }

  private static EpochStats awaitStats(ZVerseStore store, Predicate<EpochStats> condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    EpochStats stats = await(store.epochStats());
    while (!condition.test(stats)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the store did not reach the expected state; last " + stats);
      }
      sleep(5);
      stats = await(store.epochStats());
    }
    return stats;
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new CompletionException(e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("no answer within " + TIMEOUT_SECONDS + " s", e);
    }
  }

  private static Throwable awaitFailure(CompletionStage<?> stage) {
    try {
      Object value = await(stage);
      throw new IllegalStateException("expected a failure, got " + value);
    } catch (CompletionException e) {
      return e.getCause() != null ? e.getCause() : e;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
