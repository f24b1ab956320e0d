/**
 * The store as a Pekko application uses it: the WriterActor that serializes writes, the EpochActor
 * that turns retention and pinned readers into a pruning watermark, and the store facade. Empty
 * until that work lands (see the project's issues).
 */
package dev.zverse.actors;
