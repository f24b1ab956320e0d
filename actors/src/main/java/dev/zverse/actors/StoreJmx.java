package dev.zverse.actors;

import java.lang.management.ManagementFactory;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * The {@link StoreMBean} of one store, and its registration on the platform MBean server. Only
 * reads: every attribute is computed from {@link StoreMetrics} when asked.
 *
 * <p>Thread-safe.
 */
final class StoreJmx implements StoreMBean {
  private static final long NANOS_PER_MICRO = 1_000;
  private static final long NANOS_PER_MILLI = 1_000_000;

  private final ZVerseStore store;
  private final StoreMetrics metrics;

  private StoreJmx(ZVerseStore store) {
    this.store = store;
    this.metrics = store.metrics();
  }

  /** The name of the bean of the store named {@code storeName}. */
  static ObjectName objectName(String storeName) {
    try {
      // Store names match [A-Za-z0-9][A-Za-z0-9_-]*: nothing to quote.
      return new ObjectName("dev.zverse:type=Store,name=" + storeName);
    } catch (MalformedObjectNameException e) {
      throw new IllegalArgumentException("store name [" + storeName + "]: " + e.getMessage(), e);
    }
  }

  /**
   * Registers the bean of {@code store}.
   *
   * @return the name to unregister once the store closed, or null if not registered: a store of the
   *     same name in another actor system of this JVM holds it (logged at WARN), or JMX refused
   */
  static @Nullable ObjectName register(ZVerseStore store, Logger log) {
    ObjectName name = objectName(store.name());
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    try {
      server.registerMBean(new StandardMBean(new StoreJmx(store), StoreMBean.class), name);
      return name;
    } catch (InstanceAlreadyExistsException e) {
      log.warn(
          "[{}] not registered with JMX: {} is taken by a store of another actor system",
          store.name(),
          name);
      return null;
    } catch (JMException | RuntimeException e) {
      log.warn("[{}] not registered with JMX as {}: {}", store.name(), name, e.toString());
      return null;
    }
  }

  /** Unregisters {@code name}, if it is still registered. */
  static void unregister(ObjectName name, Logger log) {
    try {
      ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
    } catch (JMException | RuntimeException e) {
      log.debug("{} was already unregistered: {}", name, e.toString());
    }
  }

  @Override
  public long getVersion() {
    return metrics.version();
  }

  @Override
  public long getWatermark() {
    return metrics.watermark();
  }

  @Override
  public long getRetainedVersions() {
    return metrics.retainedVersions();
  }

  @Override
  public int getPins() {
    return metrics.pins();
  }

  @Override
  public long getOldestPinAgeMillis() {
    return metrics.oldestPinAge().toMillis();
  }

  @Override
  public long getOldestPinLag() {
    return metrics.oldestPinLag();
  }

  @Override
  public int getChangeFeeds() {
    return metrics.changeFeeds();
  }

  @Override
  public long getWrites() {
    return metrics.writes();
  }

  @Override
  public long getGroups() {
    return metrics.groups();
  }

  @Override
  public double getGroupWritesMean() {
    return metrics.groupWrites().mean();
  }

  @Override
  public long getGroupWritesMax() {
    return metrics.groupWrites().max();
  }

  @Override
  public double getCommitLatencyMeanMicros() {
    return metrics.commitNanos().mean() / NANOS_PER_MICRO;
  }

  @Override
  public long getCommitLatencyP99Micros() {
    return metrics.commitNanos().quantileUpperBound(0.99) / NANOS_PER_MICRO;
  }

  @Override
  public int getPendingWrites() {
    return metrics.pendingWrites();
  }

  @Override
  public int getMaxPendingWrites() {
    return metrics.maxPendingWrites();
  }

  @Override
  public long getOverloadRefusals() {
    return metrics.overloadRefusals();
  }

  @Override
  public boolean isDurable() {
    return metrics.durable();
  }

  @Override
  public boolean isFailed() {
    return store.failure().isPresent();
  }

  @Override
  public double getLogLatencyMeanMicros() {
    return metrics.logNanos().mean() / NANOS_PER_MICRO;
  }

  @Override
  public long getLogLatencyMaxMicros() {
    return metrics.logNanos().max() / NANOS_PER_MICRO;
  }

  @Override
  public long getLogFailures() {
    return metrics.logFailures();
  }

  @Override
  public long getCheckpoints() {
    return metrics.checkpointNanos().count();
  }

  @Override
  public long getCheckpointFailures() {
    return metrics.checkpointFailures();
  }

  @Override
  public long getCheckpointMaxMillis() {
    return metrics.checkpointNanos().max() / NANOS_PER_MILLI;
  }

  @Override
  public long getLastCheckpointBytes() {
    return metrics.lastCheckpointBytes();
  }

  @Override
  public long getRecoveryMillis() {
    return metrics.recoveryTime().toMillis();
  }

  @Override
  public int getZIndexSegments() {
    return metrics.zIndexSegments();
  }

  @Override
  public long getZIndexUnsealedChanges() {
    return metrics.zIndexUnsealedChanges();
  }

  @Override
  public long getHeapBytes() {
    return metrics.heapBytes();
  }
}
