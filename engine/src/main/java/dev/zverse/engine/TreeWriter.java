package dev.zverse.engine;

import dev.zverse.engine.Node.Branch;
import dev.zverse.engine.Node.Leaf;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The mutating half of the tree, owned by one {@link Transient}: path copying with in-place edits
 * of the nodes this transient already owns.
 *
 * <h2>Design</h2>
 *
 * A change first {@link #seek}s its key, recording the path from the root. Applying the change
 * makes each node on that path editable, top-down: a node owned by this writer's edit token is used
 * as is, any other node is copied (one array clone, see {@link Node#copy}) and linked into its
 * editable parent. A write therefore copies at most one path of {@code O(log n)} nodes, and a batch
 * of {@code k} writes copies each node at most once however many of the writes pass through it; the
 * data set is never copied.
 *
 * <p>Inserting into a full leaf splits it and inserts a separator into the parent, splitting
 * upwards as needed; an insert at either end of a leaf splits it unevenly so that ascending or
 * descending loads leave full leaves (branches split evenly). Removing from a node that falls below
 * {@link Node#MIN} borrows from or merges with a sibling, and a root branch left with one child
 * gives way to it.
 *
 * <p>Writer-confined: not thread-safe. A seek is good for one change; every change invalidates it.
 */
final class TreeWriter {
  /** Enough for 64^15 keys at minimum fill; guards against a corrupted height. */
  private static final int MAX_HEIGHT = 24;

  private final Object edit;
  private Node root;
  private int height;

  private final Node[] path = new Node[MAX_HEIGHT];
  private final int[] pathSlots = new int[MAX_HEIGHT];
  private int leafResult;

  /** The key of the last seek; empty until the first (insert asserts that a seek came first). */
  private byte[] seekKey = new byte[0];

  private long seekPrefix;
  private boolean seeked;

  TreeWriter(Object edit, Node root, int height) {
    this.edit = edit;
    this.root = root;
    this.height = height;
  }

  Node root() {
    return root;
  }

  int height() {
    return height;
  }

  /**
   * Finds {@code key} and remembers the path for one following change; returns its head or null.
   */
  @Nullable Version seek(byte[] key) {
    final long kp = KeyOrder.prefix(key);
    Node n = root;
    for (int level = 0; level < height - 1; level++) {
      Branch b = (Branch) n;
      int slot = b.childIndex(key, kp);
      path[level] = b;
      pathSlots[level] = slot;
      n = b.children[slot];
    }
    Leaf leaf = (Leaf) n;
    path[height - 1] = leaf;
    leafResult = leaf.search(key, kp);
    seekKey = key;
    seekPrefix = kp;
    seeked = true;
    return leafResult >= 0 ? leaf.heads[leafResult] : null;
  }

  /**
   * Reads ahead, without changing anything, what the changes of a batch to {@code keys} (in the
   * order {@code order}) are about to read, so that their cache misses overlap instead of following
   * one another: each change's descent is a chain of dependent loads (node, prefixes, key, chain
   * head, the version a write cuts off, its value's length), a miss each on a tree larger than the
   * cache, and one descent cannot start a load before the one it depends on is back. Here each step
   * runs for every key of the batch before the next step, so the loads of one step are independent
   * and the processor keeps many of them in flight at once (the "group prefetching" of batched
   * index lookups). The changes then find their nodes in the cache.
   *
   * <p>Only reads; the branches, which a batch shares and the cache mostly holds, are descended
   * once per key. A load's result feeds {@link #readAheadSink} so that the compiler keeps it.
   */
  void readAhead(byte[][] keys, int[] order) {
    final int n = order.length;
    final Node[] nodes = new Node[n];
    final long[] kps = new long[n];
    long acc = 0;
    for (int j = 0; j < n; j++) {
      byte[] key = keys[order[j]];
      long kp = KeyOrder.prefix(key);
      Node node = root;
      for (int level = 0; level < height - 1; level++) {
        Branch b = (Branch) node;
        node = b.children[b.childIndex(key, kp)];
      }
      nodes[j] = node;
      kps[j] = kp;
    }
    // The leaves' arrays, one load per cache line (16 references or 8 prefixes).
    for (int j = 0; j < n; j++) {
      Leaf leaf = (Leaf) nodes[j];
      long[] p = leaf.prefixes;
      Version[] h = leaf.heads;
      byte[][] vs = leaf.values;
      for (int i = 0; i < p.length; i += 8) {
        acc += p[i];
      }
      for (int i = 0; i < h.length; i += 16) {
        acc += (h[i] == null ? 0 : 1) + (vs[i] == null ? 0 : 1);
      }
    }
    // Each key's slot: its entry in the key array and its chain head.
    final Object[] found = new Object[2 * n];
    for (int j = 0; j < n; j++) {
      Leaf leaf = (Leaf) nodes[j];
      int i = Node.lowerBound(leaf.prefixes, leaf.prefixes.length, kps[j]);
      if (i < leaf.heads.length) {
        found[2 * j] = leaf.keys[i];
        found[2 * j + 1] = leaf.heads[i];
      }
    }
    // The stored key's bytes, and the head's fields.
    for (int j = 0; j < n; j++) {
      byte[] k = (byte[]) found[2 * j];
      Version h = (Version) found[2 * j + 1];
      if (k != null && h != null) {
        acc += k.length + h.version;
        found[2 * j + 1] = h.next();
      }
    }
    // What a write at or below the watermark cuts off: the superseded version and its value.
    for (int j = 0; j < n; j++) {
      Version x = (Version) found[2 * j + 1];
      if (x != null) {
        acc += x.version;
        found[2 * j] = x.value;
      } else {
        found[2 * j] = null;
      }
    }
    for (int j = 0; j < n; j++) {
      byte[] v = (byte[]) found[2 * j];
      if (v != null) {
        acc += v.length;
      }
    }
    readAheadSink = acc;
  }

  /** The sum of what {@link #readAhead} read; never used otherwise. */
  @SuppressWarnings("unused")
  private long readAheadSink;

  /** The tree's own array for the key found by the last seek. */
  byte[] foundKey() {
    assert seeked && leafResult >= 0 : "foundKey needs a seek that found the key";
    return path[height - 1].keys[leafResult];
  }

  /** Replaces the head of the key found by the last seek. */
  void replace(Version head) {
    assert seeked && leafResult >= 0 : "replace needs a seek that found the key";
    Leaf leaf = editablePath();
    leaf.heads[leafResult] = head;
    leaf.values[leafResult] = head.value;
    seeked = false;
  }

  /** Inserts the key of the last seek, which was absent, with {@code head}. */
  void insert(Version head) {
    assert seeked && leafResult < 0 : "insert needs a seek that missed the key";
    seeked = false;
    final int pos = -leafResult - 1;
    final Leaf leaf = editablePath();
    final int n = leaf.size();
    long[] p = insertAt(leaf.prefixes, pos, seekPrefix);
    byte[][] k = insertAt(leaf.keys, pos, seekKey);
    Version[] h = insertAt(leaf.heads, pos, head);
    byte[][] vs = insertAt(leaf.values, pos, head.value);
    if (n + 1 <= Node.MAX) {
      leaf.prefixes = p;
      leaf.keys = k;
      leaf.heads = h;
      leaf.values = vs;
      return;
    }
    int left = splitPoint(pos, n + 1);
    leaf.prefixes = Arrays.copyOfRange(p, 0, left);
    leaf.keys = Arrays.copyOfRange(k, 0, left);
    leaf.heads = Arrays.copyOfRange(h, 0, left);
    leaf.values = Arrays.copyOfRange(vs, 0, left);
    Leaf right =
        new Leaf(
            edit,
            Arrays.copyOfRange(p, left, n + 1),
            Arrays.copyOfRange(k, left, n + 1),
            Arrays.copyOfRange(h, left, n + 1),
            Arrays.copyOfRange(vs, left, n + 1));
    insertIntoParent(height - 2, right, right.keys[0], right.prefixes[0]);
  }

  /** Removes the key of the last seek, which was present. */
  void remove() {
    assert seeked && leafResult >= 0 : "remove needs a seek that found the key";
    seeked = false;
    final int pos = leafResult;
    final Leaf leaf = editablePath();
    leaf.prefixes = removeAt(leaf.prefixes, pos);
    leaf.keys = removeAt(leaf.keys, pos);
    leaf.heads = removeAt(leaf.heads, pos);
    leaf.values = removeAt(leaf.values, pos);
    rebalance(height - 1);
  }

  /** Where a full leaf of {@code size} entries splits after an insert at {@code pos}. */
  private static int splitPoint(int pos, int size) {
    if (pos == size - 1) {
      return size - 1; // ascending load: keep the left node full
    }
    if (pos == 0) {
      return 1; // descending load: keep the right node full
    }
    return size / 2;
  }

  private Leaf editablePath() {
    Node n = path[0];
    if (n.edit != edit) {
      n = n.copy(edit);
      path[0] = n;
      root = n;
    }
    for (int level = 1; level < height; level++) {
      Node c = path[level];
      if (c.edit != edit) {
        c = c.copy(edit);
        path[level] = c;
        ((Branch) path[level - 1]).children[pathSlots[level - 1]] = c;
      }
    }
    return (Leaf) path[height - 1];
  }

  /** Adds {@code child} right of the path's node at {@code level + 1}, split by {@code sep}. */
  private void insertIntoParent(int level, Node child, byte[] sep, long sepPrefix) {
    if (level < 0) {
      root = new Branch(edit, new long[] {sepPrefix}, new byte[][] {sep}, new Node[] {root, child});
      height++;
      if (height > MAX_HEIGHT) {
        throw new IllegalStateException("tree height " + height + " exceeds " + MAX_HEIGHT);
      }
      return;
    }
    Branch b = (Branch) path[level];
    int slot = pathSlots[level];
    long[] p = insertAt(b.prefixes, slot, sepPrefix);
    byte[][] k = insertAt(b.keys, slot, sep);
    Node[] c = insertAt(b.children, slot + 1, child);
    int m = c.length;
    if (m <= Node.MAX) {
      b.prefixes = p;
      b.keys = k;
      b.children = c;
      return;
    }
    // Branches split evenly so that every branch but the root keeps at least MIN children, which
    // the rebalancing of removals relies on (a sibling to borrow from or merge with).
    int left = m / 2;
    b.prefixes = Arrays.copyOfRange(p, 0, left - 1);
    b.keys = Arrays.copyOfRange(k, 0, left - 1);
    b.children = Arrays.copyOfRange(c, 0, left);
    Branch right =
        new Branch(
            edit,
            Arrays.copyOfRange(p, left, m - 1),
            Arrays.copyOfRange(k, left, m - 1),
            Arrays.copyOfRange(c, left, m));
    insertIntoParent(level - 1, right, k[left - 1], p[left - 1]);
  }

  /** Restores the fill invariant of the path's node at {@code level}, which just lost an entry. */
  private void rebalance(int level) {
    if (level == 0) {
      while (height > 1 && root.size() == 1) {
        root = ((Branch) root).children[0];
        height--;
      }
      return;
    }
    if (path[level].size() >= Node.MIN) {
      return;
    }
    Branch parent = (Branch) path[level - 1];
    int slot = pathSlots[level - 1];
    int leftSlot = slot > 0 ? slot - 1 : slot;
    Node[] children = parent.children;
    for (int s = leftSlot; s <= leftSlot + 1; s++) {
      if (children[s].edit != edit) {
        children[s] = children[s].copy(edit);
      }
    }
    Node left = children[leftSlot];
    Node right = children[leftSlot + 1];
    byte[] sep = parent.keys[leftSlot];
    long sepPrefix = parent.prefixes[leftSlot];
    if (left.size() + right.size() <= Node.MAX) {
      merge(left, right, sep, sepPrefix);
      parent.prefixes = removeAt(parent.prefixes, leftSlot);
      parent.keys = removeAt(parent.keys, leftSlot);
      parent.children = removeAt(parent.children, leftSlot + 1);
      rebalance(level - 1);
    } else {
      redistribute(parent, leftSlot, left, right, sep, sepPrefix);
    }
  }

  /** Moves everything of {@code right} to the end of {@code left}. */
  private static void merge(Node left, Node right, byte[] sep, long sepPrefix) {
    if (left instanceof Leaf l) {
      Leaf r = (Leaf) right;
      l.prefixes = concat(l.prefixes, r.prefixes);
      l.keys = concat(l.keys, r.keys);
      l.heads = concat(l.heads, r.heads);
      l.values = concat(l.values, r.values);
    } else {
      Branch l = (Branch) left;
      Branch r = (Branch) right;
      l.prefixes = concat(concat(l.prefixes, new long[] {sepPrefix}), r.prefixes);
      l.keys = concat(concat(l.keys, new byte[][] {sep}), r.keys);
      l.children = concat(l.children, r.children);
    }
  }

  /** Evens out two neighbours too full to merge and updates their separator in {@code parent}. */
  private static void redistribute(
      Branch parent, int leftSlot, Node left, Node right, byte[] sep, long sepPrefix) {
    int total = left.size() + right.size();
    int keep = total / 2;
    byte[] newSep;
    long newSepPrefix;
    if (left instanceof Leaf l) {
      Leaf r = (Leaf) right;
      long[] p = concat(l.prefixes, r.prefixes);
      byte[][] k = concat(l.keys, r.keys);
      Version[] h = concat(l.heads, r.heads);
      byte[][] vs = concat(l.values, r.values);
      l.prefixes = Arrays.copyOfRange(p, 0, keep);
      l.keys = Arrays.copyOfRange(k, 0, keep);
      l.heads = Arrays.copyOfRange(h, 0, keep);
      l.values = Arrays.copyOfRange(vs, 0, keep);
      r.prefixes = Arrays.copyOfRange(p, keep, total);
      r.keys = Arrays.copyOfRange(k, keep, total);
      r.heads = Arrays.copyOfRange(h, keep, total);
      r.values = Arrays.copyOfRange(vs, keep, total);
      newSep = k[keep];
      newSepPrefix = p[keep];
    } else {
      Branch l = (Branch) left;
      Branch r = (Branch) right;
      long[] p = concat(concat(l.prefixes, new long[] {sepPrefix}), r.prefixes);
      byte[][] k = concat(concat(l.keys, new byte[][] {sep}), r.keys);
      Node[] c = concat(l.children, r.children);
      l.prefixes = Arrays.copyOfRange(p, 0, keep - 1);
      l.keys = Arrays.copyOfRange(k, 0, keep - 1);
      l.children = Arrays.copyOfRange(c, 0, keep);
      r.prefixes = Arrays.copyOfRange(p, keep, total - 1);
      r.keys = Arrays.copyOfRange(k, keep, total - 1);
      r.children = Arrays.copyOfRange(c, keep, total);
      newSep = k[keep - 1];
      newSepPrefix = p[keep - 1];
    }
    long[] pp = parent.prefixes.clone();
    byte[][] pk = parent.keys.clone();
    pp[leftSlot] = newSepPrefix;
    pk[leftSlot] = newSep;
    parent.prefixes = pp;
    parent.keys = pk;
  }

  private static long[] insertAt(long[] a, int i, long x) {
    long[] r = new long[a.length + 1];
    System.arraycopy(a, 0, r, 0, i);
    r[i] = x;
    System.arraycopy(a, i, r, i + 1, a.length - i);
    return r;
  }

  private static <T> T[] insertAt(T[] a, int i, @Nullable T x) {
    T[] r = Arrays.copyOf(a, a.length + 1);
    System.arraycopy(a, i, r, i + 1, a.length - i);
    r[i] = x;
    return r;
  }

  private static long[] removeAt(long[] a, int i) {
    long[] r = new long[a.length - 1];
    System.arraycopy(a, 0, r, 0, i);
    System.arraycopy(a, i + 1, r, i, a.length - i - 1);
    return r;
  }

  private static <T> T[] removeAt(T[] a, int i) {
    T[] r = Arrays.copyOf(a, a.length - 1);
    System.arraycopy(a, i + 1, r, i, a.length - i - 1);
    return r;
  }

  private static long[] concat(long[] a, long[] b) {
    long[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static <T> T[] concat(T[] a, T[] b) {
    T[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
