package dev.zverse.examples;

import dev.zverse.actors.EpochStats;
import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Direction;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.DurableLog;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Limits;
import dev.zverse.engine.QueryPath;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.VersionCompactedException;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexOptions;
import dev.zverse.streams.ChangeFeed;
import dev.zverse.streams.ChangeFeedOptions;
import dev.zverse.streams.SnapshotSource;
import dev.zverse.streams.WriteFlow;
import dev.zverse.streams.WriteResult;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.LoggerFactory;

/**
 * The Java snippets of the top-level README.md, compiled by the build. Each snippet sits between
 * {@code // tag::name[]} and {@code // end::name[]}; {@code ReadmeTest} checks that every Java
 * block of the README appears here verbatim (up to indentation), and {@code ReadmeSnippetsTest}
 * runs them. Change a snippet here first, then paste it into the README.
 */
final class ReadmeSnippets {
  // spotless:off (the README quotes this file verbatim, laid out for reading)
  private ReadmeSnippets() {}

  /** Versions that the snippets pass on to each other. */
  record Versions(long v1, long v2, long v3) {}

  /** What {@link #open()} opened. */
  record Opened(ActorSystem<Void> system, ZVerseStore store) {}

  static Opened open() {
    // tag::open[]
    LoggerFactory.getILoggerFactory(); // SLF4J set up before the actor system's threads log
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "my-app");
    ZVerseStore store = ZVerseStore.open(system, "orders"); // configured by zverse.stores.orders
    // end::open[]
    return new Opened(system, store);
  }

  static Versions writes(ZVerseStore store) {
    // tag::writes[]
    long v1 = store.put("orders/1001", "open").toCompletableFuture().join(); // its version
    long v2 = store.write(WriteBatch.builder() // one batch: all or nothing, one version
            .put("orders/1002", "open")
            .put("customers/ada/last-order", "1002")
            .delete("carts/ada")
            .deleteRange(KeyRange.prefix("holds/ada/"))
            .build())
        .toCompletableFuture().join();
    long v3 = store.delete("orders/1002").toCompletableFuture().join(); // a delete takes one too
    // end::writes[]
    return new Versions(v1, v2, v3);
  }

  static String[] readsAtVersion(ZVerseStore store, Versions versions) {
    long v1 = versions.v1();
    // tag::read-at-version[]
    String now = store.get("orders/1001"); // the latest snapshot: one atomic load, no message
    String none = store.get("orders/9999"); // null: the key has no value
    Snapshot snapshot = store.snapshot(); // the whole store at one version; never changes
    String then = snapshot.get("orders/1001", v1); // as it was at version v1
    Entry entry = snapshot.entry("orders/1001"); // value, createVersion(), modVersion()
    long minuteAgo = snapshot.versionAt(Instant.now().minusSeconds(60)); // a time, as a version
    // end::read-at-version[]
    String version = Long.toString(snapshot.version());
    String entryValue = entry == null ? null : entry.valueUtf8();
    return new String[] {now, then, none, entryValue, Long.toString(minuteAgo), version};
  }

  static List<Entry> scans(ZVerseStore store, Versions versions) {
    long v2 = versions.v2();
    // tag::scan[]
    Snapshot snapshot = store.snapshot();
    for (Entry e : snapshot.scan(KeyRange.prefix("orders/"))) { // key order, at its version
      System.out.println(e.keyUtf8() + " = " + e.valueUtf8());
    }
    List<Entry> lastTwo = snapshot.scan(KeyRange.prefix("orders/"), v2, Direction.REVERSE, 2);
    try (ReadTransaction tx = store.readTransaction()) { // large ranges: a lazy iterator
      Iterator<Entry> all = tx.snapshot().iterator(KeyRange.all(), Direction.FORWARD);
      while (all.hasNext()) {
        System.out.println(all.next());
      }
    }
    // end::scan[]
    return lastTwo;
  }

  static List<Change> history(ZVerseStore store) {
    // tag::history[]
    Snapshot snapshot = store.snapshot();
    long oldest = snapshot.watermark(); // the oldest version still readable
    List<Change> changes = snapshot.history("orders/1002", oldest, snapshot.version());
    for (Change c : changes) { // oldest first, deletes included
      System.out.println("v" + c.version() + (c.isDelete() ? " deleted" : " = " + c.valueUtf8()));
    }
    // end::history[]
    return changes;
  }

  // The README's snippet reads orders/1001, which the earlier snippets wrote: entry is not null.
  @SuppressWarnings("NullAway")
  static CompletionStage<Long> transaction(ZVerseStore store) {
    // tag::transaction[]
    Entry order = store.snapshot().entry("orders/1001");
    CompletionStage<Long> paid = store.write(WriteBatch.builder()
        .requireModVersion("orders/1001", order.modVersion()) // unchanged since read
        .requireAbsent("payments/1001") // and not paid yet
        .put("orders/1001", "paid")
        .put("payments/1001", "42.00 EUR")
        .build());
    paid.whenComplete((version, failure) -> {
      if (failure instanceof ConditionFailedException refused) { // nothing was written
        refused.failures().forEach(f -> System.out.println("refused: " + f));
      }
    });
    // end::transaction[]
    return paid;
  }

  static long[] readTransaction(ZVerseStore store) {
    // tag::read-transaction[]
    try (ReadTransaction tx = store.readTransaction()) { // one version for all, pinned till closed
      Snapshot snapshot = tx.snapshot(); // at tx.version(), which stays readable while tx is open
      String status = snapshot.get("orders/1001");
      long payments = snapshot.count(KeyRange.prefix("payments/"));
      List<Entry> orders = snapshot.scan(KeyRange.prefix("orders/"));
      System.out.println(status + ", " + payments + " payments, " + orders.size() + " orders at v" + tx.version());
    }
    // end::read-transaction[]
    try (ReadTransaction tx = store.readTransaction()) {
      return new long[] {tx.version(), tx.snapshot().count(KeyRange.prefix("payments/"))};
    }
  }

  /** What {@link #changeFeed} started: the feed's switch and the state it listed. */
  record Following(UniqueKillSwitch feed, List<Entry> orders) {}

  static Following changeFeed(ActorSystem<?> system, ZVerseStore store) {
    // tag::change-feed[]
    List<Entry> orders;
    UniqueKillSwitch feed;
    try (ReadTransaction tx = store.readTransaction("orders view")) { // list at one version...
      orders = tx.snapshot().scan(KeyRange.prefix("orders/"));
      feed = // ...then watch: every commit after it, replayed, then live
          ChangeFeed.commits(store, ChangeFeedOptions.after(tx) // exclusive; takes over tx's pin
                  .withRange(KeyRange.prefix("orders/"))
                  .withPreviousValues(true))
              .viaMat(KillSwitches.single(), Keep.right())
              .to(Sink.foreach(commit -> {
                for (int i = 0; i < commit.size(); i++) { // its changes in the range, by key
                  Change c = commit.changes().get(i);
                  String now = c.isDelete() ? "deleted" : c.valueUtf8();
                  System.out.println("v" + commit.version() + " " + c.keyUtf8() + ": "
                      + commit.previousValueUtf8(i) + " -> " + now);
                }
              }))
              .run(system); // materialized before tx closes: no version is pruned in between
    }
    // end::change-feed[]
    return new Following(feed, orders);
  }

  static void stopFollowing(UniqueKillSwitch feed) {
    // tag::change-feed-cancel[]
    feed.shutdown(); // cancels the feed; its pin is released
    // end::change-feed-cancel[]
  }

  static CompletionStage<Done> flattenedFeed(ActorSystem<?> system, ZVerseStore store) {
    // tag::change-feed-flat[]
    CompletionStage<Done> done = // completes once the store is closed and everything before was emitted
        ChangeFeed.changes(store, ChangeFeedOptions.after(0).withRange(KeyRange.prefix("orders/")))
            .runForeach(c -> System.out.println(c), system); // one Change per key, with its version
    // end::change-feed-flat[]
    return done;
  }

  /** What {@link #streams} started. */
  record Streamed(Source<Snapshot, NotUsed> latest, CompletionStage<Done> loaded, CompletionStage<List<WriteResult>> results) {}

  static Streamed streams(ActorSystem<?> system, ZVerseStore store, List<WriteBatch> batches) {
    // tag::streams[]
    Source<Snapshot, NotUsed> latest = SnapshotSource.create(store); // newest state after each publish, conflated
    CompletionStage<Done> loaded = // batches commit in order, write-flow.parallelism in flight
        Source.from(batches).runWith(WriteFlow.sink(store), system); // fails on the first refused batch
    CompletionStage<List<WriteResult>> results = // one WriteResult per batch, committed or not
        Source.from(batches).via(WriteFlow.results(store)).runWith(Sink.seq(), system);
    // end::streams[]
    return new Streamed(latest, loaded, results);
  }

  static ZVerseStore durableStore(ActorSystem<?> system, Path directory) {
    // tag::durable[]
    StoreSettings durable = StoreSettings.create(system, "ledger")
        .withDataDirectory(directory) // created if missing; locked while the store is open
        // the durability section; every-commit is the default: no crash loses an acknowledged write
        .withDurability(d -> d.withSync(SyncPolicy.EVERY_COMMIT));
    ZVerseStore ledger = ZVerseStore.open(system, "ledger", durable); // recovers the directory
    System.out.println(ledger.recoveryReport().orElseThrow()); // the checkpoint loaded, records replayed
    // end::durable[]
    return ledger;
  }

  static List<Change> changes(ZVerseStore store, Versions versions) {
    long v1 = versions.v1();
    // tag::changes[]
    KeyRange orders = KeyRange.prefix("orders/");
    Snapshot snapshot = store.snapshot();
    List<Change> changed = snapshot.changes(orders, v1, snapshot.version()); // by version, then key
    QueryPath path = snapshot.plan(orders, v1, snapshot.version()); // how it was answered
    // end::changes[]
    System.out.println(path + " " + changed);
    return changed;
  }

  static ZVerseStore configuredInCode(ActorSystem<?> system) {
    // tag::settings[]
    StoreSettings settings = StoreSettings.create(system, "audit") // zverse.stores.audit, then zverse.store
        .withRetentionVersions(100_000)
        .withRetentionDuration(Duration.ofHours(1))
        .withMaxPendingWrites(50_000);
    ZVerseStore audit = ZVerseStore.open(system, "audit", settings);
    // end::settings[]
    return audit;
  }

  static EpochStats monitoring(ZVerseStore store) {
    // tag::epoch-stats[]
    EpochStats stats = store.epochStats().toCompletableFuture().join();
    System.out.println("version " + stats.version() + ", readable from " + stats.watermark()
        + ", " + stats.pins() + " pins (read transactions, change feeds), the oldest for " + stats.oldestPinAge());
    // end::epoch-stats[]
    return stats;
  }

  static long compacted(ZVerseStore store) {
    long watermark = -1;
    // tag::compacted[]
    try {
      store.snapshot().get("orders/1001", 1);
    } catch (VersionCompactedException e) { // version 1 is below the retention watermark
      watermark = e.watermark(); // the oldest version still readable
    }
    // end::compacted[]
    return watermark;
  }

  static void close(ActorSystem<Void> system, ZVerseStore store) {
    // tag::close[]
    store.close(); // coordinated shutdown also closes it
    system.terminate();
    // end::close[]
  }

  static String engineAlone() {
    // tag::engine[]
    Snapshot s0 = Snapshot.empty(); // version 0; the engine alone, no actors
    Snapshot s1 = s0.apply(WriteBatch.ofPut("key1", "value1")); // version 1
    Snapshot s2 = s1.apply(WriteBatch.ofPut("key1", "value2")); // version 2; s1 is unchanged
    String old = s2.get("key1", 1); // "value1"
    Snapshot pruned = s2.prune(2); // drops what only reads below version 2 need
    // end::engine[]
    return old + " " + s1.get("key1") + " " + pruned.watermark();
  }

  static long durableEngine(Path directory) throws IOException {
    // tag::durable-log[]
    try (DurableLog log =
        DurableLog.open(DurabilityOptions.in(directory), Limits.defaults(), ZIndexOptions.defaults())) {
      Snapshot recovered = log.recovered(); // the last durable state
      Snapshot next = recovered.apply(WriteBatch.ofPut("k", "v"));
      log.append(recovered, next); // one checksummed record, on the disk before it returns
      log.checkpoint(next); // bounds recovery time; old log segments go
    }
    // end::durable-log[]
    try (DurableLog log =
        DurableLog.open(DurabilityOptions.in(directory), Limits.defaults(), ZIndexOptions.defaults())) {
      return log.recovered().version();
    }
  }
  // spotless:on
}
