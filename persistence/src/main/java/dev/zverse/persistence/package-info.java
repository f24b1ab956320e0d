/**
 * A Pekko Persistence durable state plug-in kept in a ZVerse store, with its queries: changes by
 * tag, changes by slices, persistence ids.
 *
 * <ul>
 *   <li>{@link dev.zverse.persistence.ZVerseDurableStateStoreProvider}: the plug-in class that
 *       {@code zverse.persistence.state.class} names (this module's {@code reference.conf}); select
 *       it with {@code pekko.persistence.state.plugin = "zverse.persistence.state"}.
 *   <li>{@link dev.zverse.persistence.ZVerseDurableStateStore}: the Java DSL store, with
 *       revision-checked upserts and deletes, {@code currentChanges} and {@code changes} by tag and
 *       {@code currentChangesBySlices} and {@code changesBySlices} by entity type and slice range,
 *       all with {@code Offset.sequence(version)}, {@code currentPersistenceIds} in pages, and
 *       reads of an object at an older version.
 *   <li>{@link dev.zverse.persistence.RevisionConflictException}: a stale revision.
 * </ul>
 *
 * <p>State objects go through Pekko's serialization and are stored with their serializer id and
 * manifest. The Scala DSL and the storage layout are package-private.
 */
@NullMarked
package dev.zverse.persistence;

import org.jspecify.annotations.NullMarked;
