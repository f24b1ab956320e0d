package dev.zverse.persistence;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import dev.zverse.engine.WriteBatch;
import dev.zverse.streams.ChangeFeed;
import dev.zverse.streams.ChangeFeedCompactedException;
import dev.zverse.streams.ChangeFeedOptions;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.query.DeletedDurableState;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.NoOffset;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.persistence.query.UpdatedDurableState;
import org.apache.pekko.persistence.query.javadsl.DurableStateStorePagedPersistenceIdsQuery;
import org.apache.pekko.persistence.query.javadsl.DurableStateStoreQuery;
import org.apache.pekko.persistence.query.typed.javadsl.DurableStateStoreBySliceQuery;
import org.apache.pekko.persistence.state.exception.DeleteRevisionException;
import org.apache.pekko.persistence.state.javadsl.DurableStateUpdateStore;
import org.apache.pekko.persistence.state.javadsl.GetObjectResult;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.stream.javadsl.Source;
import org.jspecify.annotations.Nullable;
import scala.collection.immutable.Range;

/**
 * The durable state store of the plug-in, Java DSL: Pekko Persistence's durable state objects kept
 * in a ZVerse store, with the changes-by-tag and changes-by-slices queries on the store's change
 * feed, the persistence ids query, and reads of any object at any retained version of the store.
 *
 * <h2>Revisions</h2>
 *
 * An object that was never written has revision 0. {@link #upsertObject} with revision {@code r}
 * succeeds only if the object's revision is {@code r - 1}, else it fails with {@link
 * RevisionConflictException} naming the persistence id, the revision asked for and the one found;
 * {@link #deleteObject(String, long)} likewise, with Pekko's {@link DeleteRevisionException}. The
 * check and the write are one atomic ZVerse batch, conditioned on the version of the object's last
 * change, so of two concurrent writers of one revision exactly one succeeds. A delete keeps the
 * object's revision: {@link #getObject} then answers no value with the delete's revision, and the
 * next upsert takes the revision after it.
 *
 * <h2>Changes by tag</h2>
 *
 * Every upsert and delete takes one version of the store; the offset of its change is {@code
 * Offset.sequence(version)}, and a query from {@code Offset.sequence(v)} emits the changes after
 * version {@code v}, as Pekko's test kit and the JDBC plug-in do. {@link Offset#noOffset()} lists
 * the tag's objects at the latest version (the oldest change first) and, for {@link #changes}, then
 * follows the feed after that version: nothing missed, nothing twice. A query from an offset whose
 * following changes retention has pruned ({@code v + 1} below the store's watermark) fails with
 * {@link ChangeFeedCompactedException} naming {@code v} and the watermark, never skips: the
 * consumer starts again from {@code NoOffset} (or from a snapshot of its own and a retained
 * offset). Moving an object to another tag, or the deprecated {@link #deleteObject(String)},
 * removes it from its old tag without a change there.
 *
 * <h2>Changes by slices</h2>
 *
 * {@link #currentChangesBySlices} and {@link #changesBySlices} are the same two queries, with the
 * objects chosen by entity type (what comes before the first {@code |} of the persistence id) and
 * slice range (Pekko's {@code Persistence.sliceForPersistenceId}) instead of by tag, whatever tag
 * they have: the same offsets, the same replay then live, the same failure from a pruned offset. So
 * the changes of the slice ranges of any split ({@link #sliceRanges}) are together those of the
 * entity type, each in exactly one range, as Pekko Projections' {@code changesBySlices} expects.
 *
 * <h2>Persistence ids</h2>
 *
 * {@link #currentPersistenceIds} pages through the stored objects' ids in key order, each page from
 * one snapshot.
 *
 * <h2>Time</h2>
 *
 * The timestamp of every change is read from the clock the provider passes, the store's own ({@link
 * dev.zverse.actors.StoreSettings#clock()}): the system clock unless a {@link
 * dev.zverse.actors.ZVerseSetup} gives the store another, as a test does to drive it.
 *
 * <p>One class, because Pekko's plug-in contract is one object implementing both the update store
 * and its query; the key layout already lives in {@code StateKeys}.
 *
 * <p>Thread-safe: one instance serves every actor of the actor system.
 *
 * @param <A> the type of the state objects
 */
