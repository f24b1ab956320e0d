package dev.zverse.actors;

/**
 * The JMX view of one open store, registered as {@code dev.zverse:type=Store,name=<store>} on the
 * platform MBean server when the store opens and unregistered when it has closed. A standard MBean:
 * each getter is a read-only attribute, read from {@link StoreMetrics} when asked. Durations are in
 * the unit their name says; the log, checkpoint and recovery figures are zero for a memory-only
 * store.
 */
public interface StoreMBean {
  /** The version of the latest published snapshot. */
  long getVersion();

  /** The oldest version the latest snapshot can read. */
  long getWatermark();

  /** Versions the latest snapshot can read. */
  long getRetainedVersions();

  /** Open pins (read transactions, change-feed cursors). */
  int getPins();

  /** How long the oldest open pin has been open, in milliseconds of the store's clock. */
  long getOldestPinAgeMillis();

  /** Versions the oldest pin lags the latest (the slowest change feed's lag). */
  long getOldestPinLag();

  /** Change feeds registered now. */
  int getChangeFeeds();

  /** Writes committed since the store opened. */
  long getWrites();

  /** Groups published since the store opened. */
  long getGroups();

  /** The mean number of writes per published group. */
  double getGroupWritesMean();

  /** The largest number of writes in one published group. */
  long getGroupWritesMax();

  /** The mean commit latency of a group, in microseconds. */
  double getCommitLatencyMeanMicros();

  /** An upper bound of the 99th percentile of the commit latency, in microseconds. */
  long getCommitLatencyP99Micros();

  /** Writes sent and not yet answered. */
  int getPendingWrites();

  /** The bound on pending writes. */
  int getMaxPendingWrites();

  /** Writes refused as overloaded since the store opened. */
  long getOverloadRefusals();

  /** Whether the store is durable. */
  boolean isDurable();

  /** Whether the store's log failed: it takes no more writes. */
  boolean isFailed();

  /** The mean time to append and force one group to the log, in microseconds. */
  double getLogLatencyMeanMicros();

  /** The longest time to append and force one group to the log, in microseconds. */
  long getLogLatencyMaxMicros();

  /** Failed appends and forces of the log. */
  long getLogFailures();

  /** Checkpoints written since the store opened. */
  long getCheckpoints();

  /** Checkpoints that failed since the store opened. */
  long getCheckpointFailures();

  /** The longest checkpoint, in milliseconds. */
  long getCheckpointMaxMillis();

  /** The size of the last checkpoint written, in bytes. */
  long getLastCheckpointBytes();

  /** How long opening took to recover the data directory, in milliseconds. */
  long getRecoveryMillis();

  /** Sealed Z-index segments. */
  int getZIndexSegments();

  /** Changes not yet sealed into a Z-index segment (the sealing lag). */
  long getZIndexUnsealedChanges();

  /** The engine's estimate of the heap the latest snapshot holds, in bytes. */
  long getHeapBytes();
}
