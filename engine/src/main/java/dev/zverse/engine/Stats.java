package dev.zverse.engine;

/**
 * Counters of one snapshot.
 *
 * @param version the snapshot's version
 * @param watermark the oldest readable version
 * @param keys keys held in the tree, deleted ones whose tombstones are still retained included
 * @param liveKeys keys with a value at {@code version}
 * @param storedVersions version-chain nodes retained (values and tombstones) over all keys: what
 *     reads at or above the watermark need, plus at most one version per key that no read needs any
 *     more (a version a write superseded, kept until the key is written again or a prune visits it;
 *     see {@link Snapshot#prune}). Not kept across a restart: checkpoints and recovery hold only
 *     what reads need, so this count may drop after a reopen
 * @param payloadBytes key bytes (once per key) plus value bytes (once per stored version)
 * @param approximateBytes an estimate of the heap the snapshot holds alone: the payload plus the
 *     per-key and per-version overhead measured with JOL on a 64-bit JVM with compressed oops
 */
public record Stats(
    long version,
    long watermark,
    long keys,
    long liveKeys,
    long storedVersions,
    long payloadBytes,
    long approximateBytes) {}
