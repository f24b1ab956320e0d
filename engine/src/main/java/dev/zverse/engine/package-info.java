/**
 * The ZVerse engine: an immutable, versioned, ordered key-value tree, using the JDK only.
 *
 * <p>{@link dev.zverse.engine.Snapshot} is the whole store at one version and answers reads at every
 * retained version; {@link dev.zverse.engine.WriteBatch} is an atomic unit of writes, each committed
 * batch taking the next version; {@link dev.zverse.engine.Transient} applies batches and prunes on the
 * writer's thread and publishes them as a new snapshot. Keys are {@code byte[]} in unsigned
 * lexicographic order.
 *
 * <p>Everything public here is immutable and safe for concurrent readers, except {@link
 * dev.zverse.engine.Transient} and {@link dev.zverse.engine.WriteBatch.Builder}, which belong to one
 * thread. Implementation classes are package-private.
 */
package dev.zverse.engine;
