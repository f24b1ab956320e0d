package dev.zverse.actors;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A pinned version that its owner moves forward as it goes: what a change feed holds on its cursor,
 * so that retention keeps the history the feed has not read yet. Made by {@link
 * AdvancedOperations#tryPin(long, String)}, or by {@link AdvancedOperations#pin(ReadTransaction,
 * String)} from a read transaction's own pin, which it then shares until it moves or closes.
 *
 * <p>While the pin is at {@code v}, no snapshot the store publishes has a watermark above {@code
 * v}: every version from {@code v} on stays readable. The EpochActor counts it with the read
 * transactions' pins (in {@link EpochStats#pins()}) and warns when one stays at a version longer
 * than {@code epoch.long-pin-warning}.
 *
 * <p>Moving is lock-free: the new version is pinned (validated against the EpochActor's proposal,
 * as a read transaction's pin is) before the old one is released, so the pinned range never has a
 * gap.
 *
 * <p>{@link #moveTo} is for one owner at a time (a stream stage, one thread); {@link #close()} may
 * be called from any thread, more than once.
 */
public final class VersionPin implements AutoCloseable {
  private final String storeName;
  private final Pins pins;
  private final String owner;

  /** The current pin; {@code null} once closed. */
  private final AtomicReference<Pins.Pin> current;

  /** Holds {@code pin}, which the caller made this a holder of; new pins name {@code owner}. */
  VersionPin(String storeName, Pins pins, Pins.Pin pin, String owner) {
    this.storeName = storeName;
    this.pins = pins;
    this.owner = owner;
    this.current = new AtomicReference<>(pin);
  }

  /**
   * The pinned version.
   *
   * @throws IllegalStateException if the pin is closed
   */
  public long version() {
    return live().version;
  }

  /**
   * Moves the pin up to {@code newVersion}, releasing the versions below it to retention.
   *
   * @param newVersion at least {@link #version()}
   * @return true if the pin is now at {@code newVersion}; false if the EpochActor was deciding a
   *     watermark above {@code newVersion} at that moment, in which case the pin stays where it was
   *     (still valid) and the caller tries again later
   * @throws IllegalArgumentException if {@code newVersion} is below {@link #version()}
   * @throws IllegalStateException if the pin is closed
   */
  public boolean moveTo(long newVersion) {
    Pins.Pin old = live();
    if (newVersion < old.version) {
      throw new IllegalArgumentException(
          "newVersion must be at least the pinned version " + old.version + ", was " + newVersion);
    }
    if (newVersion == old.version) {
      return true;
    }
    Pins.Pin next = pins.newPin(newVersion, owner);
    if (!pins.tryPin(next)) {
      return false;
    }
    if (!current.compareAndSet(old, next)) {
      // Closed meanwhile: the new pin must not outlive the close.
      pins.release(next);
      throw closed(old.version);
    }
    pins.release(old);
    return true;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return current.get() == null;
  }

  /** Releases the pin; closing again does nothing. */
  @Override
  public void close() {
    Pins.Pin p = current.getAndSet(null);
    if (p != null) {
      pins.release(p);
    }
  }

  private Pins.Pin live() {
    Pins.Pin p = current.get();
    if (p == null) {
      throw closed(-1);
    }
    return p;
  }

  private IllegalStateException closed(long version) {
    return new IllegalStateException(
        "pin of ["
            + owner
            + "] on store ["
            + storeName
            + "]"
            + (version >= 0 ? " at version " + version : "")
            + " is closed");
  }

  @Override
  public String toString() {
    Pins.Pin p = current.get();
    return "VersionPin[store="
        + storeName
        + ", owner="
        + owner
        + (p == null ? ", closed]" : ", version=" + p.version + "]");
  }
}
