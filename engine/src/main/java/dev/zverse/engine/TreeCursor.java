package dev.zverse.engine;

import dev.zverse.engine.Node.Branch;
import dev.zverse.engine.Node.Leaf;
import org.jspecify.annotations.Nullable;

/**
 * A position in the tree of one snapshot or transient: the path of nodes from the root to a leaf
 * and the slot taken in each. The tree has no sibling links (path copying forbids them), so moving
 * past the end of a leaf climbs to the nearest ancestor with a next child and descends again.
 *
 * <p>Not thread-safe: one cursor per reader. A cursor over a published snapshot stays valid
 * forever; a cursor over an open {@link Transient} is invalid after that transient changes its
 * tree.
 */
final class TreeCursor {
  private final Node[] nodes;
  private final int[] slots;
  private final int height;
  private boolean valid;

  /** A cursor over the tree {@code root} of {@code height} levels; not yet positioned. */
  TreeCursor(Node root, int height) {
    this.height = height;
    this.nodes = new Node[height];
    this.slots = new int[height];
    nodes[0] = root;
  }

  /** Head of {@code key}'s version chain in the tree, or {@code null}. */
  static @Nullable Version find(Node root, int height, byte[] key) {
    final long kp = KeyOrder.prefix(key);
    Leaf leaf = leafOf(root, height, key, kp);
    int i = leaf.search(key, kp);
    return i >= 0 ? leaf.heads[i] : null;
  }

  /**
   * The node of {@code key}'s chain made by the commit of {@code version}: what a commit's key list
   * points at, for the readers of the commit log (commit walks, Z-index seals, the durable log).
   *
   * @throws IllegalStateException if the chain has no change at that version, which would mean the
   *     commit log and the tree disagree
   */
  static Version changeAt(Node root, int height, byte[] key, long version) {
    Version head = find(root, height, key);
    Version node = head == null ? null : head.visibleAt(version);
    if (node == null || node.version != version) {
      throw new IllegalStateException(
          "commit "
              + version
              + " lists "
              + Bytes.describe(key)
              + " but its chain has no change there");
    }
    return node;
  }

  /** Latest value of {@code key} in the tree: null if absent or deleted. A copy must go out. */
  static byte @Nullable [] findValue(Node root, int height, byte[] key) {
    final long kp = KeyOrder.prefix(key);
    Leaf leaf = leafOf(root, height, key, kp);
    int i = leaf.search(key, kp);
    return i >= 0 ? leaf.values[i] : null;
  }

  private static Leaf leafOf(Node root, int height, byte[] key, long kp) {
    Node n = root;
    for (int level = height; level > 1; level--) {
      Branch b = (Branch) n;
      n = b.children[b.childIndex(key, kp)];
    }
    return (Leaf) n;
  }

  /**
   * The estimated fraction of the tree's keys that sort before {@code key}, from the slots taken on
   * one descent as if every subtree held as many keys as its siblings; {@code null} is past the
   * end.
   */
  static double rankFraction(Node root, int height, byte @Nullable [] key) {
    if (key == null) {
      return 1.0;
    }
    final long kp = KeyOrder.prefix(key);
    double before = 0;
    double width = 1;
    Node n = root;
    for (int level = height; level > 1; level--) {
      Branch b = (Branch) n;
      int slot = b.childIndex(key, kp);
      width /= b.size();
      before += slot * width;
      n = b.children[slot];
    }
    Leaf leaf = (Leaf) n;
    if (leaf.size() == 0) {
      return 0;
    }
    int s = leaf.search(key, kp);
    int pos = s >= 0 ? s : -s - 1;
    return before + width * pos / leaf.size();
  }

  boolean valid() {
    return valid;
  }

  /** The key under the cursor; the tree's own array, not to be handed out. */
  byte[] key() {
    assert valid : "cursor is not on a key";
    return nodes[height - 1].keys[slots[height - 1]];
  }

