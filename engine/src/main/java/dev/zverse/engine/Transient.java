package dev.zverse.engine;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A batch-owned, mutable copy of a {@link Snapshot}: applies write batches and prunes in place,
 * then publishes them all at once as one new snapshot with {@link #persistent()}.
 *
 * <h2>Design</h2>
 *
 * The transient holds an edit token. Tree nodes it creates carry the token and are changed in place
 * while it is open; nodes of the snapshot it came from are copied on first touch (see {@link
 * TreeWriter}). So the writer can apply a group of batches, each taking its own version, while
 * readers keep reading the last published snapshot, untouched. {@link #persistent()} closes the
 * transient: its token is never used again, so every node it made is immutable from then on.
 *
 * <p>Each batch is checked whole before any of it is applied: the limits of every key and value,
 * then every condition against the state left by the batches before it. A refused batch changes
 * nothing and the transient stays usable. An exception while applying (which would be a bug, or an
 * error such as {@link OutOfMemoryError}) leaves the transient half-changed, so it is then closed:
 * every later call throws {@link IllegalStateException}, and the caller starts again from the last
 * published snapshot.
 *
 * <p>One class, because checking a batch whole and applying it share the transient's edit token and
 * open state; the tree surgery itself already lives in {@link TreeWriter}.
 *
 * <p>Writer-confined: not thread-safe, and single use.
 */
public final class Transient {
  private enum State {
    OPEN,
    /** Between the first and last change of an operation; stays so if the operation throws. */
    APPLYING,
    BROKEN,
    PERSISTENT
  }

  private final Limits limits;
  private final TreeWriter tree;
  private long version;
  private long watermark;
  private CommitLog commits;

  /** Microseconds since the epoch; {@link Commit#NO_TIME} before the first commit. */
  private long lastCommitMicros;

  private long keys;
  private long liveKeys;
  private long storedVersions;
  private long payloadBytes;
  private State state = State.OPEN;

  /** The Z-index as of the base snapshot or the last prune. */
  private ZIndex zindex;

  /** Packs chains in the background; shared with the base snapshot. */
  private final ChainPacker packer;

  /** Changes committed to keys with history, for {@link #packer}: its next job's work. */
  private long packCandidates;

  /** Changes committed since {@link #zindex} was last brought up to date. */
  private long unindexed;

  /** Keys changed by the batch being applied (the tree's arrays), possibly repeated. */
  private final List<byte[]> changed = new ArrayList<>();

  /** The chain head the batch left under each of {@link #changed}. */
  private final List<Version> changedHeads = new ArrayList<>();

  /**
   * Whether the batch changed again a key it had changed already (replaced or undid its own write),
   * so that {@link #changed} and {@link #changedHeads} need re-checking against the tree.
   */
  private boolean revisited;

  /** Whether the batch being applied went in key order, so {@link #changed} is sorted already. */
  private boolean sortedChanges;

  Transient(Snapshot base) {
    this.limits = base.limits;
    this.tree = new TreeWriter(new Object(), base.root, base.height);
    this.version = base.version;
    this.watermark = base.watermark;
    this.commits = base.commits;
    this.lastCommitMicros = base.lastCommitMicros;
    this.keys = base.keys;
    this.liveKeys = base.liveKeys;
    this.storedVersions = base.storedVersions;
    this.payloadBytes = base.payloadBytes;
    this.zindex = base.zindex;
    this.packer = base.packer;
  }

  /** The version of the last batch applied, or of the snapshot this transient came from. */
  public long version() {
    return version;
  }

  /**
   * Applies {@code batch} as the next version, committed just after the system clock's present
   * reading: {@link #apply(WriteBatch, Instant)} with {@link Instant#now()}.
   *
   * @param batch the batch
   * @return the batch's version
   * @throws NullPointerException if {@code batch} is null
   * @throws IllegalArgumentException if a key or value is over its limit; nothing is changed
   * @throws ConditionFailedException if a condition fails; nothing is changed
   * @throws IllegalStateException if this transient is closed
   */
  public long apply(WriteBatch batch) {
    Objects.requireNonNull(batch, "batch");
    return apply(batch, Instant.now());
  }

  /**
   * Applies {@code batch} as the next version, which a clock read as {@code clockReading} when the
   * batch came to be applied. The commit time is the first microsecond after {@code clockReading},
   * or the microsecond after the previous commit's time if that is later: commit times strictly
   * increase with the version, and every instant read from that clock before this call, equal ones
   * included, is before the commit time, so {@link Snapshot#versionAt} of such an instant never
   * gives this version.
   *
   * @param batch the batch
   * @param clockReading any instant; those beyond about 292,000 years from 1970 count as the end of
   *     that range (where commit times stop increasing)
   * @return the batch's version
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if a key or value is over its limit; nothing is changed
   * @throws ConditionFailedException if a condition fails; nothing is changed
   * @throws IllegalStateException if this transient is closed
   */
  public long apply(WriteBatch batch, Instant clockReading) {
    Objects.requireNonNull(batch, "batch");
    Objects.requireNonNull(clockReading, "clockReading");
    checkOpen();
    batch.checkLimits(limits);
    return applyAt(batch, Commit.after(Commit.micros(clockReading)));
  }

  /**
   * Applies {@code commit}, a commit of another store (the record a log or a writer's {@link
   * CommitRecordCodec.Group} carries), exactly as that store committed it: at its own version,
   * which must be the next one, and at its own commit time. Its changes are applied as they are: a
   * value puts, a tombstone deletes. The same replay that recovery does for the log, so that a
   * replica following a writer's commits holds, version by version, the snapshot the writer
   * published.
   *
   * <p>Limits and conditions are not checked: the writer checked them when it committed, and what
   * it committed must be taken whole (the limits may even differ here).
   *
   * @param commit the commit, without previous values or with them (they are not used); its version
   *     must be {@link #version()} + 1
   * @return the commit's version, now this transient's
   * @throws NullPointerException if {@code commit} is null
   * @throws IllegalArgumentException if its version is not {@link #version()} + 1 (a gap or a
   *     duplicate), naming both; nothing is changed
   * @throws IllegalStateException if this transient is closed
   */
  public long applyCommit(CommitRecord commit) {
    Objects.requireNonNull(commit, "commit");
    checkOpen();
    if (commit.version() != version + 1) {
      throw new IllegalArgumentException(
          "commit.version must be "
              + (version + 1)
              + " (the version after this transient's "
              + version
              + "), was "
              + commit.version()
              + (commit.version() <= version ? ": a duplicate" : ": a gap"));
    }
    Change[] changes = commit.changesRef();
    byte[][] keys = new byte[changes.length][];
    byte[][] values = new byte[changes.length][];
    for (int i = 0; i < changes.length; i++) {
      keys[i] = changes[i].key;
      values[i] = changes[i].valueRef();
    }
    return applyChanges(keys, values, commit.timeMicros());
  }

  /**
   * Recovery and {@link #applyCommit}: applies a logged commit as the next version, {@code
   * values[i]} under {@code keys[i]} ({@code null} deletes), committed at {@code timeMicros}. The
   * arrays are handed over: the tree keeps them, so the caller must not change them later.
   */
  long applyChanges(byte[][] keys, byte[][] values, long timeMicros) {
    WriteBatch.Builder batch = WriteBatch.builder();
    for (int c = 0; c < keys.length; c++) {
      if (values[c] == null) {
        batch.deleteOwned(keys[c]);
      } else {
        batch.putOwned(keys[c], values[c]);
      }
    }
    return applyAt(batch.build(), timeMicros);
  }

  /**
   * Recovery (and {@link #apply(WriteBatch, Instant)}, which checks the limits first): applies
   * {@code batch} as the next version, committed at {@code timeMicros}, raised to the microsecond
   * after the previous commit's time if not after it; a format 1 log, which kept milliseconds, has
   * ties to raise. Recovery does not check the limits: what the log holds was acknowledged, and a
   * logged range delete (every key it removed) may hold more than a batch may, or the limits may
   * have been lowered since.
   */
  long applyAt(WriteBatch batch, long timeMicros) {
    Objects.requireNonNull(batch, "batch");
    checkOpen();
    checkConditions(batch.conditions());

    state = State.APPLYING;
    final long v = version + 1;
    changed.clear();
    changedHeads.clear();
    revisited = false;
    List<WriteBatch.Op> ops = batch.ops();
    int[] order = pointOrder(ops);
    sortedChanges = order != null;
    for (int o = 0; o < ops.size(); o++) {
      WriteBatch.Op op = ops.get(order == null ? o : order[o]);
      // Puts first: most mutations are puts, and each test is one class check.
      if (op instanceof WriteBatch.Put p) {
        put(p.key(), p.value(), v);
      } else if (op instanceof WriteBatch.Delete d) {
        delete(d.key(), v);
      } else if (op instanceof WriteBatch.DeleteRange r) {
        deleteRange(r.range(), v);
      } else {
        throw new AssertionError("a mutation of no known kind: " + op);
      }
    }
    long time = Math.max(timeMicros, Commit.after(lastCommitMicros));
    Commit commit = changes(v, time);
    commits = commits.append(commit);
    unindexed += commit.keys.length;
    lastCommitMicros = time;
    version = v;
    state = State.OPEN;
    return v;
  }

  /**
   * The order in which to apply {@code ops}, a batch of two or more puts and deletes: key order,
   * equal keys in batch order. Null where the batch's own order is kept: one mutation, or a range
   * delete among them (it reads the keys the mutations before it left).
   *
   * <p>Mutations of different keys commute, and a stable sort keeps the order of those of one key
   * (the last put wins, a delete undoes the put before it), so the batch commits the same. In key
   * order, neighbouring changes share the nodes they copy, {@link #changes} finds the keys sorted,
   * and the tree reads ahead of the batch ({@link TreeWriter#readAhead}).
   */
  private int @Nullable [] pointOrder(List<WriteBatch.Op> ops) {
    int n = ops.size();
    if (n < 2) {
      return null;
    }
    byte[][] ks = new byte[n][];
    for (int i = 0; i < n; i++) {
      WriteBatch.Op op = ops.get(i);
      if (op instanceof WriteBatch.Put p) {
        ks[i] = p.key();
      } else if (op instanceof WriteBatch.Delete d) {
        ks[i] = d.key();
      } else {
        return null;
      }
    }
    int[] order = KeyOrder.sortedOrder(ks);
    tree.readAhead(ks, order);
    return order;
  }

  /**
   * Drops the history that only reads below {@code watermark} need; see {@link Snapshot#prune}.
   *
   * <p>Pruning shares its work with the writes. A write cuts the chain it goes on top of when that
   * chain's head is at or below the watermark (the head is then all that reads at the watermark
   * need of it), which costs no tree descent: the key is in hand. What is left is at most one
   * superseded version per key (one a write replaced, once the watermark passes that write). A
   * prune therefore visits only the changes in the window between the old watermark and the new one
   * that would leave more than that ({@link Commit#trims}: tombstones, and puts over a key changed
   * twice within the retention); for each, the retained part of its chain (versions at or above the
   * watermark, plus the newest older put that reads at the watermark still need) is copied, and the
   * rest is left to the garbage collector once no held snapshot reaches it. Keys written once per
   * retention window, the common case, cost a prune nothing but a look at their commit.
   *
   * @param watermark the oldest version to keep readable, in [0, {@link #version()}]
   * @throws IllegalArgumentException if {@code watermark} is negative or above {@link #version()}
   * @throws IllegalStateException if this transient is closed
   */
  public void prune(long watermark) {
    checkOpen();
    if (watermark < 0 || watermark > version) {
      throw new IllegalArgumentException(
          "watermark must be in [0, " + version + "], was " + watermark);
    }
    if (watermark <= this.watermark) {
      return;
    }
    state = State.APPLYING;
    Set<byte[]> seen = null;
    for (long u = Math.max(this.watermark, commits.firstVersion()); u <= watermark; u++) {
      Commit c = commits.get(u);
      if (c.trims == null) {
        continue;
      }
      if (seen == null) {
        seen = Collections.newSetFromMap(new IdentityHashMap<>());
      }
      for (int i = 0; i < c.keys.length; i++) {
        if (c.trims(i) && seen.add(c.keys[i])) {
          trim(c.keys[i], watermark);
        }
      }
    }
    zindex = zindex.withUnsealed(unindexed).pruned(watermark, commits);
    unindexed = 0;
    commits = commits.dropBefore(watermark);
    this.watermark = watermark;
    state = State.OPEN;
  }

  /**
   * Closes this transient and returns the snapshot of everything applied to it.
   *
   * @throws IllegalStateException if this transient is already closed
   */
  public Snapshot persistent() {
    checkOpen();
    state = State.PERSISTENT;
    Node root = tree.root();
    int height = tree.height();
    // The commit log is immutable from here on, so the index's background seal may read it.
    ZIndex index = zindex.withUnsealed(unindexed).published(commits, version, watermark);
    packer.published(root, height, commits, version, packCandidates);
    return new Snapshot(
        limits,
        root,
        height,
        version,
        watermark,
        commits,
        lastCommitMicros,
        keys,
        liveKeys,
        storedVersions,
        payloadBytes,
        index,
        packer);
  }

  /**
   * Recovery: inserts {@code key}, absent so far and above every key inserted before, with its
   * whole retained chain. The tree keeps {@code key} itself.
   */
  void restoreChain(byte[] key, Version head) {
    checkOpen();
    Version found = tree.seek(key);
    assert found == null : "restored twice: " + Bytes.describe(key);
    tree.insert(head);
    keys++;
    payloadBytes += key.length;
    if (head.value != null) {
      liveKeys++;
    }
    for (Version n = head; n != null; n = n.next()) {
      storedVersions++;
      payloadBytes += n.value == null ? 0 : n.value.length;
    }
  }

  /**
   * Recovery: takes the restored commit log and the version, watermark and last commit time it ends
   * at. Every retained change counts as unsealed, so the Z-index seals it after the first publish.
   */
  void restoreLog(CommitLog log, long version, long watermark, long lastCommitMicros) {
    checkOpen();
    long changes = 0;
    for (long u = log.firstVersion(); u <= log.lastVersion(); u++) {
      changes += log.get(u).keys.length;
    }
    this.commits = log;
    this.version = version;
    this.watermark = watermark;
    this.lastCommitMicros = lastCommitMicros;
    this.unindexed += changes;
  }

  private void checkOpen() {
    switch (state) {
      case OPEN -> {
        // usable
      }
      case PERSISTENT -> throw new IllegalStateException("transient used after persistent()");
      default -> {
        state = State.BROKEN;
        throw new IllegalStateException(
            "transient is broken by an earlier failure; start again from the last snapshot");
      }
    }
  }

  private void checkConditions(List<Condition> conditions) {
    List<ConditionFailedException.Failure> failures = null;
    for (Condition c : conditions) {
      String actual = c.check(TreeCursor.find(tree.root(), tree.height(), c.keyBytes()));
      if (actual != null) {
        if (failures == null) {
          failures = new ArrayList<>();
        }
        failures.add(new ConditionFailedException.Failure(c, actual));
      }
    }
    if (failures != null) {
      throw new ConditionFailedException(failures);
    }
  }

  private void put(byte[] key, byte[] value, long v) {
    Version head = tree.seek(key);
    if (head == null) {
      Version node = Version.put(v, value, null, v);
      tree.insert(node);
      keys++;
      liveKeys++;
      storedVersions++;
      payloadBytes += key.length + value.length;
      changed.add(key);
      changedHeads.add(node);
      return;
    }
    boolean again = head.version == v; // a second write to the key in this batch replaces the first
    Version base = again ? head.next() : cutBelowWatermark(head);
    long created = base != null && base.value != null ? base.created() : v;
    byte[] treeKey = tree.foundKey();
    Version node = Version.put(v, value, base, created);
    tree.replace(node);
    if (head.value == null) {
      liveKeys++;
    }
    if (again) {
      payloadBytes += value.length - (head.value == null ? 0 : head.value.length);
      revisited = true;
    } else {
      storedVersions++;
      payloadBytes += value.length;
      changed.add(treeKey);
      changedHeads.add(node);
    }
  }

  private void delete(byte[] key, long v) {
    Version head = tree.seek(key);
    if (head == null || head.value == null) {
      return; // nothing live: a delete changes nothing and leaves no tombstone
    }
    liveKeys--;
    if (head.version != v) {
      byte[] treeKey = tree.foundKey();
      Version node = Version.tombstone(v, cutBelowWatermark(head));
      tree.replace(node);
      storedVersions++;
      changed.add(treeKey);
      changedHeads.add(node);
      return;
    }
    // The key was put earlier in this batch: undo that put.
    revisited = true;
    Version base = head.next();
    payloadBytes -= head.value.length;
    if (base == null) {
      tree.remove();
      keys--;
      storedVersions--;
      payloadBytes -= key.length;
    } else if (base.value == null) {
      tree.replace(base);
      storedVersions--;
    } else {
      tree.replace(Version.tombstone(v, base));
    }
  }

  private void deleteRange(KeyRange range, long v) {
    List<byte[]> live = new ArrayList<>();
    TreeCursor c = new TreeCursor(tree.root(), tree.height());
    for (c.seekStart(range, false); c.valid() && !range.aboveEnd(c.key(), c.prefix()); c.next()) {
      if (c.head().value != null) {
        live.add(c.key());
      }
    }
    for (byte[] key : live) {
      delete(key, v);
    }
  }

  /**
   * The commit of version {@code v}: the keys the batch changed, sorted and distinct, with what it
   * left under each and which of them a prune must trim. When no key was changed twice (the common
   * case) the heads recorded as the batch went are final; otherwise each key's chain head in the
   * tree says whether the batch still changes it and what it left.
   */
  private Commit changes(long v, long time) {
    int m = changed.size();
    byte[][] ks = changed.toArray(new byte[m][]);
    Version[] hs = changedHeads.toArray(new Version[m]);
    changed.clear();
    changedHeads.clear();
    int[] order = sortedChanges ? null : KeyOrder.sortedOrder(ks);
    byte[][] keys = new byte[m][];
    byte[][] values = new byte[m][];
    long[] trims = null;
    int marked = 0;
    int n = 0;
    for (int i = 0; i < m; i++) {
      int c = order == null ? i : order[i];
      byte[] k = ks[c];
      if (n > 0 && KeyOrder.compare(keys[n - 1], k) == 0) {
        continue; // a key changed, undone and changed again is listed twice (and revisited is set)
      }
      Version head = hs[c];
      if (revisited) {
        head = tree.seek(k);
        if (head == null || head.version != v) {
          continue; // the batch undid its own change
        }
        // A key put, deleted away and put again is held by the tree as the last put's array.
        k = tree.foundKey();
      }
      if (leavesHistoryToTrim(head)) {
        if (trims == null) {
          trims = new long[(m + 63) >>> 6];
        }
        trims[n >>> 6] |= 1L << n;
        marked++;
      }
      keys[n] = k;
      values[n++] = head.value;
    }
    packCandidates += marked;
    if (marked == n && n > 0) {
      trims = Commit.ALL;
    } else if (trims != null && trims.length > (n + 63) >>> 6) {
      trims = Arrays.copyOf(trims, (n + 63) >>> 6);
    }
    return n == m
        ? new Commit(v, time, keys, values, trims)
        : new Commit(v, time, Arrays.copyOf(keys, n), Arrays.copyOf(values, n), trims);
  }

  /**
   * Whether the prune that passes {@code head}'s version must trim its key: when the key's history
   * below {@code head} would then be more than the one superseded version a write leaves (see
   * {@link #prune}), or {@code head} is a tombstone (the prune may then drop the key).
   */
  private static boolean leavesHistoryToTrim(Version head) {
    return head.value == null || (head.next() != null && head.next().next() != null);
  }

  /**
   * {@code head}, the chain a write at the next version goes on top of, without what no read at or
   * above the watermark needs of it. A head at or below the watermark is what those reads see (the
   * next version is the newest change), so everything older goes, and the head too if it is a
   * tombstone below the watermark. A head above the watermark is kept whole: walking its chain
   * would cost every write to a hot key; the prune trims those ({@link #leavesHistoryToTrim}).
   */
  private @Nullable Version cutBelowWatermark(Version head) {
    if (head.version > watermark) {
      return head;
    }
    // The head is the newest change, so reads from the watermark on need it alone (a put, or any
    // change exactly at the watermark), or nothing (a tombstone below it).
    boolean keepHead = head.retainedLength(watermark) == 1;
    Version firstDropped = keepHead ? head.next() : head;
    if (firstDropped == null) {
      return head;
    }
    forget(firstDropped);
    return keepHead ? head.withNext(null) : null;
  }

  /** Takes {@code firstDropped} and every older node of its chain off the counters. */
  private void forget(@Nullable Version firstDropped) {
    for (Version d = firstDropped; d != null; d = d.next()) {
      storedVersions--;
      payloadBytes -= d.value == null ? 0 : d.value.length;
    }
  }

  /** Cuts {@code key}'s chain below what reads at {@code w} and later need; see {@link #prune}. */
  private void trim(byte[] key, long w) {
    Version head = tree.seek(key);
    if (head == null) {
      return;
    }
    int keep = head.retainedLength(w);
    Version[] retained = new Version[keep];
    Version dropped = head;
    // The chain holds at least keep nodes (retainedLength counts them): dropped stays non-null.
    int n = 0;
    for (; n < keep && dropped != null; n++, dropped = dropped.next()) {
      retained[n] = dropped;
    }
    assert n == keep : n + " nodes retained, " + keep + " counted";
    if (dropped == null) {
      return; // reads at w need all of it
    }
    forget(dropped);
    // The retained nodes are shared with older snapshots: copy them, the last one cut off.
    // A packed run stays packed: its kept part moves to arrays of its own, so the dropped versions
    // go with the old arrays once no older snapshot holds them.
    int packedFrom = 0;
    while (packedFrom < keep && !(retained[packedFrom] instanceof Version.Packed)) {
      packedFrom++;
    }
    Version chain = null;
    int i = keep - 1;
    if (keep - packedFrom >= ChainPacker.MIN_LENGTH) {
      chain = ((Version.Packed) retained[packedFrom]).prefix(keep - packedFrom);
      i = packedFrom - 1;
    }
    for (; i >= 0; i--) {
      chain = retained[i].withNext(chain);
    }
    if (chain == null) {
      tree.remove();
      keys--;
      payloadBytes -= key.length;
    } else {
      tree.replace(chain);
    }
  }
}
