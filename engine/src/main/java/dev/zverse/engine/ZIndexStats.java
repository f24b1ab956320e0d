package dev.zverse.engine;

/**
 * The state of a snapshot's Z-index.
 *
 * @param segments number of sealed segments
 * @param indexedChanges changes held in sealed segments (some may lie below the watermark until
 *     their segment is merged)
 * @param unsealedChanges changes committed after the last sealed one, which queries walk directly
 * @param sealedThrough the newest version whose changes are all sealed
 * @param building whether a seal or merge is running in the background
 */
public record ZIndexStats(
    int segments,
    long indexedChanges,
    long unsealedChanges,
    long sealedThrough,
    boolean building) {}
