package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Packed version chains: pruning a packed run, and the run against its linked chain node by node.
 */
class ChainPackerTest {
  private static final byte[] KEY = {'k'};

  /** A store (never packing by itself) whose key {@code k} took "1" to "n" at versions 1 to n. */
  private static Snapshot written(int n) {
    Snapshot s =
        Snapshot.empty(Limits.defaults(), ZIndexOptions.disabled().withPackedChains(false));
    for (int v = 1; v <= n; v++) {
      s = s.apply(WriteBatch.ofPut("k", Integer.toString(v)));
    }
    return s;
  }

  private static Version head(Snapshot s) {
    Version head = TreeCursor.find(s.root, s.height, KEY);
    assertNotNull(head, "key k");
    return head;
  }

  @Test
  void pruneKeepsTheRetainedPartPackedAndDropsTheRest() {
    Snapshot s = written(8);
    assertTrue(ChainPacker.packKey(s.root, s.height, KEY), "packed");
    Snapshot pruned = s.prune(5);
    Version.Packed run = assertInstanceOf(Version.Packed.class, head(pruned));
    // Versions 8, 7, 6 and 5 (at the watermark); 4 and older are gone, arrays and all.
    assertEquals(4, run.length(), "slots kept");
    for (long v = 5; v <= 8; v++) {
      assertEquals(Long.toString(v), pruned.get("k", v));
      Entry e = pruned.entry("k", v);
      assertNotNull(e);
      assertEquals(1, e.createVersion(), "createVersion at " + v);
    }
    assertEquals(4, pruned.history("k").size());
    TreeInvariants.check(pruned);
    // The snapshot held across the prune still reads all eight.
    for (long v = 1; v <= 8; v++) {
      assertEquals(Long.toString(v), s.get("k", v));
    }
  }

  @Test
  void packingALeafTheWriterHasCopiedChangesNeitherSnapshot() {
    Snapshot published = written(4);
    Snapshot next = published.apply(WriteBatch.ofPut("k", "5"));
    // The job packs the leaf of the tree it was given, which the writer copied since.
    assertTrue(ChainPacker.packKey(published.root, published.height, KEY));
    assertInstanceOf(Version.Packed.class, head(published));
    assertFalse(head(next).next() instanceof Version.Packed, "the copy keeps the chain it took");
    for (long v = 1; v <= 5; v++) {
      if (v <= 4) {
        assertEquals(Long.toString(v), published.get("k", v));
      }
      assertEquals(Long.toString(v), next.get("k", v));
    }
    // Packing the newer tree later joins the version above the run to it.
    assertTrue(ChainPacker.packKey(next.root, next.height, KEY));
    assertEquals(5, assertInstanceOf(Version.Packed.class, head(next)).length());
  }

  /**
   * A packed run answers {@code retainedLength}, {@code visibleAt}, {@code created} and the walk
   * through {@code next()} as the linked chain it was made from, for any mix of puts and tombstones
   * and every watermark.
   */
  @Property(tries = 300)
  void packedRunAnswersAsItsChain(
      @ForAll @Size(min = 3, max = 12) List<Boolean> puts,
      @ForAll @IntRange(min = 0, max = 3) int gap) {
    // Build the chain oldest first: versions 1, 2+gap, ... with a put or a tombstone each.
    Version chain = null;
    long created = 0;
    List<Long> versions = new ArrayList<>();
    long v = 0;
    for (boolean put : puts) {
      v += 1 + gap;
      versions.add(v);
      if (put) {
        created = chain != null && chain.value != null ? created : v;
        chain = Version.put(v, new byte[] {(byte) v}, chain, created);
      } else {
        chain = Version.tombstone(v, chain);
      }
    }
    assertNotNull(chain);
    Version.Packed run = Version.Packed.of(chain, ChainPacker.MIN_LENGTH);
    assertNotNull(run);
    for (long w = 0; w <= v + 1; w++) {
      assertEquals(chain.retainedLength(w), run.retainedLength(w), "retainedLength at " + w);
      same(chain.visibleAt(w), run.visibleAt(w), "visibleAt " + w);
    }
    @Nullable Version a = chain;
    @Nullable Version b = run;
    while (a != null) {
      same(a, b, "walk");
      a = a.next();
      b = b == null ? null : b.next();
    }
    assertNull(b, "the run ends where the chain does");
  }

  private static void same(@Nullable Version chain, @Nullable Version run, String what) {
    if (chain == null) {
      assertNull(run, what);
      return;
    }
    assertNotNull(run, what);
    assertEquals(chain.version, run.version, what);
    assertEquals(chain.value == null, run.value == null, what + ": tombstone");
    assertEquals(chain.created(), run.created(), what + ": created at " + chain.version);
  }
}
