package dev.zverse.actors;

import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The versions that readers pin, and the watermark the EpochActor proposes to prune to: the
 * lock-free meeting point of readers and the EpochActor, which never exchange a message.
 *
 * <h2>Design</h2>
 *
 * A reader adds a {@link Pin} to a concurrent set when it opens a read transaction and removes it
 * when it closes (one CAS on a bin of a {@link ConcurrentHashMap} in the common case); the
 * EpochActor iterates the set on each tick. The iteration is weakly consistent: it may miss a pin
 * added during the scan, which is the race below.
 *
 * <p><b>The pin race.</b> A reader loads the latest snapshot (version {@code v}) and then adds its
 * pin. In between, the EpochActor may scan without seeing the pin and decide to prune past {@code
 * v}. Then the pin would promise nothing. So the two sides follow a Dekker-style protocol on
 * sequentially consistent variables:
 *
 * <ol>
 *   <li>the EpochActor first {@linkplain #propose proposes} its target watermark, then scans the
 *       pins, then lowers the proposal to what the pins allow and only then sends the prune;
 *   <li>the reader first adds its pin, then reads the {@linkplain #proposedWatermark() proposal};
 *       if its version is below it, the pin lost the race: the reader removes it and retries with
 *       a newer snapshot (whose version is at or above the proposal: the EpochActor proposes only
 *       versions it learned from published snapshots, and the reader's load of the root happens
 *       after it read that proposal).
 * </ol>
 *
 * Either the scan sees the pin, or the reader sees the proposal; a validated pin is never pruned.
 * The proposal never goes down.
 *
 * <p>What a pin protects: a read transaction reads its own {@code Snapshot}, which stays fully
 * readable whatever later snapshots prune (held snapshots never change). The pin's job is to keep
 * its version readable in <em>later</em> snapshots, and to let the EpochActor see, and warn about,
 * readers that hold history for long.
 *
 * <p>Thread-safe.
 */
final class Pins {
  /**
   * One pinned version. Not immutable: {@link #warned} and {@link #warnedNanos} change, but only
   * the EpochActor touches them (Pekko orders its successive messages, whatever threads run them);
   * the rest is final.
   */
  static final class Pin {
    final long version;
    final long openedNanos;
    final String owner;
    long warnedNanos;
    boolean warned;

    Pin(long version, long openedNanos, String owner) {
      this.version = version;
      this.openedNanos = openedNanos;
      this.owner = owner;
    }
  }

  private final Set<Pin> pins = ConcurrentHashMap.newKeySet();
  /** Written by the EpochActor only; read by readers validating a pin. */
  private final AtomicLong proposed = new AtomicLong();

  /**
   * Adds {@code pin} and checks it against the proposal.
   *
   * @return true if the pin holds; false if it lost the race and was removed again
   */
  boolean tryPin(Pin pin) {
    pins.add(pin);
    if (pin.version >= proposed.get()) {
      return true;
    }
    pins.remove(pin);
    return false;
  }

  /** Removes {@code pin}; true if it was there. */
  boolean unpin(Pin pin) {
    return pins.remove(pin);
  }

  /** The watermark the EpochActor may prune to; a pin below it is not honoured. */
  long proposedWatermark() {
    return proposed.get();
  }

  /** Sets the proposal. EpochActor only; never lowers it below a value already sent as a prune. */
  void propose(long watermark) {
    proposed.set(watermark);
  }

  /** The pins, weakly consistent. EpochActor only. */
  Iterator<Pin> iterator() {
    return pins.iterator();
  }
}
