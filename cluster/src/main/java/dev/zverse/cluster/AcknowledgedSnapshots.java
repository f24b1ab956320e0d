package dev.zverse.cluster;

import dev.zverse.engine.Snapshot;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * The writer's newest snapshot at or below its acknowledged version: what its state transfers
 * offer. The writer's store publishes a version as soon as it committed it, before min-acks
 * replicas received it; a transfer of that snapshot would show a new replica's readers versions
 * that a failover could still lose, and would let the replica take them for acknowledged. So the
 * writer keeps the snapshots it published beyond its acknowledged version here and, as the
 * acknowledgements arrive, moves the offered one forward; it is never above the acknowledged
 * version.
 *
 * <p>Snapshots are immutable and share their nodes with the store's, so holding a few costs only
 * the nodes they do not share with the latest. At most {@link #MAX_HELD} are held beyond the
 * acknowledged version; past that, newer ones are not held, and the offered one moves forward only
 * to a held one (older than it could be, never newer than acknowledged).
 *
 * <p>Thread-safe: {@link #published} runs on the store's writer thread, {@link #acknowledged} in
 * the writer actor, {@link #offered} in the transfer server.
 */
final class AcknowledgedSnapshots {
  /** The most published snapshots held beyond the acknowledged version. */
  static final int MAX_HELD = 1024;

  private final ArrayDeque<Snapshot> held = new ArrayDeque<>();
  private long acknowledged;
  private @Nullable Snapshot offered;

  /**
   * Starts with {@code acknowledged} as the acknowledged state, offered at once, and {@code latest}
   * as the store's latest snapshot, offered instead if its version is not above it.
   *
   * @param acknowledged the state at the writer's acknowledged version when it starts: the store's
   *     state at that version (the state the writer started from), within its retained history
   * @param latest the store's latest snapshot when the writer starts
   */
  AcknowledgedSnapshots(Snapshot acknowledged, Snapshot latest) {
    this.acknowledged = acknowledged.version();
    this.offered = acknowledged;
    published(latest);
  }

  /** The store published {@code snapshot}: offered once acknowledged. */
  synchronized void published(Snapshot snapshot) {
    if (snapshot.version() <= acknowledged) {
      offered = snapshot;
    } else if (held.size() < MAX_HELD) {
      held.addLast(snapshot);
    }
  }

  /** The writer acknowledged every version up to {@code version}. */
  synchronized void acknowledged(long version) {
    if (version <= acknowledged) {
      return;
    }
    acknowledged = version;
    for (Snapshot s; (s = held.peekFirst()) != null && s.version() <= version; ) {
      offered = held.pollFirst();
    }
  }

  /**
   * The newest published snapshot at or below the acknowledged version.
   *
   * @return the snapshot, or null while none is (a new writer before it re-acknowledged the tail it
   *     took over)
   */
  synchronized @Nullable Snapshot offered() {
    return offered;
  }
}
