package dev.zverse.actors;

import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.jspecify.annotations.Nullable;

/**
 * The hooks of a {@link ZVerseStore} that integrations build on, such as the streams module's
 * change feeds and the persistence module's query: publish listeners, version pins and the last
 * published snapshot. Reached through {@link ZVerseStore#advanced()}, as Caffeine keeps its
 * advanced operations behind {@code policy()}, so that the store's own API stays what an
 * application needs. An application reads through {@link ZVerseStore#snapshot()} and {@link
 * ZVerseStore#readTransaction()} instead.
 *
 * <p>Unlike the store's reads and writes, these work while a close is still answering the last
 * writes, so that a follower started before the close follows them to the end.
 *
 * <p>Thread-safe: every method may be called from any thread or actor (but see {@link #pin(long,
 * String)}, which may spin for a moment).
 */
public final class AdvancedOperations {
  /**
   * How long {@link #pin(long, String)} and {@link ZVerseStore#readTransaction(long, String)} wait
   * out an EpochActor that is deciding a watermark above the version.
   */
  private static final long PIN_RACE_NANOS = 20_000_000;

  private final String name;
  private final Root root;
  private final Pins pins;
  private final CompletableFuture<Done> stopped;

  /** A replica's input: its gate and writer; null for a store that takes writes. */
  private final @Nullable Input input;

  /** What a replica's input goes through: the gate that bounds it, the writer that applies it. */
  record Input(WriteGate gate, ActorRef<WriterActor.Command> writer, int maxPending) {}

  AdvancedOperations(
      String name, Root root, Pins pins, CompletableFuture<Done> stopped, @Nullable Input input) {
    this.name = name;
    this.root = root;
    this.pins = pins;
    this.stopped = stopped;
    this.input = input;
  }

  /**
   * Applies {@code group}, consecutive commits of the store this replica follows (as its writer
   * sent them, {@link CommitRecordCodec}), as this replica's next versions: each at its own version
   * and commit time, through the replica's own writer, so its snapshots, read transactions, pins,
   * publish listeners and change feeds work as a local store's. Groups are applied in the order
   * sent from one thread or actor; the group's watermark is not applied (the replica keeps history
   * by its own retention).
   *
   * @param group the commits; the first must be this replica's next version, with no gap and no
   *     duplicate after it
   * @return completes with the group's last version once published here, or exceptionally: {@link
   *     IllegalArgumentException} naming the expected and the given version if the group does not
   *     follow the replica's version (nothing of it applied), {@link StoreOverloadedException} if
   *     {@code max-pending-writes} groups are waiting already, {@link StoreFailedException} if a
   *     durable replica's log failed
   * @throws NullPointerException if {@code group} is null
   * @throws IllegalArgumentException if {@code group} holds no commit
   * @throws UnsupportedOperationException if this store is not a replica ({@link
   *     ZVerse#openReplica})
   * @throws IllegalStateException if the store is closed
   */
  public CompletionStage<Long> applyCommits(CommitRecordCodec.Group group) {
    Objects.requireNonNull(group, "group");
    Input in = requireReplica();
    if (group.commits().isEmpty()) {
      throw new IllegalArgumentException("group.commits must hold at least 1 commit, held 0");
    }
    CompletableFuture<Long> result = new CompletableFuture<>();
    send(in, new WriterActor.Follow(group.commits(), result), result);
    return result;
  }

  /**
   * Makes {@code base} this replica's snapshot, in place of everything it holds: what a state
   * transfer delivers when the replica is too far behind to follow commit by commit. Applied after
   * every group sent before it; the next group must start at {@code base.version() + 1}. Read
   * transactions and snapshots taken before keep reading what they read. The base's watermark
   * becomes the replica's: a pin or change feed below it can read no later snapshot at its version
   * (a feed fails with its lag or compacted error, never skipping).
   *
   * <p>A durable replica first makes the base durable, after the groups sent before it are logged:
   * it writes the base as a checkpoint (forced and renamed into place), restarts its log after the
   * base's version and deletes the older segments and checkpoints ({@link
   * dev.zverse.engine.DurableLog#resetTo}); only then is the base published and the stage
   * completed. A crash before then recovers the state before the reset or the base, never a mix.
   *
   * @param base the state to follow on from, at or after this replica's version
   * @return completes with {@code base.version()} once published here (and, if durable, once on the
   *     disk), or exceptionally: {@link IllegalArgumentException} if the base is behind this
   *     replica's version, an {@link java.io.IOException} if a durable replica could not write the
   *     base (it then still holds its state before the reset), {@link StoreFailedException} if its
   *     log failed earlier, {@link StoreOverloadedException}
   * @throws NullPointerException if {@code base} is null
   * @throws UnsupportedOperationException if this store is not a replica
   * @throws IllegalStateException if the store is closed
   */
  public CompletionStage<Long> resetTo(Snapshot base) {
    Objects.requireNonNull(base, "base");
    Input in = requireReplica();
    CompletableFuture<Long> result = new CompletableFuture<>();
    send(in, new WriterActor.Reset(base, result), result);
    return result;
  }

