package dev.zverse.actors;

import dev.zverse.engine.Change;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reads at one version for all its calls, and pins that version while open.
 *
 * <p>Every read goes to the one {@link Snapshot} the transaction took when it opened, at its
 * {@link #version()}, so all of them see the same state, whatever commits meanwhile. The pin keeps
 * that version readable in later snapshots of the store too (so {@code store.get(key, version())}
 * keeps working while the transaction is open) and shows up in the EpochActor's {@link EpochStats}
 * and long-pin warnings under the transaction's owner. A transaction opened long ago holds back
 * pruning, and so memory: close it, best with try-with-resources.
 *
 * <pre>{@code
 * try (ReadTransaction tx = store.readTransaction()) {
 *   String a = tx.get("account/1");
 *   String b = tx.get("account/2");   // same version as a
 * }
 * }</pre>
 *
 * <p>To follow the changes after the state a transaction read, hand its pin to a change feed
 * ({@code ChangeFeedOptions.after(tx)} in the streams module, or {@link ZVerseStore#pin(
 * ReadTransaction, String)}): the version then stays pinned without a gap until the feed holds its
 * own place, and the transaction may be closed as soon as the feed is materialized.
 *
 * <p>Opening takes no message and no lock. Closing twice is harmless; any other call after {@link
 * #close()} throws {@link IllegalStateException}. Iterators taken before the close go on reading the
 * transaction's snapshot. The transaction stays usable after its store is closed (it reads an
 * immutable snapshot) until it is closed itself.
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
   * @throws IllegalStateException if the transaction is closed
   */
  public Snapshot snapshot() {
    live();
    return snapshot;
  }

  private void live() {
    if (closed.get()) {
      throw new IllegalStateException("read transaction of [" + pin.owner + "] on store ["
          + storeName + "] at version " + version + " is closed");
    }
  }

  /**
   * The value of {@code key} at {@link #version()}.
   *
   * @return a copy of the value, or {@code null} if the key has none
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the store's key limit
   * @throws IllegalStateException if the transaction is closed
   */
  public byte[] get(byte[] key) {
    return snapshot().get(key, version);
  }

  /**
   * The value of a UTF-8 key at {@link #version()}, decoded as UTF-8; throws like {@link
   * #get(byte[])}.
   *
   * @return the value, or {@code null} if the key has none
   */
  public String get(String key) {
    return snapshot().get(key, version);
  }

  /**
   * The entry of {@code key} at {@link #version()}, with its create and modify versions.
   *
   * @return the entry, or {@code null} if the key has no value
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the store's key limit
   * @throws IllegalStateException if the transaction is closed
   */
  public Entry entry(byte[] key) {
    return snapshot().entry(key, version);
  }

  /** The entry of a UTF-8 key at {@link #version()}; throws like {@link #entry(byte[])}. */
  public Entry entry(String key) {
    return entry(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Every live entry in {@code range} at {@link #version()}, in key order.
   *
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalStateException if the transaction is closed
   */
  public List<Entry> scan(KeyRange range) {
    return snapshot().scan(range, version);
  }

  /**
   * The first {@code limit} live entries in {@code range} at {@link #version()}, in {@code
   * direction}.
   *
   * @param limit the most entries returned, at least 0
   * @throws NullPointerException if {@code range} or {@code direction} is null
   * @throws IllegalArgumentException if {@code limit} is negative
   * @throws IllegalStateException if the transaction is closed
   */
  public List<Entry> scan(KeyRange range, Direction direction, int limit) {
    return snapshot().scan(range, version, direction, limit);
  }

  /**
   * A lazy iterator over the live entries in {@code range} at {@link #version()}: the way to walk a
   * large range without holding it in a list.
   *
   * @throws NullPointerException if {@code range} or {@code direction} is null
   * @throws IllegalStateException if the transaction is closed
   */
  public Iterator<Entry> iterator(KeyRange range, Direction direction) {
    return snapshot().iterator(range, version, direction);
  }

  /**
   * Number of live keys in {@code range} at {@link #version()}.
   *
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalStateException if the transaction is closed
   */
  public long count(KeyRange range) {
    return snapshot().count(range, version);
  }

  /**
   * Every change to {@code key} with a version in [{@code fromVersion}, {@code toVersion}], oldest
   * first, deletes included.
   *
   * @param fromVersion lowest version, at least the snapshot's watermark
   * @param toVersion highest version, at most {@link #version()}
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code key} is over the key limit, {@code fromVersion >
   *     toVersion}, or a version is negative or above {@link #version()}
   * @throws dev.zverse.engine.VersionCompactedException if {@code fromVersion} is below the
   *     snapshot's watermark
   * @throws IllegalStateException if the transaction is closed
   */
  public List<Change> history(byte[] key, long fromVersion, long toVersion) {
    return snapshot().history(key, fromVersion, requireAtMostVersion(toVersion));
  }

  /** {@link #history(byte[], long, long)} of a UTF-8 key. */
  public List<Change> history(String key, long fromVersion, long toVersion) {
    return snapshot().history(key, fromVersion, requireAtMostVersion(toVersion));
  }

  /**
   * Every change to a key in {@code range} with a version in [{@code fromVersion}, {@code
   * toVersion}], deletes included, ordered by version then key.
   *
   * @param toVersion highest version, at most {@link #version()}
   * @throws NullPointerException if {@code range} is null
   * @throws IllegalArgumentException if {@code fromVersion > toVersion}, or a version is negative or
   *     above {@link #version()}
   * @throws dev.zverse.engine.VersionCompactedException if {@code fromVersion} is below the
   *     snapshot's watermark
   * @throws IllegalStateException if the transaction is closed
   */
  public List<Change> changes(KeyRange range, long fromVersion, long toVersion) {
    return snapshot().changes(range, fromVersion, requireAtMostVersion(toVersion));
  }

  private long requireAtMostVersion(long toVersion) {
    if (toVersion > version) {
      throw new IllegalArgumentException(
          "toVersion must be at most the transaction's version " + version + ", was " + toVersion);
    }
    return toVersion;
  }

  /**
   * A second holder of this transaction's pin, for {@link ZVerseStore#pin(ReadTransaction,
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

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed.get();
  }

  /** Releases the pin. Closing again does nothing. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      pins.release(pin);
    }
  }

  @Override
  public String toString() {
    return "ReadTransaction[store=" + storeName + ", owner=" + pin.owner + ", version=" + version
        + (closed.get() ? ", closed]" : "]");
  }
}
