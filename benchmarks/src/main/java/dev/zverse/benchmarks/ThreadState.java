package dev.zverse.benchmarks;

import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Each benchmark thread's position in the pre-generated probe arrays: an operation takes {@code
 * index++ & mask}, so picking the next random key costs an increment instead of a random draw.
 *
 * <p>Confined to its thread.
 */
@State(Scope.Thread)
public class ThreadState {
  int index;
}
