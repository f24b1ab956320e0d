/**
 * Pekko Streams over a store, Java DSL: change feeds, the snapshot source and the write flow.
 *
 * <ul>
 *   <li>{@link dev.zverse.streams.ChangeFeed}: the commits of a store after a chosen version,
 *       replayed from the retained history and then live, gapless, in version order, filtered to a
 *       key range, back-pressured, pinning what it has not read up to a lag limit.
 *   <li>{@link dev.zverse.streams.SnapshotSource}: the latest snapshot after each publish,
 *       conflated.
 *   <li>{@link dev.zverse.streams.WriteFlow}: write batches in, committed versions (or {@link
 *       dev.zverse.streams.WriteResult}s) out, order kept, writes in flight bounded.
 * </ul>
 *
 * <p>Everything runs in the application's own actor system with the default materializer; the
 * settings ({@link dev.zverse.streams.StreamsSettings}, {@code zverse.streams} in this module's
 * {@code reference.conf}) are read from that system's configuration. Stream stages are
 * package-private.
 */
@NullMarked
package dev.zverse.streams;

import org.jspecify.annotations.NullMarked;