public final class ZVerseDurableStateStore<A>
    implements DurableStateUpdateStore<A>,
        DurableStateStoreQuery<A>,
        DurableStateStoreBySliceQuery<A>,
        DurableStateStorePagedPersistenceIdsQuery<A> {
  /** Tries of a conditional write whose condition failed while the revision was still right. */
  private static final int MAX_TRIES = 16;

  private final ZVerseStore store;
  private final StateKeys keys;
  private final Serialization serialization;
  private final InstantSource clock;
  private final Executor executor;
  private final Persistence persistence;

  /**
   * @param clock stamps every change ({@code DurableStateChange.timestamp}); the provider passes
   *     the store's clock
   */
  ZVerseDurableStateStore(
      ExtendedActorSystem system, ZVerseStore store, String keyPrefix, InstantSource clock) {
    this.store = store;
    this.keys = new StateKeys(keyPrefix);
    this.serialization = SerializationExtension.get(system);
    this.clock = clock;
    this.executor = system.dispatcher();
    this.persistence = Persistence.get(system);
  }

  /**
   * The ZVerse store the objects are kept in: its reads, history and change feeds see the plug-in's
   * keys (see the README for their layout).
   *
   * @return the store, open until the actor system terminates
   */
  public ZVerseStore store() {
    return store;
  }

  // ---------------------------------------------------------------- reads

  /**
   * The object's latest state and revision.
   *
   * @param persistenceId the object's persistence id, not null
   * @return a stage with the state (empty if never written or deleted) and revision (0 if never
   *     written); failed if the stored state cannot be deserialized or the store is closed
   * @throws NullPointerException if {@code persistenceId} is null
   */
  @Override
  public CompletionStage<GetObjectResult<A>> getObject(String persistenceId) {
    Objects.requireNonNull(persistenceId, "persistenceId");
    return attempt(
        () -> {
          Snapshot s = store.snapshot();
          return read(s, persistenceId, s.version());
        });
  }

  /**
   * The object's state and revision as they were at version {@code atVersion} of the store: time
   * travel. The version of a change is the sequence number of its offset in {@link #changes}.
   *
   * @param persistenceId the object's persistence id, not null
   * @param atVersion a version of the store, in [watermark, latest version]
   * @return the state then (empty if not written yet or deleted) and the revision then
   * @throws NullPointerException if {@code persistenceId} is null
   * @throws VersionCompactedException if {@code atVersion} is below the retention watermark
   * @throws IllegalArgumentException if {@code atVersion} is negative or after the latest version
   * @throws org.apache.pekko.serialization.SerializationException or the serializer's own exception
   *     if the state cannot be deserialized
   */
  public GetObjectResult<A> getObject(String persistenceId, long atVersion) {
    Objects.requireNonNull(persistenceId, "persistenceId");
    Snapshot s = store.snapshot();
    if (atVersion < 0 || atVersion > s.version()) {
      throw new IllegalArgumentException(
          "atVersion must be in [" + s.watermark() + ", " + s.version() + "], was " + atVersion);
    }
    return read(s, persistenceId, atVersion);
  }

  private GetObjectResult<A> read(Snapshot s, String persistenceId, long atVersion) {
    byte[] head = s.get(keys.head(persistenceId), atVersion);
    if (head == null) {
      return new GetObjectResult<>(Optional.empty(), 0);
    }
    StateRecord.Head h = StateRecord.Head.decode(head);
    byte[] state = s.get(keys.state(h.tag(), persistenceId), atVersion);
    if (state == null) {
      throw new IllegalStateException(
          "the head of persistenceId ["
              + persistenceId
              + "] names tag ["
              + h.tag()
              + "] but no state is stored under it at version "
              + atVersion);
    }
    StateRecord r = StateRecord.decode(state);
    Optional<A> value = r.deleted() ? Optional.empty() : Optional.of(value(r));
    return new GetObjectResult<>(value, r.revision());
  }

  @SuppressWarnings("unchecked")
  private A value(StateRecord r) {
    return (A) serialization.deserialize(r.payload(), r.serializerId(), r.manifest()).get();
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores {@code value} as the object's state at {@code revision}, under {@code tag}.
   *
   * @param persistenceId the object's persistence id, not null
   * @param revision the object's current revision plus one (1 for a new object)
   * @param value the state, serialized with Pekko's serialization; not null
   * @param tag the tag whose queries see the object; null or empty for none (the empty tag)
   * @return a stage completed once the state is committed (on disk for a durable store), failed
   *     with {@link RevisionConflictException} if the revision is not the current one plus one,
   *     with {@link IllegalArgumentException} if a key or the value is over the store's limits, or
   *     with the serializer's exception; a failed upsert changes nothing
   * @throws NullPointerException if {@code persistenceId} or {@code value} is null
   * @throws IllegalArgumentException if {@code revision} is below 1
   */
  @Override
  public CompletionStage<Done> upsertObject(
      String persistenceId, long revision, A value, String tag) {
    Objects.requireNonNull(persistenceId, "persistenceId");
    Objects.requireNonNull(value, "value");
    requireRevision(revision);
    return attempt(
            () -> {
              Serializer serializer = serialization.findSerializerFor(value);
              StateRecord r =
                  StateRecord.state(
                      revision,
                      clock.millis(),
                      serializer.identifier(),
                      Serializers.manifestFor(serializer, value),
                      serializer.toBinary(value));
              return r;
            })
        .thenCompose(r -> write(persistenceId, r, tag == null ? "" : tag, 1));
  }

  /**
   * Deletes the object's state, checking its revision (Pekko 1.1 and later): the object keeps
   * revision {@code revision}, and {@link #getObject} answers no value.
   *
   * @param persistenceId the object's persistence id, not null
   * @param revision the object's current revision plus one, as Pekko's {@code DurableStateBehavior}
   *     passes it
   * @return a stage completed once the deletion is committed, or failed with {@link
   *     DeleteRevisionException} if the revision is not the current one plus one; a failed delete
   *     changes nothing
   * @throws NullPointerException if {@code persistenceId} is null
   * @throws IllegalArgumentException if {@code revision} is below 1
   */
  @Override
  public CompletionStage<Done> deleteObject(String persistenceId, long revision) {
    Objects.requireNonNull(persistenceId, "persistenceId");
    requireRevision(revision);
    return write(persistenceId, StateRecord.deletion(revision, clock.millis()), null, 1);
  }

  /**
   * Deletes the object without checking its revision (deprecated by Pekko): its keys are removed,
   * so its revision starts from 0 again and no query of its tag sees a change. Nothing happens to
   * an object that does not exist.
   *
   * @param persistenceId the object's persistence id, not null
   * @return a stage completed once the deletion is committed
   * @throws NullPointerException if {@code persistenceId} is null
   * @deprecated use {@link #deleteObject(String, long)}, which checks the revision
   */
  @Deprecated
  @Override
  public CompletionStage<Done> deleteObject(String persistenceId) {
    Objects.requireNonNull(persistenceId, "persistenceId");
    return remove(persistenceId, 1);
  }

  /** The deprecated delete, conditioned on the head it read: it removes the right tag's key. */
  private CompletionStage<Done> remove(String persistenceId, int tries) {
    try {
      byte[] headKey = keys.head(persistenceId);
      Entry head = store.snapshot().entry(headKey);
      if (head == null) {
        return CompletableFuture.completedFuture(Done.getInstance());
      }
      String tag = StateRecord.Head.decode(head.value()).tag();
      WriteBatch batch =
          WriteBatch.builder()
              .requireModVersion(headKey, head.modVersion())
              .delete(headKey)
              .delete(keys.state(tag, persistenceId))
              .build();
      return store
          .write(batch)
          .handleAsync(
              (version, failure) -> {
                if (failure == null) {
                  return CompletableFuture.completedFuture(Done.getInstance());
                }
                Throwable cause = unwrap(failure);
                return cause instanceof ConditionFailedException && tries < MAX_TRIES
                    ? remove(persistenceId, tries + 1)
                    : CompletableFuture.<Done>failedFuture(cause);
              },
              executor)
          .thenCompose(stage -> stage);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Writes {@code r} as the object's next record if its revision is the current one plus one. The
   * revision is read from the latest snapshot and the batch is conditioned on the head's version of
   * then, so the check holds at the commit. A condition that failed is read again: a revision that
   * moved is the conflict; one that did not (only the deprecated delete and a re-creation can put
   * it back) is tried again, at most {@value #MAX_TRIES} times.
   *
   * @param tag the object's tag; null keeps the tag it has (a delete)
   * @return a stage that fails instead of throwing, also for a key over the store's limit
   */
  private CompletionStage<Done> write(
      String persistenceId, StateRecord r, @Nullable String tag, int tries) {
    try {
      byte[] headKey = keys.head(persistenceId);
      Entry head = store.snapshot().entry(headKey);
      StateRecord.Head current = head == null ? null : StateRecord.Head.decode(head.value());
      long currentRevision = current == null ? 0 : current.revision();
      if (currentRevision != r.revision() - 1 || tries > MAX_TRIES) {
        return CompletableFuture.failedFuture(conflict(persistenceId, r, currentRevision));
      }
      String newTag = tag != null ? tag : current == null ? "" : current.tag();
      WriteBatch.Builder batch =
          WriteBatch.builder()
              .requireModVersion(headKey, head == null ? 0 : head.modVersion())
              .put(headKey, new StateRecord.Head(r.revision(), newTag).encode());
      if (current != null && !current.tag().equals(newTag)) {
        batch.delete(keys.state(current.tag(), persistenceId));
      }
      batch.put(keys.state(newTag, persistenceId), r.encode());
      return store
          .write(batch.build())
          .handleAsync(
              (version, failure) -> {
                if (failure == null) {
                  return CompletableFuture.completedFuture(Done.getInstance());
                }
                Throwable cause = unwrap(failure);
                return cause instanceof ConditionFailedException
                    ? write(persistenceId, r, tag, tries + 1)
                    : CompletableFuture.<Done>failedFuture(cause);
              },
              executor)
          .thenCompose(stage -> stage);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static RuntimeException conflict(String persistenceId, StateRecord r, long current) {
    if (!r.deleted()) {
      return new RevisionConflictException(persistenceId, r.revision(), current);
    }
    return new DeleteRevisionException(
        "Failed to delete object with persistenceId ["
            + persistenceId
            + "] and revision ["
            + r.revision()
            + "]: it has to be 1 more than the revision in the store, ["
            + current
            + "], so expected ["
            + (current + 1)
            + "]");
  }

  private static void requireRevision(long revision) {
    if (revision < 1) {
      throw new IllegalArgumentException("revision must be >= 1, was " + revision);
    }
  }

  // ---------------------------------------------------------------- queries

  /**
   * The most recent change of each object of {@code tag} after {@code offset}, up to the store's
   * version when the source is materialized, oldest first; then the source completes.
   *
   * @param tag the tag, not null ("" for objects upserted without one)
   * @param offset {@link Offset#noOffset()} for every object of the tag, or {@code
   *     Offset.sequence(v)} for the changes after version {@code v}
   * @return a source of {@link UpdatedDurableState} and {@link DeletedDurableState}, each with
   *     offset {@code Offset.sequence(version of the change)}; it fails with {@link
   *     IllegalArgumentException} if {@code v} is negative or after the latest version, with {@link
   *     ChangeFeedCompactedException} (naming {@code v} and the watermark) if retention pruned
   *     changes after {@code v} ({@code v + 1} below the store's watermark), and with {@link
   *     dev.zverse.streams.ChangeFeedLagException} if {@code v} is further behind than the change
   *     feed's lag limit
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code offset} is neither {@code NoOffset} nor a {@link
   *     Sequence}
   */
  @Override
  public Source<DurableStateChange<A>, NotUsed> currentChanges(String tag, Offset offset) {
    return query(new Tag(tag), offset, false);
  }

  /**
   * The changes of the objects of {@code tag} after {@code offset}, then live: the source does not
   * complete. Replays from the store's retained history and then follows its commits, with no gap
   * and no duplicate, back-pressured (see {@link ChangeFeed}); from {@code NoOffset} it first lists
   * the tag's objects at the latest version.
   *
   * @param tag the tag, not null ("" for objects upserted without one)
   * @param offset {@link Offset#noOffset()} or {@code Offset.sequence(v)}, as in {@link
   *     #currentChanges}
   * @return a source of {@link UpdatedDurableState} and {@link DeletedDurableState}; it fails as
   *     {@link #currentChanges} does, and with {@link dev.zverse.streams.ChangeFeedLagException}
   *     when it falls further behind than the change feed's lag limit; it completes when the store
   *     is closed
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code offset} is neither {@code NoOffset} nor a {@link
   *     Sequence}
   */
  @Override
  public Source<DurableStateChange<A>, NotUsed> changes(String tag, Offset offset) {
    return query(new Tag(tag), offset, true);
  }

  // ---------------------------------------------------------------- by slices

  /**
   * The most recent change of each object of {@code entityType} in the slices {@code minSlice} to
   * {@code maxSlice} after {@code offset}, up to the store's version when the source is
   * materialized, oldest first; then the source completes. {@link #currentChanges} with the objects
   * chosen by entity type and slice instead of by tag, and the same offsets and guarantees.
   *
   * @param entityType the entity type: what comes before the first {@code |} of the persistence id
   *     (Pekko's {@code PersistenceId.extractEntityType}), "" for the ids without one; not null
   * @param minSlice the first slice, in [0, {@code maxSlice}]
   * @param maxSlice the last slice, in [{@code minSlice}, 1023] (Pekko has 1024 slices)
   * @param offset {@link Offset#noOffset()} or {@code Offset.sequence(v)}, as in {@link
   *     #currentChanges}
   * @return a source of {@link UpdatedDurableState} and {@link DeletedDurableState}, each with
   *     offset {@code Offset.sequence(version of the change)}; it fails as {@link #currentChanges}
   *     does
   * @throws NullPointerException if {@code entityType} or {@code offset} is null
   * @throws IllegalArgumentException if a slice is out of its bounds, or {@code offset} is neither
   *     {@code NoOffset} nor a {@link Sequence}
   */
  @Override
  public Source<DurableStateChange<A>, NotUsed> currentChangesBySlices(
      String entityType, int minSlice, int maxSlice, Offset offset) {
    return query(new Slices(entityType, minSlice, maxSlice), offset, false);
  }

  /**
   * The changes of the objects of {@code entityType} in the slices {@code minSlice} to {@code
   * maxSlice} after {@code offset}, then live: {@link #changes} with the objects chosen by entity
   * type and slice instead of by tag. Replay then live with no gap and no duplicate,
   * back-pressured; the source does not complete.
   *
   * @param entityType the entity type, as in {@link #currentChangesBySlices}; not null
   * @param minSlice the first slice, in [0, {@code maxSlice}]
   * @param maxSlice the last slice, in [{@code minSlice}, 1023]
   * @param offset {@link Offset#noOffset()} or {@code Offset.sequence(v)}, as in {@link #changes}
   * @return a source of {@link UpdatedDurableState} and {@link DeletedDurableState}; it fails and
   *     completes as {@link #changes} does
   * @throws NullPointerException if {@code entityType} or {@code offset} is null
   * @throws IllegalArgumentException if a slice is out of its bounds, or {@code offset} is neither
   *     {@code NoOffset} nor a {@link Sequence}
   */
  @Override
  public Source<DurableStateChange<A>, NotUsed> changesBySlices(
      String entityType, int minSlice, int maxSlice, Offset offset) {
    return query(new Slices(entityType, minSlice, maxSlice), offset, true);
  }

  /**
   * The slice of a persistence id, as Pekko computes it for every plug-in ({@code
   * Persistence.sliceForPersistenceId}).
   *
   * @param persistenceId the persistence id, not null
   * @return its slice, in [0, 1023]
   * @throws NullPointerException if {@code persistenceId} is null
   */
  @Override
  public int sliceForPersistenceId(String persistenceId) {
    Objects.requireNonNull(persistenceId, "persistenceId");
    return persistence.sliceForPersistenceId(persistenceId);
  }

  /**
   * The 1024 slices split into {@code numberOfRanges} ranges of equal size, as Pekko splits them
   * ({@code Persistence.getSliceRanges}): one range per projection instance.
   *
   * @param numberOfRanges how many ranges, a divisor of 1024 (1, 2, 4, ..., 1024)
   * @return the ranges in slice order, each as (first slice, last slice), both inclusive
   * @throws IllegalArgumentException if {@code numberOfRanges} is not a divisor of 1024
   */
  @Override
  public List<Pair<Integer, Integer>> sliceRanges(int numberOfRanges) {
    requireNumberOfRanges(numberOfRanges);
    return persistence.getSliceRanges(numberOfRanges);
  }

  /** {@link #sliceRanges}, in the Scala DSL's form. */
  scala.collection.immutable.Seq<Range> scalaSliceRanges(int numberOfRanges) {
    requireNumberOfRanges(numberOfRanges);
    return persistence.sliceRanges(numberOfRanges);
  }

  private void requireNumberOfRanges(int numberOfRanges) {
    int slices = persistence.numberOfSlices();
    if (numberOfRanges < 1 || numberOfRanges > slices || slices % numberOfRanges != 0) {
      throw new IllegalArgumentException(
          "numberOfRanges must be a divisor of the "
              + slices
              + " slices, in [1, "
              + slices
              + "], was "
              + numberOfRanges);
    }
  }

  // ---------------------------------------------------------------- persistence ids

  /**
   * The persistence ids of the stored objects after {@code afterId}, at most {@code limit} of them,
   * in key order (the unsigned order of their UTF-8 bytes, which for ids without characters outside
   * the Basic Multilingual Plane is {@link String#compareTo}'s), all read from the one snapshot
   * that is latest when the source is materialized; then it completes. An object deleted with a
   * revision is still listed (it keeps its revision); one removed by the deprecated {@link
   * #deleteObject(String)} is not. The ids are read lazily from the snapshot, back-pressured: a
   * page is not held in memory.
   *
   * @param afterId the last id of the previous page, or empty for the first page; not null
   * @param limit the most ids emitted, at least 1 ({@link Long#MAX_VALUE} for all)
   * @return a source of persistence ids
   * @throws NullPointerException if {@code afterId} is null
   * @throws IllegalArgumentException if {@code limit} is below 1
   */
  @Override
  public Source<String, NotUsed> currentPersistenceIds(Optional<String> afterId, long limit) {
    Objects.requireNonNull(afterId, "afterId");
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }
    KeyRange range = afterId.map(keys::headsAfter).orElseGet(keys::heads);
    // The snapshot is read when the stream starts; it is immutable, so pruning never changes it.
    return Source.lazySource(
            () -> {
              Iterator<Entry> heads = store.snapshot().iterator(range, Direction.FORWARD);
              return Source.fromIterator(() -> heads)
                  .take(limit)
                  .map(e -> keys.persistenceIdOfHead(e.key()));
            })
        .mapMaterializedValue(unused -> NotUsed.getInstance());
  }

  // ---------------------------------------------------------------- selections

  /**
   * The objects a query follows, a tag's or an entity type's in a slice range: where its change
   * feed looks, which state keys there are its objects', and its objects now.
   */
  private interface Selection {
    /** The state keys that may be the selection's: the change feed's range. */
    KeyRange range();

    /** The persistence id of a state key in {@link #range()}, or null if not selected. */
    @Nullable String persistenceId(byte[] stateKey);

    /** The state entries of the selected objects at the snapshot's version, in any order. */
    List<Entry> list(Snapshot s);
  }

  /** The objects of one tag: exactly the state keys under the tag's prefix. */
  private final class Tag implements Selection {
    private final String tag;

    Tag(String tag) {
      this.tag = Objects.requireNonNull(tag, "tag");
    }

    @Override
    public KeyRange range() {
      return keys.tag(tag);
    }

    @Override
    public String persistenceId(byte[] stateKey) {
      return keys.persistenceId(tag, stateKey);
    }

    @Override
    public List<Entry> list(Snapshot s) {
      return s.scan(range());
    }

    @Override
    public String toString() {
      return "tag [" + tag + "]";
    }
  }

  /**
   * The objects of one entity type in a slice range, whatever their tags. The feed follows every
   * state key (an object's state key is under its tag) and keeps the selected ones; the list walks
   * the entity type's heads, which name each object's tag, and reads the state under it.
   */
  private final class Slices implements Selection {
    private final String entityType;
    private final int minSlice;
    private final int maxSlice;

    Slices(String entityType, int minSlice, int maxSlice) {
      this.entityType = Objects.requireNonNull(entityType, "entityType");
      int last = persistence.numberOfSlices() - 1;
      if (minSlice < 0 || minSlice > last) {
        throw new IllegalArgumentException(
            "minSlice must be in [0, " + last + "], was " + minSlice);
      }
      if (maxSlice < minSlice || maxSlice > last) {
        throw new IllegalArgumentException(
            "maxSlice must be in [minSlice, "
                + last
                + "] = ["
                + minSlice
                + ", "
                + last
                + "], was "
                + maxSlice);
      }
      this.minSlice = minSlice;
      this.maxSlice = maxSlice;
    }

    private boolean selects(String persistenceId) {
      int slice = persistence.sliceForPersistenceId(persistenceId);
      return slice >= minSlice
          && slice <= maxSlice
          && StateKeys.entityType(persistenceId).equals(entityType);
    }

    @Override
    public KeyRange range() {
      return keys.states();
    }

    @Override
    public @Nullable String persistenceId(byte[] stateKey) {
      String persistenceId = keys.persistenceIdOfState(stateKey);
      return selects(persistenceId) ? persistenceId : null;
    }

    @Override
    public List<Entry> list(Snapshot s) {
      List<Entry> states = new ArrayList<>();
      Iterator<Entry> heads = s.iterator(keys.heads(entityType), Direction.FORWARD);
      while (heads.hasNext()) {
        Entry head = heads.next();
        String persistenceId = keys.persistenceIdOfHead(head.key());
        if (selects(persistenceId)) {
          String tag = StateRecord.Head.decode(head.value()).tag();
          states.add(requireState(s.entry(keys.state(tag, persistenceId)), persistenceId, tag));
        }
      }
      return states;
    }

    @Override
    public String toString() {
      return "entity type [" + entityType + "], slices [" + minSlice + ", " + maxSlice + "]";
    }
  }

  private static <T> T requireState(@Nullable T state, String persistenceId, String tag) {
    if (state == null) {
      throw new IllegalStateException(
          "the head of persistenceId ["
              + persistenceId
              + "] names tag ["
              + tag
              + "] but no state is stored under it");
    }
    return state;
  }

  private Source<DurableStateChange<A>, NotUsed> query(
      Selection selection, Offset offset, boolean live) {
    Objects.requireNonNull(offset, "offset");
    if (!(offset instanceof Sequence) && offset != NoOffset.getInstance()) {
      throw new IllegalArgumentException(
          "offset must be NoOffset or Offset.sequence(version), was " + offset);
    }
    // Each materialization reads the store when it starts, not when the source was made.
    return Source.lazySource(
            () ->
                offset instanceof Sequence sequence
                    ? fromVersion(selection, sequence.value(), live)
                    : listThenWatch(selection, live))
        .mapMaterializedValue(unused -> NotUsed.getInstance());
  }

  /**
   * List, then watch: the selected objects at a pinned version V, oldest change first, then (if
   * {@code live}) the feed after V. The feed takes a share of the read transaction's pin when it is
   * materialized with the list, so V stays pinned without a gap; the transaction itself is closed
   * once the list is done.
   */
  private Source<DurableStateChange<A>, NotUsed> listThenWatch(Selection selection, boolean live) {
    ReadTransaction tx = store.readTransaction("durable state query of " + selection);
    try {
      List<Entry> objects = new ArrayList<>(selection.list(tx.snapshot()));
      objects.sort(Comparator.comparingLong(Entry::modVersion));
      Source<DurableStateChange<A>, NotUsed> list =
          Source.from(objects)
              .mapConcat(e -> changeOf(selection, e.key(), e.modVersion(), e.value()))
              .watchTermination(
                  (mat, done) -> {
                    done.whenComplete((d, e) -> tx.close());
                    return mat;
                  });
      return live ? list.concat(feed(selection, ChangeFeedOptions.after(tx))) : list;
    } catch (RuntimeException | Error e) {
      tx.close();
      throw e;
    }
  }

  private Source<DurableStateChange<A>, NotUsed> fromVersion(
      Selection selection, long after, boolean live) {
    Snapshot s = store.snapshot();
    if (after < 0 || after > s.version()) {
      throw new IllegalArgumentException(
          "offset must be Offset.sequence(v) with v in [0, "
              + s.version()
              + "], the store's versions, was "
              + after);
    }
    // The changes after `after` start at after + 1, and a change at the watermark is retained.
    // Below that some are pruned: listing the objects changed since would hide which changes the
    // consumer missed, so the query fails and the consumer starts again from NoOffset. The feed
    // refuses the same way if the watermark passes `after` + 1 between this check and its start.
    if (after + 1 < s.watermark()) {
      return Source.failed(
          new ChangeFeedCompactedException(after, after + 1, store.retentionWatermark()));
    }
    if (live) {
      return feed(selection, ChangeFeedOptions.after(after));
    }
    long until = s.version();
    if (after == until) {
      return Source.empty();
    }
    // Every version is emitted (empty commits too) so that the feed reaches `until` and completes.
    // Of each object, only its last change up to `until` is a change of this query (Pekko's
    // contract): one whose key the snapshot at `until` shows as last changed at that version.
    return ChangeFeed.commits(store, ChangeFeedOptions.after(after).withRange(selection.range()))
        .takeWhile(c -> c.version() < until, true)
        .mapConcat(CommitRecord::changes)
        .filter(c -> !c.isDelete() && isLatest(s, c))
        .mapConcat(c -> changeOf(selection, c.key(), c.version(), putValue(c)));
  }

  /** The value of {@code c}, a put: both feeds filter the deletes out before they read it. */
  private static byte[] putValue(Change c) {
    byte[] value = c.value();
    if (value == null) {
      throw new IllegalArgumentException("a delete has no value: " + c);
    }
    return value;
  }

  private static boolean isLatest(Snapshot s, Change c) {
    Entry e = s.entry(c.key());
    return e != null && e.modVersion() == c.version();
  }

  private Source<DurableStateChange<A>, NotUsed> feed(Selection selection, ChangeFeedOptions from) {
    // A removal from the range (the object moved to another tag, or the deprecated delete) is no
    // change of this selection: Pekko's deletions are records, not removals.
    return ChangeFeed.changes(store, from.withRange(selection.range()))
        .filter(c -> !c.isDelete())
        .mapConcat(c -> changeOf(selection, c.key(), c.version(), putValue(c)));
  }

  /** The change a state record makes, if the selection selects its key; none otherwise. */
  private List<DurableStateChange<A>> changeOf(
      Selection selection, byte[] stateKey, long version, byte[] value) {
    String persistenceId = selection.persistenceId(stateKey);
    return persistenceId == null ? List.of() : List.of(change(persistenceId, version, value));
  }

  private DurableStateChange<A> change(String persistenceId, long version, byte[] value) {
    StateRecord r = StateRecord.decode(value);
    Offset offset = Offset.sequence(version);
    if (r.deleted()) {
      return new DeletedDurableState<>(persistenceId, r.revision(), offset, r.timestamp());
    }
    return new UpdatedDurableState<>(persistenceId, r.revision(), value(r), offset, r.timestamp());
  }

  // ---------------------------------------------------------------- helpers

  private interface Attempt<T> {
    T run();
  }

  /**
   * Runs {@code body} now; what it throws fails the stage instead of the caller. Pekko's
   * serialization throws checked exceptions undeclared (a {@code NotSerializableException} for a
   * class with no serializer bound), hence {@code Exception}.
   */
  private static <T> CompletionStage<T> attempt(Attempt<T> body) {
    try {
      return CompletableFuture.completedFuture(body.run());
    } catch (Exception e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  @Override
  public String toString() {
    return "ZVerseDurableStateStore[" + store.name() + "]";
  }
}
