package dev.zverse.engine;

import dev.zverse.engine.Node.Branch;
import dev.zverse.engine.Node.Leaf;
import dev.zverse.engine.Version.Packed;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * Packs the version chains of keys with history into {@link Packed} runs, in the background, so
 * that a read at an old version costs one binary search in two adjacent arrays instead of a cache
 * miss per newer version.
 *
 * <h2>Design</h2>
 *
 * The writer counts the changes it commits to keys that already have history (those a prune must
 * trim, {@link Commit#trims}: a chain of three or more, or a tombstone), and tells the packer at
 * each publish ({@link #published}). Once {@link #batch} of them have gathered, a job on the
 * executor walks the commits since the last job, descends the newest published tree for each such
 * key, and replaces the chain's head in its leaf with a packed run of the whole chain.
 *
 * <p>That replacement is the one write to a published node anywhere in the engine, and it is a
 * benign race: the packed run holds exactly the chain it replaces (same versions, values and
 * incarnations), so a reader that loads the slot before or after it gets the same answer to every
 * question, and so does a writer that copies the leaf (its clone takes either). The run's fields
 * are all final, so a reader that sees it through the racy load sees it whole; the value arrays it
 * points at were published with the snapshot. The slot is compare-and-set against the head the job
 * read, and the writer never edits a published leaf in place (it copies it first, see {@link
 * TreeWriter}), so nothing else can have moved the slot but a later job of this packer, which runs
 * after this one. A job that packs a leaf the writer has copied since the publish packs an outdated
 * copy: the newer leaf keeps the unpacked chain until the key's next change brings it back to a
 * job, which costs speed, never an answer.
 *
 * <p>A chain already ending in a packed run is packed again (the new versions above it joined to
 * it) only while the run is short or the new part is an eighth of it, so that re-packing copies
 * each version a bounded number of times however long a key's history grows.
 *
 * <p>Thread-safe: the writer calls {@link #published}, one job at a time runs on the executor, and
 * the state they share is guarded by this object's lock. Snapshots forked from one another share
 * their packer; it follows the newest version published, so a fork's own history may stay unpacked.
 */
final class ChainPacker implements Runnable {
  /** Changes to keys with history gathered before a job starts. */
  static final int DEFAULT_BATCH = 65_536;

  /** Shortest chain worth packing: two nodes are two misses either way. */
  static final int MIN_LENGTH = 3;

  /** A packed run is packed again with any new versions while it is at most this long. */
  private static final int SHORT_RUN = 32;

  private static final VarHandle HEADS = MethodHandles.arrayElementVarHandle(Version[].class);

  private final Executor executor;
  private final int batch;

  // Guarded by this: the newest published tree (null while no job is due), its commits and version.
  private @Nullable Node root;
  private int height;
  private CommitLog commits = CommitLog.EMPTY;
  private long version;

  /** Candidate changes published since the last job took its work; guarded by this. */
  private long pending;

  /** Every commit at or below this version was given to a job; guarded by this. */
  private long packedThrough;

  /** Whether a job is queued or running; guarded by this. */
  private boolean running;

  /** Whether {@link #published} starts jobs at all: false for {@link #off()}. */
  private final boolean enabled;

  /**
   * @param executor runs the jobs; one that refuses only delays packing to a later publish
   * @param batch candidate changes gathered before a job starts, at least 1
   */
  ChainPacker(Executor executor, int batch) {
    this(executor, batch, true);
  }

  private ChainPacker(Executor executor, int batch, boolean enabled) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be >= 1, was " + batch);
    }
    this.executor = Objects.requireNonNull(executor, "executor");
    this.batch = batch;
    this.enabled = enabled;
  }

  /** A packer that never packs: what {@link ZIndexOptions#withPackedChains} off gives a store. */
  static ChainPacker off() {
    return new ChainPacker(task -> {}, DEFAULT_BATCH, false);
  }

  /** The packer a new store of {@code options} uses. */
  static ChainPacker of(ZIndexOptions options) {
    return options.packsChains() ? new ChainPacker(options.executor(), DEFAULT_BATCH) : off();
  }

  /**
   * The writer published the tree {@code root} at {@code version}, whose commits added {@code
   * candidates} changes to keys with history; starts a job if enough have gathered.
   */
  void published(Node root, int height, CommitLog commits, long version, long candidates) {
    if (!enabled) {
      return;
    }
    synchronized (this) {
      pending += candidates;
      // At an equal version the later publish wins: a group the writer discarded (its log write
      // failed) is then followed by the retry, which reuses its version.
      if (version >= this.version) {
        this.root = root;
        this.height = height;
        this.commits = commits;
        this.version = version;
      }
      if (running || pending < batch) {
        return;
      }
      running = true;
    }
    try {
      executor.execute(this);
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        running = false; // tried again at a later publish; reads walk the chains meanwhile
      }
    }
  }

  /** Packs until fewer than {@link #batch} candidates wait. */
  @Override
  public void run() {
    try {
      while (true) {
        @Nullable Node r;
        int h;
        CommitLog log;
        long from;
        long to;
        synchronized (this) {
          r = root;
          h = height;
          log = commits;
          from = packedThrough + 1;
          to = version;
          pending = 0;
          // The job holds the tree it packs; the packer keeps none once idle, so that it does not
          // keep the newest snapshot's tree reachable from an older one.
          root = null;
          commits = CommitLog.EMPTY;
        }
        if (r != null) {
          pack(r, h, log, from, to);
        }
        synchronized (this) {
          packedThrough = Math.max(packedThrough, to);
          if (pending < batch || root == null) {
            running = false;
            return;
          }
        }
      }
    } catch (Throwable t) {
      synchronized (this) {
        running = false;
      }
      throw t; // a bug, or out of memory: let the executor report it; reads only stay slower
    }
  }

  /**
   * Packs, in the tree {@code root} of {@code height} levels, the chain of every key that commits
   * {@code from} to {@code to} of {@code log} changed while it had history; returns how many chains
   * it packed. Also what tests call to pack at chosen points.
   */
  static int pack(Node root, int height, CommitLog log, long from, long to) {
    Set<byte[]> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    int packed = 0;
    for (long u = Math.max(from, log.firstVersion()); u <= Math.min(to, log.lastVersion()); u++) {
      Commit c = log.get(u);
      if (c.trims == null) {
        continue;
      }
      for (int i = 0; i < c.keys.length; i++) {
        if (c.trims(i) && seen.add(c.keys[i]) && packKey(root, height, c.keys[i])) {
          packed++;
        }
      }
    }
    return packed;
  }

  /** Packs {@code key}'s chain in the tree if it is worth it; returns whether it did. */
  static boolean packKey(Node root, int height, byte[] key) {
    final long kp = KeyOrder.prefix(key);
    Node n = root;
    for (int level = height; level > 1; level--) {
      Branch b = (Branch) n;
      n = b.children[b.childIndex(key, kp)];
    }
    Leaf leaf = (Leaf) n;
    int slot = leaf.search(key, kp);
    if (slot < 0) {
      return false;
    }
    Version[] heads = leaf.heads;
    Version head = (Version) HEADS.getAcquire(heads, slot);
    if (!worthPacking(head)) {
      return false;
    }
    Packed run = Packed.of(head, MIN_LENGTH);
    // Publishes the run's final fields with the slot; see the class comment for the race.
    return run != null && HEADS.compareAndSet(heads, slot, head, run);
  }

  /** Whether {@code head}'s chain has nodes above its packed run that should join it. */
  private static boolean worthPacking(Version head) {
    int plain = 0;
    for (Version n = head; n != null; n = n.next()) {
      if (n instanceof Packed p) {
        int run = p.length();
        return plain > 0 && (plain + run <= SHORT_RUN || plain * 8 >= run);
      }
      plain++;
    }
    return plain >= MIN_LENGTH;
  }
}
