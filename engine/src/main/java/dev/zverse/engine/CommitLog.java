package dev.zverse.engine;

/**
 * The ordered list of retained commits, indexed by version: a persistent 32-way trie with a tail
 * (the layout of Clojure's {@code PersistentVector}) plus a movable start, so that appending copies
 * one tail of at most 32 references and one trie path, and dropping the commits below a watermark
 * copies only the trie's left edge.
 *
 * <p>Versions are dense: the commit of version {@code v} sits at index {@code v - 1}. Pruning drops
 * every commit below the watermark and keeps the one at it.
 *
 * <p>Immutable; safe for concurrent readers.
 */
final class CommitLog {
  private static final int BITS = 5;
  private static final int WIDTH = 1 << BITS;
  private static final int MASK = WIDTH - 1;

  static final CommitLog EMPTY = new CommitLog(0, 0, BITS, new Object[WIDTH], new Commit[0]);

  /** Commits appended so far, dropped ones included: the index after the last. */
  private final long count;

  /** Index of the first retained commit. */
  private final long first;

  private final int shift;
  private final Object[] root;
  private final Commit[] tail;

  private CommitLog(long count, long first, int shift, Object[] root, Commit[] tail) {
    this.count = count;
    this.first = first;
    this.shift = shift;
    this.root = root;
    this.tail = tail;
  }

  /**
   * An empty log whose first commit will be {@code firstVersion}: what recovery rebuilds a retained
   * history into. The trie's slots below it stay empty.
   */
  static CommitLog startingAt(long firstVersion) {
    assert firstVersion >= 1 : "first version " + firstVersion;
    long count = firstVersion - 1;
    if (count == 0) {
      return EMPTY;
    }
    long tailOffset = count < WIDTH ? 0 : ((count - 1) >>> BITS) << BITS;
    int shift = BITS;
    while ((count >>> BITS) > (1L << shift)) {
      shift += BITS;
    }
    return new CommitLog(
        count, count, shift, new Object[WIDTH], new Commit[(int) (count - tailOffset)]);
  }

  /** Version of the oldest retained commit; {@link #lastVersion()} + 1 when none is retained. */
  long firstVersion() {
    return first + 1;
  }

  /** Version of the newest commit, or 0 when nothing was ever committed. */
  long lastVersion() {
    return count;
  }

  /** The commit of {@code version}, which must be retained. */
  Commit get(long version) {
    long i = version - 1;
    assert i >= first && i < count
        : "version " + version + " not in [" + (first + 1) + ", " + count + "]";
    long tailOffset = tailOffset();
    if (i >= tailOffset) {
      return tail[(int) (i - tailOffset)];
    }
    Object[] node = root;
    for (int level = shift; level > 0; level -= BITS) {
      node = (Object[]) node[(int) ((i >>> level) & MASK)];
    }
    return (Commit) node[(int) (i & MASK)];
  }

  /** This log with {@code commit}, whose version must be {@link #lastVersion()} + 1, appended. */
  CommitLog append(Commit commit) {
    assert commit.version == count + 1 : "commit " + commit.version + " after " + count;
    if (count - tailOffset() < WIDTH) {
      Commit[] newTail = new Commit[tail.length + 1];
      System.arraycopy(tail, 0, newTail, 0, tail.length);
      newTail[tail.length] = commit;
      return new CommitLog(count + 1, first, shift, root, newTail);
    }
    Object[] tailNode = tail;
    Object[] newRoot;
    int newShift = shift;
    if ((count >>> BITS) > (1L << shift)) {
      newRoot = new Object[WIDTH];
      newRoot[0] = root;
      newRoot[1] = newPath(shift, tailNode);
      newShift += BITS;
    } else {
      newRoot = pushTail(shift, root, tailNode);
    }
    return new CommitLog(count + 1, first, newShift, newRoot, new Commit[] {commit});
  }

  /** This log without the commits below {@code version}; the commit at {@code version} stays. */
  CommitLog dropBefore(long version) {
    long newFirst = Math.min(version - 1, count);
    if (newFirst <= first) {
      return this;
    }
    Object[] newRoot = root;
    if ((newFirst >>> BITS) > (first >>> BITS)) {
      // A whole leaf of the trie fell below the start: unlink it so that it can be collected.
      newRoot = clearBelow(shift, root, 0, newFirst);
    }
    return new CommitLog(count, newFirst, shift, newRoot, tail);
  }

  /**
   * The newest retained version committed at or before {@code timeMicros} (microseconds since the
   * epoch), or {@code -1} when every retained commit is later (or none is retained). Commit times
   * increase with the version, so a binary search finds it.
   */
  long versionAt(long timeMicros) {
    long lo = first;
    long hi = count - 1;
    long found = -1;
    while (lo <= hi) {
      long mid = (lo + hi) >>> 1;
      if (get(mid + 1).timeMicros <= timeMicros) {
        found = mid + 1;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private long tailOffset() {
    return count < WIDTH ? 0 : ((count - 1) >>> BITS) << BITS;
  }

  private Object[] pushTail(int level, Object[] parent, Object[] tailNode) {
    int slot = (int) (((count - 1) >>> level) & MASK);
    Object[] copy = parent.clone();
    if (level == BITS) {
      copy[slot] = tailNode;
    } else {
      // A missing child is a fresh subtree; in a log started past version 1 ({@link #startingAt})
      // the tail may land anywhere in it, not only at its first slot.
      Object[] child = (Object[]) parent[slot];
      copy[slot] = pushTail(level - BITS, child != null ? child : new Object[WIDTH], tailNode);
    }
    return copy;
  }

  private static Object[] newPath(int level, Object[] node) {
    if (level == 0) {
      return node;
    }
    Object[] r = new Object[WIDTH];
    r[0] = newPath(level - BITS, node);
    return r;
  }

  /**
   * A copy of {@code node}, covering indexes from {@code base}, without subtrees wholly below
   * {@code limit}.
   */
  private static Object[] clearBelow(int level, Object[] node, long base, long limit) {
    Object[] copy = node.clone();
    long span = 1L << level;
    for (int i = 0; i < WIDTH; i++) {
      long start = base + i * span;
      long end = start + span;
      if (end <= limit) {
        copy[i] = null;
      } else {
        if (start < limit && level > BITS && copy[i] != null) {
          copy[i] = clearBelow(level - BITS, (Object[]) copy[i], start, limit);
        }
        break;
      }
    }
    return copy;
  }
}
