package dev.zverse.metrics;

import dev.zverse.actors.StoreMetrics;
import dev.zverse.actors.ZVerseStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/**
 * Binds the figures of one store ({@link StoreMetrics}) to a Micrometer {@link MeterRegistry}:
 * gauges, function counters and function timers named {@code zverse.store.*}, each tagged {@code
 * store=<name>} plus the extra tags given. Every meter reads the store when the registry publishes,
 * so the store records nothing for Micrometer and the binder adds nothing to its write path.
 *
 * <pre>{@code
 * new StoreMeterBinder(store).bindTo(registry);
 * }</pre>
 *
 * <p>The meters hold the store's metrics strongly and keep reading them after the store closes (the
 * last values); remove them from the registry if the store is closed for good. Immutable and
 * thread-safe.
 */
public final class StoreMeterBinder implements MeterBinder {
  /** The prefix of every meter's name. */
  public static final String PREFIX = "zverse.store.";

  private final StoreMetrics metrics;
  private final Tags tags;

  /**
   * A binder of {@code store}'s meters, tagged with its name.
   *
   * @param store the store
   * @throws NullPointerException if {@code store} is null
   */
  public StoreMeterBinder(ZVerseStore store) {
    this(store, Tags.empty());
  }

  /**
   * A binder of {@code store}'s meters, tagged with its name and {@code extraTags}.
   *
   * @param store the store
   * @param extraTags more tags for every meter (an application or node name); must not hold the key
   *     {@code store}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code extraTags} holds the key {@code store}
   */
  public StoreMeterBinder(ZVerseStore store, Iterable<Tag> extraTags) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(extraTags, "extraTags");
    this.metrics = store.metrics();
    this.tags = storeTags(store.name(), extraTags);
  }

  /**
   * {@code extraTags} and the binder's own tag {@code store=name}, which they must not hold (both
   * binders tag their meters alike).
   */
  static Tags storeTags(String name, Iterable<Tag> extraTags) {
    for (Tag t : extraTags) {
      if (t.getKey().equals("store")) {
        throw new IllegalArgumentException(
            "extraTags must not hold the key [store], the binder's own tag, was " + t);
      }
    }
    return Tags.of(extraTags).and("store", name);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    gauge(
        registry,
        "version",
        "the version of the latest published snapshot",
        null,
        StoreMetrics::version);
    gauge(
        registry,
        "watermark",
        "the oldest version the latest snapshot can read",
        null,
        StoreMetrics::watermark);
    gauge(
        registry,
        "retained.versions",
        "versions the latest snapshot can read",
        "versions",
        StoreMetrics::retainedVersions);
    gauge(
        registry,
        "pins",
        "open pins: read transactions and change-feed cursors",
        "pins",
        StoreMetrics::pins);
    timeGauge(
        registry,
        "pins.oldest.age",
        "how long the oldest open pin has been open",
        m -> m.oldestPinAge().toNanos());
    gauge(
        registry,
        "pins.oldest.lag",
        "versions the oldest pin lags the latest (feed lag)",
        "versions",
        StoreMetrics::oldestPinLag);
    gauge(registry, "feeds", "change feeds registered", "feeds", StoreMetrics::changeFeeds);
    counter(registry, "writes", "writes committed", "writes", StoreMetrics::writes);
    counter(
        registry,
        "groups",
        "groups published (one publish and log record each)",
        "groups",
        StoreMetrics::groups);
    gauge(
        registry,
        "group.writes.max",
        "the most writes published in one group",
        "writes",
        m -> m.groupWrites().max());
    timer(
        registry,
        "commit.latency",
        "from a group's first write taken to its answer",
        m -> m.commitNanos().count(),
        m -> m.commitNanos().sum());
    timeGauge(
        registry,
        "commit.latency.max",
        "the longest commit latency of a group",
        m -> m.commitNanos().max());
    timeGauge(
        registry,
        "commit.latency.p99",
        "upper bound of the 99th percentile commit latency",
        m -> m.commitNanos().quantileUpperBound(0.99));
    gauge(
        registry,
        "writes.pending",
        "writes sent and not yet answered",
        "writes",
        StoreMetrics::pendingWrites);
    gauge(
        registry,
        "writes.pending.max",
        "the bound on pending writes",
        "writes",
        StoreMetrics::maxPendingWrites);
    counter(
        registry,
        "overload.refusals",
        "writes refused as overloaded",
        "writes",
        StoreMetrics::overloadRefusals);
    timer(
        registry,
        "log.latency",
        "append and force of one group to the durable log",
        m -> m.logNanos().count(),
        m -> m.logNanos().sum());
    timeGauge(
        registry,
        "log.latency.max",
        "the longest append and force of one group",
        m -> m.logNanos().max());
    counter(
        registry,
        "log.failures",
        "failed appends and forces of the log",
        "failures",
        StoreMetrics::logFailures);
    timer(
        registry,
        "checkpoint.duration",
        "time to write one checkpoint",
        m -> m.checkpointNanos().count(),
        m -> m.checkpointNanos().sum());
    counter(
        registry,
        "checkpoint.failures",
        "checkpoints that failed",
        "failures",
        StoreMetrics::checkpointFailures);
    gauge(
        registry,
        "checkpoint.size",
        "the size of the last checkpoint written",
        "bytes",
        StoreMetrics::lastCheckpointBytes);
    timeGauge(
        registry,
        "recovery.time",
        "how long opening recovered the data directory",
        m -> m.recoveryTime().toNanos());
    gauge(
        registry,
        "zindex.segments",
        "sealed Z-index segments",
        "segments",
        StoreMetrics::zIndexSegments);
    gauge(
        registry,
        "zindex.unsealed",
        "changes not yet sealed into a Z-index segment",
        "changes",
        StoreMetrics::zIndexUnsealedChanges);
    gauge(
        registry,
        "heap",
        "the engine's estimate of the heap the latest snapshot holds",
        "bytes",
        StoreMetrics::heapBytes);
  }

  private void gauge(
      MeterRegistry registry,
      String name,
      String description,
      @Nullable String unit,
      ToDoubleFunction<StoreMetrics> value) {
    Gauge.Builder<StoreMetrics> b =
        Gauge.builder(PREFIX + name, metrics, value)
            .description(description)
            .tags(tags)
            .strongReference(true);
    if (unit != null) {
      b.baseUnit(unit);
    }
    b.register(registry);
  }

  private void timeGauge(
      MeterRegistry registry, String name, String description, ToLongFunction<StoreMetrics> nanos) {
    TimeGauge.builder(PREFIX + name, metrics, TimeUnit.NANOSECONDS, m -> nanos.applyAsLong(m))
        .description(description)
        .tags(tags)
        .strongReference(true)
        .register(registry);
  }

  private void counter(
      MeterRegistry registry,
      String name,
      String description,
      String unit,
      ToLongFunction<StoreMetrics> count) {
    FunctionCounter.builder(PREFIX + name, metrics, m -> count.applyAsLong(m))
        .description(description)
        .baseUnit(unit)
        .tags(tags)
        .register(registry);
  }

  private void timer(
      MeterRegistry registry,
      String name,
      String description,
      ToLongFunction<StoreMetrics> count,
      ToLongFunction<StoreMetrics> totalNanos) {
    FunctionTimer.builder(
            PREFIX + name, metrics, count, m -> totalNanos.applyAsLong(m), TimeUnit.NANOSECONDS)
        .description(description)
        .tags(tags)
        .register(registry);
  }
}
