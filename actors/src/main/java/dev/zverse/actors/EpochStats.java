package dev.zverse.actors;

import java.time.Duration;

/**
 * What the EpochActor of a store knows at one moment: the latest published snapshot, its watermark,
 * and the readers pinning versions. The operator's view of memory held by history.
 *
 * @param version the version of the latest published snapshot
 * @param watermark the oldest version the latest snapshot can read
 * @param pins how many versions are pinned: open read transactions and change-feed cursors, one
 *     each
 * @param oldestPinAge how long the oldest open pin has been open; {@link Duration#ZERO} when there
 *     is none
 * @param retainedVersions how many versions the latest snapshot can read: {@code version -
 *     watermark + 1}
 * @param publishes how many snapshots the writer has published since the store opened; with group
 *     commit many writes share one publish, so this is at most the number of commits (plus the
 *     prunes of a store that had no write for a whole epoch tick)
 */
public record EpochStats(
    long version,
    long watermark,
    int pins,
    Duration oldestPinAge,
    long retainedVersions,
    long publishes) {}