  /** Whether this store is a replica, fed by {@link #applyCommits} instead of its own writes. */
  public boolean isReplica() {
    return input != null;
  }

  private Input requireReplica() {
    if (input == null) {
      throw new UnsupportedOperationException(
          "store ["
              + name
              + "] is not a replica: open it with ZVerse.openReplica to follow a writer");
    }
    return input;
  }

  private void send(Input in, WriterActor.Command command, CompletableFuture<Long> result) {
    switch (in.gate().enter()) {
      case ADMITTED -> in.writer().tell(command);
      case OVERLOADED ->
          result.completeExceptionally(new StoreOverloadedException(name, in.maxPending()));
      case CLOSED -> throw new IllegalStateException("store [" + name + "] is closed");
    }
  }

  /**
   * Registers {@code listener} to be told of every snapshot published from now on, and once of the
   * writer's stop (see {@link PublishListener} for the rules it must follow: it runs on the
   * writer's thread). Works on a closed store too: the listener is told of the remaining publishes
   * and the stop, or of the stop at once if the writer has already stopped.
   *
   * @param listener the listener; registering one object twice tells it twice
   * @throws NullPointerException if {@code listener} is null
   */
  public void addPublishListener(PublishListener listener) {
    root.listeners().add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Unregisters {@code listener} (one registration of it); a publish under way may still call it.
   *
   * @param listener the listener to unregister
   * @return true if it was registered
   * @throws NullPointerException if {@code listener} is null
   */
  public boolean removePublishListener(PublishListener listener) {
    return root.listeners().remove(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * The latest published snapshot, whether the store is closed or not. Unlike {@link
   * ZVerseStore#snapshot()} it never throws: while a close answers the last writes it still moves,
   * and after the store has stopped it is the final state. For followers started before a close,
   * such as change feeds.
   *
   * @return the latest published snapshot
   */
  public Snapshot lastPublished() {
    return root.snapshotAcquire();
  }

  /**
   * Tries to pin {@code version} so that every snapshot published from now on can still read it,
   * until the pin is moved or closed: the cursor of a change feed. The EpochActor counts it like a
   * read transaction's pin. No message, no lock, no wait: in the rare case that the EpochActor is
   * deciding a watermark above {@code version} at this very moment, whose outcome may still keep
   * {@code version} (other pins), it returns empty, and the caller tries again later (the decision
   * takes one message of the EpochActor).
   *
   * @param version a version in [watermark, version + 1] of the latest snapshot; {@code version +
   *     1} is the next commit, which a follower that has read everything needs next, and holds
   *     nothing back
   * @param owner who holds the pin, named in long-pin warnings
   * @return the pin (close it to release the version), or empty if the decision is pending
   * @throws NullPointerException if {@code owner} is null
   * @throws IllegalArgumentException if {@code version} is negative or above the latest version + 1
   * @throws VersionCompactedException if {@code version} is below the watermark, or a prune past it
   *     was decided; its {@code watermark()} is the oldest version still readable
   * @throws IllegalStateException if the store is closed and has stopped; while a close is still
   *     answering the last writes, a pin is allowed, so that a change feed started before the close
   *     follows them to the end
   */
  public Optional<VersionPin> tryPin(long version, String owner) {
    Objects.requireNonNull(owner, "owner");
    requireRunning();
    Snapshot s = root.snapshotAcquire();
    if (version < 0 || version > s.version() + 1) {
      throw new IllegalArgumentException(
          "version must be in [" + s.watermark() + ", " + (s.version() + 1) + "], was " + version);
    }
    Pins.Pin pin = tryPinAt(version, owner);
    return pin == null ? Optional.empty() : Optional.of(new VersionPin(name, pins, pin, owner));
  }

  /**
   * Pins {@code version} like {@link #tryPin}, for callers that may wait a moment: in the rare case
   * that the EpochActor is deciding a watermark above {@code version} at this very moment, spins
   * until its decision (microseconds; at most 20 ms). Never call it from a stream stage or an
   * actor: use {@link #tryPin} there.
   *
   * @param version a version in [watermark, version] of the latest snapshot
   * @param owner who holds the pin, named in long-pin warnings
   * @return the pin; close it to release the version
   * @throws NullPointerException if {@code owner} is null
   * @throws IllegalArgumentException if {@code version} is negative or above the latest version
   * @throws VersionCompactedException if {@code version} is below the watermark, or a prune past it
   *     was decided
   * @throws IllegalStateException if the store is closed and has stopped
   */
  public VersionPin pin(long version, String owner) {
    Objects.requireNonNull(owner, "owner");
    requireRunning();
    requireInRange(version);
    return new VersionPin(name, pins, pinAwaitingDecision(version, owner), owner);
  }

  /**
   * A pin at {@code transaction}'s version that shares the transaction's own pin, taken over at
   * once: the version stays pinned without a gap from the moment the transaction read its state
   * until this pin moves or closes, whether the transaction is closed before or after. This is how
   * a change feed started from a read transaction follows the state it listed (list, then watch);
   * nothing waits and nothing can race with the EpochActor here.
   *
   * @param transaction an open read transaction of this store
   * @param owner who holds the pin once it moves, named in long-pin warnings
   * @return the pin; close it to release its share of the version
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code transaction} belongs to another store
   * @throws IllegalStateException if {@code transaction} is closed, or the store is closed and has
   *     stopped
   */
  public VersionPin pin(ReadTransaction transaction, String owner) {
    Objects.requireNonNull(transaction, "transaction");
    Objects.requireNonNull(owner, "owner");
    requireRunning();
    if (!transaction.retainPin(pins)) {
      throw new IllegalStateException(
          transaction + " is closed: take the pin before closing the transaction");
    }
    return new VersionPin(name, pins, transaction.pin(), owner);
  }

  @Override
  public String toString() {
    return "AdvancedOperations[" + name + "]";
  }

  /** A read transaction at the latest version, for {@link ZVerseStore#readTransaction(String)}. */
  ReadTransaction transactionAtLatest(String owner) {
    for (; ; ) {
      Snapshot s = root.snapshotAcquire();
      Pins.Pin pin = pins.newPin(s.version(), owner);
      if (pins.tryPin(pin)) {
        return new ReadTransaction(name, s, pins, pin);
      }
      // The EpochActor is about to prune past s.version(): retry with a newer snapshot (Pins).
    }
  }

  /**
   * A read transaction at {@code version}, for {@link ZVerseStore#readTransaction(long, String)}.
   */
  ReadTransaction transactionAt(long version, String owner) {
    requireInRange(version);
    Pins.Pin pin = pinAwaitingDecision(version, owner);
    // Read after the pin holds: this snapshot and every later one can read version.
    return new ReadTransaction(name, root.snapshotAcquire(), pins, pin);
  }

  /**
   * A validated pin at {@code version}: spins while the EpochActor's decision on it is pending
   * (microseconds; at most 20 ms), for the callers that may wait a moment.
   *
   * @throws VersionCompactedException if a prune past it was decided, or no decision came in time
   */
  Pins.Pin pinAwaitingDecision(long version, String owner) {
    long deadline = System.nanoTime() + PIN_RACE_NANOS;
    for (; ; ) {
      Pins.Pin pin = tryPinAt(version, owner);
      if (pin != null) {
        return pin;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new VersionCompactedException(version, pins.proposedWatermark());
      }
      Thread.onSpinWait();
    }
  }

  /**
   * Pins {@code version} if it holds now: the pin, or null if the EpochActor's decision is pending.
   *
   * @throws VersionCompactedException if {@code version} is, or is decided to be, below the
   *     watermark
   */
  private Pins.@Nullable Pin tryPinAt(long version, String owner) {
    Pins.Pin pin = pins.newPin(version, owner);
    if (pins.tryPin(pin)) {
      // A validated pin is never pruned past, but a snapshot published before it may already be.
      long w = root.snapshotAcquire().watermark();
      if (w > version) {
        pins.unpin(pin);
        throw new VersionCompactedException(version, w);
      }
      return pin;
    }
    // Lost the race to a proposal: a decided watermark is final, a pending one may yet come out at
    // or below version (Pins).
    long w = Math.max(root.snapshotAcquire().watermark(), pins.decidedWatermark());
    if (w > version) {
      throw new VersionCompactedException(version, w);
    }
    return null;
  }

  private void requireInRange(long version) {
    Snapshot s = root.snapshotAcquire();
    if (version < 0 || version > s.version()) {
      throw new IllegalArgumentException(
          "version must be in [" + s.watermark() + ", " + s.version() + "], was " + version);
    }
  }

  private void requireRunning() {
    if (stopped.isDone()) {
      throw new IllegalStateException("store [" + name + "] is closed");
    }
  }
}