  /** The {@link KeyOrder#prefix} of the key under the cursor, without reading the key. */
  long prefix() {
    assert valid : "cursor is not on a key";
    return nodes[height - 1].prefixes[slots[height - 1]];
  }

  /** The head of the version chain under the cursor. */
  Version head() {
    assert valid : "cursor is not on a key";
    return ((Leaf) nodes[height - 1]).heads[slots[height - 1]];
  }

  void seekFirst() {
    descendEdge(0, false);
  }

  void seekLast() {
    descendEdge(0, true);
  }

  /**
   * Moves to the first key of {@code range} in key order ({@code reverse}: the last), or to where
   * it would be; the caller checks the other bound.
   */
  void seekStart(KeyRange range, boolean reverse) {
    if (!reverse) {
      if (range.start == null) {
        seekFirst();
      } else {
        seekCeiling(range.start, range.startInclusive);
      }
    } else if (range.end == null) {
      seekLast();
    } else {
      seekFloor(range.end, range.endInclusive);
    }
  }

  /** Moves to the first key at or above ({@code inclusive}) or above {@code key}. */
  void seekCeiling(byte[] key, boolean inclusive) {
    int s = descend(key);
    int pos = s >= 0 ? (inclusive ? s : s + 1) : -s - 1;
    slots[height - 1] = pos;
    if (pos < nodes[height - 1].size()) {
      valid = true;
    } else {
      slots[height - 1] = pos - 1;
      next();
    }
  }

  /** Moves to the last key at or below ({@code inclusive}) or below {@code key}. */
  void seekFloor(byte[] key, boolean inclusive) {
    int s = descend(key);
    int pos = s >= 0 ? (inclusive ? s : s - 1) : -s - 2;
    slots[height - 1] = pos;
    if (pos >= 0) {
      valid = true;
    } else {
      slots[height - 1] = 0;
      prev();
    }
  }

  /** Moves to the next key in order; the cursor is invalid after the last. */
  void next() {
    final int leaf = height - 1;
    if (++slots[leaf] < nodes[leaf].size()) {
      valid = true;
      return;
    }
    for (int level = leaf - 1; level >= 0; level--) {
      if (++slots[level] < nodes[level].size()) {
        nodes[level + 1] = ((Branch) nodes[level]).children[slots[level]];
        descendEdge(level + 1, false);
        return;
      }
    }
    valid = false;
  }

  /** Moves to the previous key in order; the cursor is invalid before the first. */
  void prev() {
    final int leaf = height - 1;
    if (--slots[leaf] >= 0) {
      valid = true;
      return;
    }
    for (int level = leaf - 1; level >= 0; level--) {
      if (--slots[level] >= 0) {
        nodes[level + 1] = ((Branch) nodes[level]).children[slots[level]];
        descendEdge(level + 1, true);
        return;
      }
    }
    valid = false;
  }

  /** Descends from {@code nodes[from]} along the first or last child to the leaf's edge slot. */
  private void descendEdge(int from, boolean last) {
    for (int level = from; level < height - 1; level++) {
      Branch b = (Branch) nodes[level];
      int slot = last ? b.size() - 1 : 0;
      slots[level] = slot;
      nodes[level + 1] = b.children[slot];
    }
    int leafSize = nodes[height - 1].size();
    // Only the root can be an empty leaf: a non-root node always holds at least one key.
    slots[height - 1] = last ? leafSize - 1 : 0;
    valid = leafSize > 0;
  }

  /** Descends towards {@code key}, filling the path; returns the leaf search result. */
  private int descend(byte[] key) {
    final long kp = KeyOrder.prefix(key);
    for (int level = 0; level < height - 1; level++) {
      Branch b = (Branch) nodes[level];
      int slot = b.childIndex(key, kp);
      slots[level] = slot;
      nodes[level + 1] = b.children[slot];
    }
    return ((Leaf) nodes[height - 1]).search(key, kp);
  }
}
