package dev.zverse.examples;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.QueryPath;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexStats;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.LoggerFactory;

/**
 * Example 5, a temporal question: "which sensors in region eu-west reported during the incident,
 * and what did they report?", answered with the store's Z-order query.
 *
 * <p>500 sensors in 5 regions report in rounds of 100 readings, one write batch per round. The
 * example notes the wall-clock instants at which an incident began and ended, turns them into
 * versions with {@link Snapshot#versionAt(Instant)}, and asks {@link Snapshot#changes(KeyRange,
 * long, long)} for every change under {@code sensors/eu-west/} in that window of versions: a box of
 * keys × versions. The store keeps its history sorted along a Z-order (Morton) curve over (key,
 * version) in sealed segments and answers such boxes by jumping along the curve; it picks that
 * path, a walk of the keys, or a walk of the commits by its cost estimate. The example prints the
 * answer, the path chosen, and the same answer found along each path, with its time as a rough
 * indication.
 *
 * <p>The store is configured in code here ({@code zverse.stores.sensors.z-index.segment-entries}),
 * so that this small history already fills several sealed segments; an application would put the
 * same line in its {@code application.conf}.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.TemporalQuery}
 */
public final class TemporalQuery {
  /** Regions of the sensors. */
  public static final List<String> REGIONS =
      List.of("ap-south", "eu-north", "eu-west", "us-east", "us-west");

  /** Sensors per region. */
  public static final int SENSORS_PER_REGION = 100;

  /** Readings per round, each round one batch and one version. */
  public static final int READINGS_PER_ROUND = 100;

  /** Rounds written before, during and after the incident. */
  public static final int ROUNDS_BEFORE = 200;

  /** Rounds written during the incident. */
  public static final int ROUNDS_DURING = 20;

  /** Rounds written after the incident. */
  public static final int ROUNDS_AFTER = 80;

  private TemporalQuery() {}

  /**
   * The answer.
   *
   * @param fromVersion the first version of the incident window
   * @param toVersion the last version of the incident window
   * @param changes every change under {@code sensors/eu-west/} in the window, by version then key
   * @param chosen the path the store chose
   * @param byPath the answer along each forced path (all equal to {@code changes})
   * @param index the state of the Z-index that answered
   */
  public record Answer(
      long fromVersion,
      long toVersion,
      List<Change> changes,
      QueryPath chosen,
      Map<QueryPath, List<Change>> byPath,
      ZIndexStats index) {}

  /**
   * Starts an actor system, runs the example on it, and terminates it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    LoggerFactory
        .getILoggerFactory(); // logging set up on this thread first, before Pekko's threads log
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "temporal-query", config());
    try {
      run(system, System.out);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /**
   * The configuration of the example's actor system: small Z-index segments for the store {@code
   * sensors}, over the application's configuration and the defaults.
   */
  public static Config config() {
    return ConfigFactory.parseString("zverse.stores.sensors.z-index.segment-entries = 4096")
        .withFallback(ConfigFactory.load());
  }

