package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Node.Branch;
import dev.zverse.engine.Node.Leaf;

/** Structural checks of a snapshot's tree and counters, for tests. */
final class TreeInvariants {
  private TreeInvariants() {}

  /**
   * Checks: keys strictly ascending and between their separators; prefixes match keys; every leaf
   * at the same depth; no empty node but an empty root; branches other than the root hold at least
   * {@link Node#MIN} children; chains strictly descending, at or below the snapshot's version, and
   * holding at most one version more than reads at the watermark need; and the snapshot's counters
   * match what the tree holds.
   */
  static void check(Snapshot s) {
    long[] counts = new long[4]; // keys, live, versions, payload
    walk(s.root, s.height, 1, null, null, s, counts, true);
    assertEquals(counts[0], s.keys, "keys counter");
    assertEquals(counts[1], s.liveKeys, "live keys counter");
    assertEquals(counts[2], s.storedVersions, "stored versions counter");
    assertEquals(counts[3], s.payloadBytes, "payload counter");
  }

  private static void walk(
      Node n,
      int height,
      int depth,
      byte[] low,
      byte[] high,
      Snapshot s,
      long[] counts,
      boolean root) {
    assertNotNull(n, "null child at depth " + depth);
    assertEquals(n.keys.length, n.prefixes.length, "prefixes per key");
    for (int i = 0; i < n.keys.length; i++) {
      assertEquals(KeyOrder.prefix(n.keys[i]), n.prefixes[i], "prefix of key " + i);
      if (i > 0) {
        assertTrue(KeyOrder.compare(n.keys[i - 1], n.keys[i]) < 0, "keys ascend");
      }
    }
    if (!root) {
      assertTrue(n.size() > 0, "a non-root node is empty");
    }
    if (depth == height) {
      Leaf leaf = (Leaf) n;
      assertEquals(leaf.keys.length, leaf.heads.length, "heads per key");
      assertEquals(leaf.keys.length, leaf.values.length, "values per key");
      for (int i = 0; i < leaf.keys.length; i++) {
        byte[] k = leaf.keys[i];
        assertTrue(low == null || KeyOrder.compare(low, k) <= 0, "key below its separator");
        assertTrue(
            high == null || KeyOrder.compare(k, high) < 0, "key at or above the next separator");
        Version head = leaf.heads[i];
        assertNotNull(head, "key without versions");
        assertTrue(leaf.values[i] == head.value, "latest value out of step with the head");
        assertTrue(head.version <= s.version, "head above the snapshot's version");
        counts[0]++;
        counts[3] += k.length;
        if (head.value != null) {
          counts[1]++;
        }
        for (Version v = head; v != null; v = v.next()) {
          counts[2]++;
          counts[3] += v.value == null ? 0 : v.value.length;
          if (v.next() != null) {
            assertTrue(v.next().version < v.version, "chain descends");
          }
        }
        // Below what reads at the watermark see, at most the one version a write superseded.
        int needed = head.retainedLength(s.watermark);
        int length = 0;
        for (Version v = head; v != null; v = v.next()) {
          length++;
        }
        assertTrue(
            length - needed <= 1,
            length
                + " versions of "
                + Bytes.describe(k)
                + " where reads at "
                + s.watermark
                + " need "
                + needed);
      }
      return;
    }
    Branch b = (Branch) n;
    if (!root) {
      assertTrue(b.size() >= Node.MIN, "branch below MIN: " + b.size());
    } else {
      assertTrue(b.size() >= 2, "root branch with one child");
    }
    for (int i = 0; i < b.children.length; i++) {
      byte[] lo = i == 0 ? low : b.keys[i - 1];
      byte[] hi = i == b.keys.length ? high : b.keys[i];
      walk(b.children[i], height, depth + 1, lo, hi, s, counts, false);
    }
  }
}
