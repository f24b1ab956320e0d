package dev.zverse.metrics;

import dev.zverse.cluster.ClusterStore;
import dev.zverse.cluster.ReplicaStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * Binds the standing of this node's replica of a cluster store ({@link ClusterStore#status()}) to a
 * Micrometer {@link MeterRegistry}: gauges named {@code zverse.replica.*}, each tagged {@code
 * store=<name>} plus the extra tags given. Each gauge reads {@code status()} when the registry
 * publishes (no message, no lock), so the replica records nothing for Micrometer.
 *
 * <pre>{@code
 * new ClusterStoreMeterBinder(clusterStore).bindTo(registry);
 * new StoreMeterBinder(clusterStore.replica()).bindTo(registry);
 * }</pre>
 *
 * <p>The cluster module is an optional dependency of this module: an application that uses this
 * binder has {@code zverse-cluster} already, and one that does not never loads this class. The
 * replica's own store figures (its version, pins, change feeds) come from a {@link
 * StoreMeterBinder} of {@link ClusterStore#replica()}, as above.
 *
 * <p>The meters hold the cluster store strongly and keep reading its last status after it closes.
 * Immutable and thread-safe.
 */
public final class ClusterStoreMeterBinder implements MeterBinder {
  /** The prefix of every meter's name. */
  public static final String PREFIX = "zverse.replica.";

  private final ClusterStore store;
  private final Tags tags;

  /**
   * A binder of {@code store}'s replica meters, tagged with its name.
   *
   * @param store the cluster store on this node
   * @throws NullPointerException if {@code store} is null
   */
  public ClusterStoreMeterBinder(ClusterStore store) {
    this(store, Tags.empty());
  }

  /**
   * A binder of {@code store}'s replica meters, tagged with its name and {@code extraTags}.
   *
   * @param store the cluster store on this node
   * @param extraTags more tags for every meter (an application or node name); must not hold the key
   *     {@code store}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code extraTags} holds the key {@code store}
   */
  public ClusterStoreMeterBinder(ClusterStore store, Iterable<Tag> extraTags) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(extraTags, "extraTags");
    this.store = store;
    this.tags = StoreMeterBinder.storeTags(store.name(), extraTags);
  }

  /**
   * Registers the replica's gauges: {@code applied.version}, {@code writer.version}, {@code
   * lag.versions}, {@code lag.time}, {@code catching.up}, {@code writer.reachable} and {@code
   * failed}, the last three 1 for true and 0 for false.
   *
   * @param registry the registry, not null
   * @throws NullPointerException if {@code registry} is null
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    gauge(
        registry,
        "applied.version",
        "the version the replica has published: what its reads see",
        null,
        ReplicaStatus::appliedVersion);
    gauge(
        registry,
        "writer.version",
        "the writer's latest version the replica knows of",
        null,
        ReplicaStatus::writerVersion);
    gauge(
        registry,
        "lag.versions",
        "versions the replica is behind the writer's latest it knows of",
        "versions",
        ReplicaStatus::lagVersions);
    TimeGauge.builder(
            PREFIX + "lag.time",
            store,
            TimeUnit.NANOSECONDS,
            s -> (double) s.status().lagTime().toNanos())
        .description("how far behind the replica is, by the writer's commit times")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    gauge(
        registry,
        "catching.up",
        "1 while the replica must catch up by state transfer, else 0",
        null,
        s -> s.catchingUp() ? 1 : 0);
    gauge(
        registry,
        "writer.reachable",
        "1 while the replica follows a writer it can reach, else 0",
        null,
        s -> s.writerReachable() ? 1 : 0);
    gauge(
        registry,
        "failed",
        "1 once the replica cannot follow the writer (see status().failure()), else 0",
        null,
        s -> s.failure().isPresent() ? 1 : 0);
  }

  private void gauge(
      MeterRegistry registry,
      String name,
      String description,
      @Nullable String unit,
      ToDoubleFunction<ReplicaStatus> value) {
    Gauge.Builder<ClusterStore> b =
        Gauge.builder(PREFIX + name, store, s -> value.applyAsDouble(s.status()))
            .description(description)
            .tags(tags)
            .strongReference(true);
    if (unit != null) {
      b.baseUnit(unit);
    }
    b.register(registry);
  }
}