  /**
   * Opens a store named {@code sensors} in {@code system}, writes the readings, asks the question,
   * prints the answer, and closes the store.
   *
   * @param system the actor system that runs the store, best configured with {@link #config()}; it
   *     stays up
   * @param out where the example prints
   * @return the answer
   */
  public static Answer run(ActorSystem<?> system, PrintStream out) {
    ZVerseStore store = ZVerseStore.open(system, "sensors");
    SplittableRandom random = new SplittableRandom(42);

    write(store, random, ROUNDS_BEFORE);
    Instant incidentStart = tick();
    write(store, random, ROUNDS_DURING);
    Instant incidentEnd = tick();
    write(store, random, ROUNDS_AFTER);
    out.printf(
        "%d rounds of %d readings from %d sensors: versions 1 to %d%n",
        ROUNDS_BEFORE + ROUNDS_DURING + ROUNDS_AFTER,
        READINGS_PER_ROUND,
        REGIONS.size() * SENSORS_PER_REGION,
        store.version());

    // Instants to versions: the newest version committed at or before each instant.
    long from = store.snapshot().versionAt(incidentStart) + 1;
    long to = store.snapshot().versionAt(incidentEnd);
    out.printf(
        "the incident, %s to %s, is versions %d to %d%n", incidentStart, incidentEnd, from, to);

    ZIndexStats index = awaitIndex(store);
    out.printf(
        "Z-index: %d sealed segments hold %,d changes, %,d newer ones not sealed yet%n",
        index.segments(), index.indexedChanges(), index.unsealedChanges());

    KeyRange euWest = KeyRange.prefix("sensors/eu-west/");
    List<Change> changes = store.snapshot().changes(euWest, from, to);
    Snapshot snapshot = store.snapshot();
    QueryPath chosen = snapshot.plan(euWest, from, to);
    out.printf(
        "changes(sensors/eu-west/, %d, %d): %d readings, along %s; the first five:%n",
        from, to, changes.size(), chosen);
    for (Change c : changes.subList(0, Math.min(5, changes.size()))) {
      out.printf("  v%d %s = %s%n", c.version(), c.keyUtf8(), c.valueUtf8());
    }

    Map<QueryPath, List<Change>> byPath = new EnumMap<>(QueryPath.class);
    out.println(
        "the same question along each path (best of 5 runs; a rough indication, see benchmarks/README.md):");
    for (QueryPath path :
        List.of(QueryPath.Z_INDEX, QueryPath.KEY_RANGE_WALK, QueryPath.COMMIT_WALK)) {
      List<Change> answer = List.of(); // replaced by every run below
      long micros = Long.MAX_VALUE;
      for (int run = 0; run < 5; run++) { // the best of five runs, the first ones warming up
        long start = System.nanoTime();
        answer = snapshot.changes(euWest, from, to, path);
        micros = Math.min(micros, (System.nanoTime() - start) / 1_000);
      }
      byPath.put(path, answer);
      out.printf(
          "  %-14s %4d readings in %,6d µs, %s%n",
          path, answer.size(), micros, answer.equals(changes) ? "same answer" : "DIFFERENT ANSWER");
    }

    // The store as of an instant: a scan at the version the instant maps to.
    List<Entry> asOfStart =
        store
            .snapshot()
            .scan(euWest, store.snapshot().versionAt(incidentStart), Direction.FORWARD, 3);
    out.printf("as the incident began, the first eu-west sensors read: %s%n", describe(asOfStart));

    store.close().toCompletableFuture().join();
    return new Answer(from, to, changes, chosen, byPath, index);
  }

  private static void write(ZVerseStore store, SplittableRandom random, int rounds) {
    List<CompletableFuture<Long>> writes = new ArrayList<>(rounds);
    for (int round = 0; round < rounds; round++) {
      WriteBatch.Builder batch = WriteBatch.builder();
      for (int i = 0; i < READINGS_PER_ROUND; i++) {
        String region = REGIONS.get(random.nextInt(REGIONS.size()));
        int sensor = random.nextInt(SENSORS_PER_REGION);
        batch.put(
            String.format("sensors/%s/%03d", region, sensor),
            String.format(Locale.ROOT, "%.1f", 15 + random.nextDouble() * 10));
      }
      writes.add(store.write(batch.build()).toCompletableFuture());
    }
    writes.forEach(CompletableFuture::join);
  }

  /**
   * The current instant, strictly after every commit so far and strictly before every later one. A
   * commit's time is the first microsecond after the writer's clock reading, so every later write
   * is after an instant read now; a short wait first puts the commits just acknowledged before it.
   */
  private static Instant tick() {
    sleep(1);
    return Instant.now();
  }

  /** Waits, at most a few seconds, for background sealing to finish, so the index is settled. */
  private static ZIndexStats awaitIndex(ZVerseStore store) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    ZIndexStats stats = store.snapshot().indexStats();
    while (stats.building() && System.nanoTime() < deadline) {
      sleep(5);
      stats = store.snapshot().indexStats();
    }
    return stats;
  }

  private static String describe(List<Entry> entries) {
    List<String> parts = new ArrayList<>();
    for (Entry e : entries) {
      parts.add(e.keyUtf8().substring("sensors/eu-west/".length()) + " = " + e.valueUtf8());
    }
    return String.join(", ", parts);
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
