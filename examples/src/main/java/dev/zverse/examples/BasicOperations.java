package dev.zverse.examples;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.WriteBatch;
import java.io.PrintStream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.LoggerFactory;

/**
 * Example 1, the basic operations of a store in an actor system: put, get, get at an old version,
 * delete, history and scans. Every write takes the next version; every version stays readable until
 * the retention policy lets it go.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.BasicOperations}
 */
public final class BasicOperations {
  private BasicOperations() {}

  /**
   * Starts an actor system, runs the example on it, and terminates it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    LoggerFactory
        .getILoggerFactory(); // logging set up on this thread first, before Pekko's threads log
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "basic-operations");
    try {
      run(system, System.out);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /**
   * Opens a store named {@code basic} in {@code system}, works with it, printing what each read
   * sees, and closes it.
   *
   * @param system the actor system that runs the store; it stays up
   * @param out where the example prints
   */
  public static void run(ActorSystem<?> system, PrintStream out) {
    ZVerseStore store = ZVerseStore.open(system, "basic");

    // Each put is a batch of one: it completes with the version it committed as.
    long v1 = store.put("key1", "value1").toCompletableFuture().join();
    long v2 = store.put("key2", "value2").toCompletableFuture().join();
    long v3 = store.put("key1", "value1-updated").toCompletableFuture().join();
    out.printf("put key1, key2, key1 again: versions %d, %d, %d%n", v1, v2, v3);

    // Reads take no message and no lock: they read the latest published snapshot.
    out.printf("get(key1)        = %s%n", store.get("key1"));
    out.printf("get(key1, v%d)    = %s%n", v1, store.snapshot().get("key1", v1));

    long v4 = store.delete("key2").toCompletableFuture().join();
    out.printf(
        "delete(key2): version %d; get(key2) = %s, get(key2, v%d) = %s%n",
        v4, store.get("key2"), v3, store.snapshot().get("key2", v3));

    out.println("history(key2), deletes included:");
    for (Change c : store.snapshot().history("key2", 0, store.version())) {
      out.printf("  v%d %s%n", c.version(), c.isDelete() ? "deleted" : "= " + c.valueUtf8());
    }

    long v5 =
        store
            .write(
                WriteBatch.builder()
                    .put("users/ada", "Ada Lovelace")
                    .put("users/alan", "Alan Turing")
                    .put("users/grace", "Grace Hopper")
                    .build())
            .toCompletableFuture()
            .join();
    long v6 = store.put("users/grace", "Rear Admiral Grace Hopper").toCompletableFuture().join();
    out.printf("three users in one batch: version %d; grace updated: version %d%n", v5, v6);

    out.println("scan(users/):");
    for (Entry e : store.snapshot().scan(KeyRange.prefix("users/"))) {
      out.printf(
          "  %s = %s (created v%d, changed v%d)%n",
          e.keyUtf8(), e.valueUtf8(), e.createVersion(), e.modVersion());
    }
    out.printf("scan(users/) at v%d, newest key first, at most 2:%n", v5);
    for (Entry e : store.snapshot().scan(KeyRange.prefix("users/"), v5, Direction.REVERSE, 2)) {
      out.printf("  %s = %s%n", e.keyUtf8(), e.valueUtf8());
    }

    store.close().toCompletableFuture().join();
    out.println("closed at version " + v6);
  }
}
