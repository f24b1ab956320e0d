package dev.zverse.actors;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
 *       if its version is below it, the pin lost the race: the reader removes it and retries with a
 *       newer snapshot (whose version is at or above the proposal: the EpochActor proposes only
 *       versions it learned from published snapshots, and the reader's load of the root happens
 *       after it read that proposal).
 * </ol>
 *
 * Either the scan sees the pin, or the reader sees the proposal; a validated pin is never pruned.
 * The proposal never goes down below a {@linkplain #decidedWatermark() decided} watermark.
 *
 * <p><b>Pending and decided.</b> A pin that lost the race to a proposal may still be honoured: the
 * EpochActor lowers its proposal to the oldest pin it finds, and that may be the version asked for.
 * A reader that must not wait (a stream stage) tells the two cases apart with {@link
 * #decidedWatermark()}: below it the version is gone for good; at or above it the decision is
 * pending and a later try may succeed.
 *
 * <p><b>Shared pins.</b> A pin may have several holders ({@link #retain}): a read transaction hands
 * its pin to a change feed that way, so the version stays pinned without a gap from the moment the
 * transaction read its state until the feed lets go, whichever of the two closes first. Sharing the
 * validated pin object, rather than validating a second pin at the same version, is what makes the
 * handover safe: a second pin can lose the race above while the first is being closed.
 *
 * <p>What a pin protects: a read transaction reads its own {@code Snapshot}, which stays fully
 * readable whatever later snapshots prune (held snapshots never change). The pin's job is to keep
 * its version readable in <em>later</em> snapshots, and to let the EpochActor see, and warn about,
 * readers that hold history for long.
 *
 * <p><b>Ages.</b> Each pin is stamped, in milliseconds of the store's clock ({@link
 * StoreSettings#clock()}), when it is taken, and the EpochActor reads the same clock for their
 * ages: tests drive both with a manual clock. A clock stepped back makes an age negative, which
 * counts as zero.
 *
 * <p>Thread-safe.
 */
final class Pins {
  /**
   * One pinned version. Not immutable: {@link #warned} and {@link #warnedMillis} change, but only
   * the EpochActor touches them (Pekko orders its successive messages, whatever threads run them);
   * the rest is final.
   */
  static final class Pin {
    final long version;

    /** When it was taken, by {@link Pins#clockMillis()}. */
    final long openedMillis;

    final String owner;
    long warnedMillis;
    boolean warned;

    /** Its holders; the pin leaves the set when the last one {@linkplain #release releases} it. */
    final AtomicInteger holders = new AtomicInteger(1);

    Pin(long version, long openedMillis, String owner) {
      this.version = version;
      this.openedMillis = openedMillis;
      this.owner = owner;
    }
  }

  private final InstantSource clock;
  private final Set<Pin> pins = ConcurrentHashMap.newKeySet();

  /** Written by the EpochActor only; read by readers validating a pin. */
  private final AtomicLong proposed = new AtomicLong();

  /** The last watermark the EpochActor decided; written by it only, after the proposal. */
  private final AtomicLong decided = new AtomicLong();

  /** Pins aged by {@code clock}, the store's clock. */
  Pins(InstantSource clock) {
    this.clock = clock;
  }

  /**
   * The clock that stamps pins and ages them, in milliseconds since the epoch: {@code
   * InstantSource.millis()}, which for the system clock is {@code System.currentTimeMillis()} (no
   * allocation on a reader's path). Any thread.
   */
  long clockMillis() {
    try {
      return clock.millis();
    } catch (ArithmeticException beyondLongMillis) {
      return millis(clock.instant());
    }
  }

  /** {@code t} in milliseconds since the epoch, saturated to the range of a long. */
  static long millis(Instant t) {
    try {
      return t.toEpochMilli();
    } catch (ArithmeticException beyondLongMillis) {
      return t.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /** A new pin at {@code version} held by {@code owner}, stamped with the clock. Any thread. */
  Pin newPin(long version, String owner) {
    return new Pin(version, clockMillis(), owner);
  }

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

  /** Removes {@code pin}, whatever its holders; true if it was there. */
  boolean unpin(Pin pin) {
    return pins.remove(pin);
  }

  /**
   * Adds a holder to a validated {@code pin} that still has one.
   *
   * @return false if its last holder has released it (it no longer pins anything)
   */
  boolean retain(Pin pin) {
    for (int n = pin.holders.get(); n > 0; n = pin.holders.get()) {
      if (pin.holders.compareAndSet(n, n + 1)) {
        return true;
      }
    }
    return false;
  }

  /** Releases one holder of {@code pin}; the last one removes it. */
  void release(Pin pin) {
    int left = pin.holders.decrementAndGet();
    assert left >= 0 : "pin of [" + pin.owner + "] at " + pin.version + " released too often";
    if (left == 0) {
      pins.remove(pin);
    }
  }

  /** The watermark the EpochActor may prune to; a pin below it is not honoured. */
  long proposedWatermark() {
    return proposed.get();
  }

  /** Sets the proposal. EpochActor only; never lowers it below a value already sent as a prune. */
  void propose(long watermark) {
    proposed.set(watermark);
  }

  /**
   * Ends a decision: lowers the proposal to {@code watermark} and records it as decided. EpochActor
   * only, after its scan; never below a watermark decided before.
   */
  void decide(long watermark) {
    proposed.set(watermark);
    decided.set(watermark);
  }

  /**
   * The last watermark the EpochActor decided: a version below it is pruned, or about to be, for
   * good. It never goes down.
   */
  long decidedWatermark() {
    return decided.get();
  }

  /** The pins, weakly consistent. EpochActor only. */
  Iterator<Pin> iterator() {
    return pins.iterator();
  }
}
