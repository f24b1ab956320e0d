package dev.zverse.engine;

import org.jspecify.annotations.Nullable;

/**
 * A node of the persistent B+tree that maps keys to their version chains.
 *
 * <p>Every array is sized exactly to its content, so a published node wastes no slots. Each node
 * carries the edit token of the {@link Transient} that created it: while that transient is open, it
 * may change the node in place (Clojure's transient trick); any other transient copies it first. A
 * node reachable from a published {@link Snapshot} is never changed again, because the transient
 * that owned it is closed and tokens are never reused.
 *
 * <p>In place, a transient only ever writes single slots of the <em>owned</em> arrays ({@link
 * Leaf#heads}, {@link Branch#children}); the key and prefix arrays may be shared with other nodes
 * and are replaced, never written, on a structural change. {@link #copy} therefore clones only the
 * owned array.
 */
abstract class Node {
  /**
   * Most entries of a leaf and children of a branch: 64, which keeps a million keys four levels
   * deep and a node's prefixes within eight cache lines. The engine's tests also run with tiny
   * nodes ({@code -Dzverse.engine.nodeCapacity=4}) so that a few hundred keys exercise deep trees,
   * splits and merges; nothing else should set it.
   */
  static final int MAX = capacity();

  /** Fewest entries or children of a node other than the root before it borrows or merges. */
  static final int MIN = Math.max(2, MAX / 4);

  private static int capacity() {
    int c = Integer.getInteger("zverse.engine.nodeCapacity", 64);
    if (c < 4 || c > 1024) {
      throw new IllegalArgumentException(
          "zverse.engine.nodeCapacity must be in [4, 1024], was " + c);
    }
    return c;
  }

  /** The token of the transient that may edit this node, or {@code null} for shared nodes. */
  final @Nullable Object edit;

  /**
   * Biased 8-byte prefixes ({@link KeyOrder#prefix}) of the keys (leaf) or separators (branch).
   * Possibly shared: replace, never write.
   */
  long[] prefixes;

  /** Leaf keys, or branch separators. Possibly shared: replace, never write. */
  byte[][] keys;

  Node(@Nullable Object edit, long[] prefixes, byte[][] keys) {
    this.edit = edit;
    this.prefixes = prefixes;
    this.keys = keys;
  }

  /** Entries of a leaf; children of a branch. */
  abstract int size();

  /** A copy owned by {@code edit}, sharing the key arrays and cloning the owned array. */
  abstract Node copy(Object edit);

  /**
   * Index of the first key whose prefix is not below {@code kp}: a linear scan, because its loads
   * are independent and overlap in the memory system, where a binary search's loads each wait for
   * the one before (nodes hold at most {@link #MAX} keys, by default eight cache lines of
   * prefixes).
   */
  static int lowerBound(long[] prefixes, int n, long kp) {
    int i = 0;
    while (i < n && prefixes[i] < kp) {
      i++;
    }
    return i;
  }

  /** The leaf level: keys and the heads of their version chains. */
  static final class Leaf extends Node {
    static final Leaf EMPTY =
        new Leaf(null, new long[0], new byte[0][], new Version[0], new byte[0][]);

    /** Head of each key's version chain. Owned by this node: written in place while editable. */
    Version[] heads;

    /**
     * {@code heads[i].value} for each key: the latest value (null for a tombstone), one dependent
     * load closer to a reader than the head node. Owned like {@link #heads}, kept in step with it.
     */
    byte[][] values;

    Leaf(@Nullable Object edit, long[] prefixes, byte[][] keys, Version[] heads, byte[][] values) {
      super(edit, prefixes, keys);
      this.heads = heads;
      this.values = values;
    }

    @Override
    int size() {
      return keys.length;
    }

    @Override
    Leaf copy(Object edit) {
      return new Leaf(edit, prefixes, keys, heads.clone(), values.clone());
    }

    /** Index of {@code key}, or {@code -(insertion point) - 1}. */
    int search(byte[] key, long kp) {
      final long[] prefixes = this.prefixes;
      final byte[][] keys = this.keys;
      final int n = keys.length;
      int i = lowerBound(prefixes, n, kp);
      while (i < n && prefixes[i] == kp) {
        int c = KeyOrder.compare(keys[i], key);
        if (c == 0) {
          return i;
        }
        if (c > 0) {
          break;
        }
        i++;
      }
      return -(i + 1);
    }
  }

  /** An inner level: {@code n} children split by {@code n - 1} separator keys. */
  static final class Branch extends Node {
    /** Owned by this node: written in place while editable. */
    Node[] children;

    Branch(@Nullable Object edit, long[] prefixes, byte[][] keys, Node[] children) {
      super(edit, prefixes, keys);
      assert keys.length == children.length - 1 : keys.length + " separators, " + children.length;
      this.children = children;
    }

    @Override
    int size() {
      return children.length;
    }

    @Override
    Branch copy(Object edit) {
      return new Branch(edit, prefixes, keys, children.clone());
    }

    /**
     * Index of the child whose subtree holds {@code key}: the number of separators at or below it.
     * Separator {@code i} is at most every key under child {@code i + 1} and above every key under
     * child {@code i}.
     */
    int childIndex(byte[] key, long kp) {
      final long[] prefixes = this.prefixes;
      final byte[][] keys = this.keys;
      final int n = keys.length;
      int i = lowerBound(prefixes, n, kp);
      while (i < n && prefixes[i] == kp && KeyOrder.compare(keys[i], key) <= 0) {
        i++;
      }
      return i;
    }
  }
}
