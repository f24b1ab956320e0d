/**
 * The ZVerse engine: an immutable, versioned, ordered key-value tree, using the JDK only.
 *
 * <p>{@link dev.zverse.engine.Snapshot} is the whole store at one version and answers reads at
 * every retained version; {@link dev.zverse.engine.WriteBatch} is an atomic unit of writes, each
 * committed batch taking the next version; {@link dev.zverse.engine.Transient} applies batches and
 * prunes on the writer's thread and publishes them as a new snapshot. Keys are {@code byte[]} in
 * unsigned lexicographic order.
 *
 * <p>Every public type here is immutable and safe for concurrent readers, except three: {@link
 * dev.zverse.engine.Transient} and {@link dev.zverse.engine.WriteBatch.Builder} belong to one
 * thread, and {@link dev.zverse.engine.DurableLog} (the write-ahead log and checkpoints on disk)
 * belongs to the writer but for its checkpoints, as its class comment says. Implementation classes
 * are package-private.
 */
@NullMarked
package dev.zverse.engine;

import org.jspecify.annotations.NullMarked;
