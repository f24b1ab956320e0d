package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link Snapshot} whose version stays pinned while the transaction is open.
 *
 * <p>The transaction reads nothing itself: it hands out the one {@link Snapshot} it took when it
 * opened ({@link #snapshot()}), the store's one read type, and the {@link #version()} to read it
 * at, so all reads through it see the same state, whatever commits meanwhile. The pin keeps that
 * version readable in later snapshots of the store too (so {@code store.snapshot().get(key,
 * tx.version())} keeps working while the transaction is open) and shows up in the EpochActor's
 * {@link EpochStats} and long-pin warnings under the transaction's owner. A transaction opened long
 * ago holds back pruning, and so memory: close it, best with try-with-resources.
 *
 * <pre>{@code
 * try (ReadTransaction tx = store.readTransaction()) {
 *   Snapshot s = tx.snapshot();
 *   String a = s.get("account/1");
 *   String b = s.get("account/2");   // same version as a
 * }
 * }</pre>
 *
 * <p>A transaction opened at the latest version ({@link ZVerseStore#readTransaction()}) hands out a
 * snapshot at exactly its version, so the snapshot's reads without a version argument read at it.
 * One opened at an older version ({@link ZVerseStore#readTransaction(long, String)}) hands out a
 * newer snapshot that can still read that version: read it with the version argument, {@code
 * tx.snapshot().get(key, tx.version())}.
 *
 * <p>To follow the changes after the state a transaction read, hand its pin to a change feed
 * ({@code ChangeFeedOptions.after(tx)} in the streams module, or {@link
 * AdvancedOperations#pin(ReadTransaction, String)}): the version then stays pinned without a gap
 * until the feed holds its own place, and the transaction may be closed as soon as the feed is
 * materialized.
 *
 * <p>Opening takes no message and no lock. Closing twice is harmless; any other call after {@link
 * #close()} but {@link #owner()} and {@link #isClosed()} throws {@link IllegalStateException}. A
 * snapshot taken before the close goes on reading (it is immutable), but its version is then no
 * longer pinned: a read of it at an older version may meet pruning in later snapshots only, never
 * in itself. The transaction stays usable after its store is closed (it reads an immutable
 * snapshot) until it is closed itself.
 *
 * <p>Thread-safe: it may be shared between threads.
 */
public final class ReadTransaction implements AutoCloseable {
  private final String storeName;
  private final Snapshot snapshot;
  private final long version;
  private final Pins pins;
  private final Pins.Pin pin;
  private final AtomicBoolean closed = new AtomicBoolean();

  ReadTransaction(String storeName, Snapshot snapshot, Pins pins, Pins.Pin pin) {
    assert pin.version <= snapshot.version() && pin.version >= snapshot.watermark()
        : pin.version + " outside [" + snapshot.watermark() + ", " + snapshot.version() + "]";
    this.storeName = storeName;
    this.snapshot = snapshot;
    this.version = pin.version;
    this.pins = pins;
    this.pin = pin;
  }

  /**
   * The version this transaction reads at.
   *
   * @return a version that stays readable until the transaction is closed
   * @throws IllegalStateException if the transaction is closed
   */
  public long version() {
    live();
    return version;
  }

  /**
   * Who holds the transaction's pin, as named in long-pin warnings.
   *
   * @return the owner given when it was opened, or the opening thread's name
   */
  public String owner() {
    return pin.owner;
  }

  /**
   * The snapshot this transaction reads through, to use the engine's whole read API at {@link
   * #version()}; it stays valid after the transaction is closed, but the version is then no longer
   * pinned. Its own {@code version()} is newer than the transaction's when the transaction was
   * opened at an older version ({@link ZVerseStore#readTransaction(long, String)}): read it at
   * {@link #version()}.
   *
   * @return the same immutable snapshot on every call
   * @throws IllegalStateException if the transaction is closed
   */
  public Snapshot snapshot() {
    live();
    return snapshot;
  }

  private void live() {
    if (closed.get()) {
      throw new IllegalStateException(
          "read transaction of ["
              + pin.owner
              + "] on store ["
              + storeName
              + "] at version "
              + version
              + " is closed");
    }
  }

  /**
   * A second holder of this transaction's pin, for {@link AdvancedOperations#pin(ReadTransaction,
   * String)}.
   *
   * @return false if the transaction is closed and its pin released
   */
  boolean retainPin(Pins storePins) {
    if (storePins != pins) {
      throw new IllegalArgumentException(
          "the read transaction belongs to store [" + storeName + "], not to this one");
    }
    return !closed.get() && pins.retain(pin);
  }

  /** The transaction's pin, shared by {@link #retainPin}. */
  Pins.Pin pin() {
    return pin;
  }

  /**
   * Whether {@link #close()} was called.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * Releases the pin: from now on the transaction's version may be pruned, and every method but
   * {@link #owner()}, {@link #isClosed()} and this one throws {@link IllegalStateException}.
   * Closing again does nothing.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      pins.release(pin);
    }
  }

  @Override
  public String toString() {
    return "ReadTransaction[store="
        + storeName
        + ", owner="
        + pin.owner
        + ", version="
        + version
        + (closed.get() ? ", closed]" : "]");
  }
}
