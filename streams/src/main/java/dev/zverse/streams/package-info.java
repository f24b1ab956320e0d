/**
 * Pekko Streams over a store: change feeds, the snapshot source and the write flow. Empty until
 * that work lands (see the project's issues).
 */
package dev.zverse.streams;
