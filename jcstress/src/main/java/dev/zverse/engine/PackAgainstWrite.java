package dev.zverse.engine;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The packer's compare-and-set into a published leaf ({@link ChainPacker#packKey}), racing the
 * writer that copies that leaf for its next version and then reads the published snapshot (two
 * actors, so that the test runs on two CPUs).
 *
 * <p>The claim: the slot holds either the linked chain or the packed run of it, and both answer
 * every read alike; the run's fields are final and its arrays are filled before the run is made, so
 * a reader that loads the slot through a race still sees the run whole. A reader reads the slot
 * again for every read here, so it may mix the two views from one read to the next; the writer's
 * leaf copy takes either. The race breaks the claim if a read at some version answers wrongly: a
 * run seen half-built (an empty slot, a missing value), a chain cut where the run begins, or a
 * write that stacked on the wrong head.
 *
 * <p>Results: {@code r1} 1 if the writer's new snapshot answers every version 1 to 5, {@code r2} 1
 * if the published snapshot answers every version 1 to 4 and the history, {@code r3} 1 if the
 * writer's copy took the packed run.
 *
 * <p>Run with {@code java -jar jcstress/target/jcstress.jar -t PackAgainstWrite} (on at least two
 * CPUs).
 */
public final class PackAgainstWrite {
  private PackAgainstWrite() {}

  /** One pack of key {@code k}'s four versions against a fifth write and reads. */
  @JCStressTest
  @State
  @Outcome(id = "1, 1, 1", expect = ACCEPTABLE_INTERESTING, desc = "the copy took the run")
  @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "the copy took the linked chain")
  @Outcome(expect = FORBIDDEN, desc = "a read at some version answered wrongly")
  public static class PackWriteRead {
    private static final byte[] KEY = {'k'};

    private final Snapshot published;
    private volatile Snapshot written;

    /** A store whose key {@code k} holds "1" to "4" at versions 1 to 4, not yet packed. */
    public PackWriteRead() {
      Snapshot s =
          Snapshot.empty(Limits.defaults(), ZIndexOptions.disabled().withPackedChains(false));
      for (int v = 1; v <= 4; v++) {
        s = s.apply(WriteBatch.ofPut("k", Integer.toString(v)));
      }
      published = s;
      written = s;
    }

    /** The packer's job for the key, in the newest published tree. */
    @Actor
    public void packer() {
      ChainPacker.packKey(published.root, published.height, KEY);
    }

    /**
     * The writer's next version, copying the leaf the packer writes into, then a read of every
     * version of the published snapshot, which shares that leaf, while the packer may still run.
     */
    @Actor
    public void writer(III_Result r) {
      Snapshot next = published.apply(WriteBatch.ofPut("k", "5"));
      written = next;
      r.r2 = readsAll(published, 4) && published.history("k").size() == 4 ? 1 : 0;
      r.r1 = readsAll(next, 5) ? 1 : 0;
    }

    /** Whether the writer's copy took the run. */
    @Arbiter
    public void arbiter(III_Result r) {
      Snapshot next = written;
      Version head = TreeCursor.find(next.root, next.height, KEY);
      r.r3 = head != null && head.next() instanceof Version.Packed ? 1 : 0;
    }

    private static boolean readsAll(Snapshot s, int versions) {
      for (int v = 1; v <= versions; v++) {
        Entry e = s.entry("k", v);
        if (e == null
            || !Integer.toString(v).equals(s.get("k", v))
            || e.modVersion() != v
            || e.createVersion() != 1) {
          return false;
        }
      }
      return true;
    }
  }
}
