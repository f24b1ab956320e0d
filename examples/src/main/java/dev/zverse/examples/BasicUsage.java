package dev.zverse.examples;

import dev.zverse.engine.Change;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Stats;
import dev.zverse.engine.VersionCompactedException;
import dev.zverse.engine.WriteBatch;

/**
 * The engine on its own, without actors: put, get, get at an old version, delete, history, scans, a
 * conditional batch and pruning. Every write returns a new immutable snapshot; older snapshots stay
 * valid.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.BasicUsage}
 */
public final class BasicUsage {
  private BasicUsage() {}

  /**
   * Runs the example, printing what each read sees.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    // [basic-writes]
    Snapshot store = Snapshot.empty(); // version 0
    store = store.apply(WriteBatch.ofPut("key1", "value1")); // version 1
    long version1 = store.version();
    store = store.apply(WriteBatch.ofPut("key2", "value2")); // version 2
    store = store.apply(WriteBatch.ofPut("key1", "value1-updated")); // version 3
    // [basic-writes]

    // [basic-reads]
    String latest = store.get("key1"); // "value1-updated"
    String historical = store.get("key1", version1); // "value1"
    // [basic-reads]
    System.out.printf("key1 now (v%d): %s%n", store.version(), latest);
    System.out.printf("key1 at v%d:     %s%n", version1, historical);

    store = store.apply(WriteBatch.ofDelete("key2")); // version 4: a tombstone
    System.out.printf(
        "key2 now (v%d): %s, at v3: %s%n",
        store.version(), store.get("key2"), store.get("key2", 3));

    System.out.println("history of key1:");
    for (Change c : store.history("key1", store.watermark(), store.version())) {
      System.out.println("  " + c);
    }

    // [transaction]
    store =
        store.apply(
            WriteBatch.builder()
                .put("orders/1001", "pending")
                .put("orders/1002", "pending")
                .put("orders/1003", "shipped")
                .put("users/ada", "admin")
                .build()); // one batch, one version
    Entry order = store.entry("orders/1001");
    if (order == null) {
      throw new IllegalStateException("orders/1001 was put just above");
    }
    try {
      store.apply(
          WriteBatch.builder()
              .requireModVersion("orders/1001", order.modVersion() - 1) // stale: fails
              .requireAbsent("users/ada") // present: fails
              .put("orders/1001", "paid")
              .build());
    } catch (ConditionFailedException e) {
      System.out.println("refused: " + e.getMessage());
    }
    store =
        store.apply(
            WriteBatch.builder()
                .requireModVersion("orders/1001", order.modVersion()) // holds
                .put("orders/1001", "paid")
                .build());
    // [transaction]

    // [scan]
    System.out.println("orders/ now:");
    for (Entry e : store.scan(KeyRange.prefix("orders/"))) {
      System.out.printf(
          "  %s = %s (created v%d, changed v%d)%n",
          e.keyUtf8(), e.valueUtf8(), e.createVersion(), e.modVersion());
    }
    System.out.println("orders/ newest two, in reverse, one version ago:");
    for (Entry e :
        store.scan(KeyRange.prefix("orders/"), store.version() - 1, Direction.REVERSE, 2)) {
      System.out.printf("  %s = %s%n", e.keyUtf8(), e.valueUtf8());
    }
    // [scan]

    // [prune]
    Snapshot beforePrune = store;
    store = store.prune(store.version() - 1); // keep the last two versions readable
    try {
      store.get("key1", version1);
    } catch (VersionCompactedException e) {
      System.out.println("pruned: " + e.getMessage());
    }
    System.out.println(
        "a snapshot held from before the prune still reads v1: "
            + beforePrune.get("key1", version1));
    // [prune]

    Stats stats = store.stats();
    System.out.printf(
        "stats: version %d, watermark %d, %d live keys, %d stored versions, ~%d bytes%n",
        stats.version(),
        stats.watermark(),
        stats.liveKeys(),
        stats.storedVersions(),
        stats.approximateBytes());
  }
}
