package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * Model-based test of packed version chains ({@link ChainPacker}, {@link Version.Packed}): random
 * scripts of writes, prunes, held snapshots, background packing jobs run at random points, and
 * packing on demand of the latest or a held snapshot's tree, each followed by every read at every
 * retained version of the latest snapshot and of a held one, against a {@link ReferenceModel}.
 *
 * <p>Few keys, so that chains grow long and are packed, packed again with newer versions on top,
 * cut by writes above the watermark and trimmed by prunes. The script ends by writing every key
 * three times and packing, and checks that every chain was packed and still reads the same.
 */
class PackedChainProperties {
  private static final List<byte[]> KEYS = keys();

  private static List<byte[]> keys() {
    List<byte[]> keys = new ArrayList<>();
    for (String k : new String[] {"", "a", "ab", "abcdefgh", "abcdefgh1", "abcdefgi", "b", "z"}) {
      keys.add(k.getBytes(StandardCharsets.UTF_8));
    }
    return keys;
  }

  sealed interface Step permits Write, Prune, Hold, RunJobs, PackNow {}

  /** One batch: {@code kind} 0-5 put, 6-8 delete, 9 delete of a range. */
  record Write(List<int[]> ops) implements Step {}

  record Prune(double fraction) implements Step {}

  record Hold() implements Step {}

  /** Runs up to {@code jobs} queued packing jobs. */
  record RunJobs(int jobs) implements Step {}

  /** Packs every chain changed in the retained commits, of the latest tree or a held one's. */
  record PackNow(boolean held) implements Step {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<int[]> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 9),
                Arbitraries.integers().between(0, KEYS.size() - 1),
                Arbitraries.integers().between(0, KEYS.size() - 1),
                Arbitraries.integers().between(0, 9))
            .as((kind, a, b, value) -> new int[] {kind, a, b, value});
    Arbitrary<Step> write = op.list().ofMinSize(1).ofMaxSize(4).map(Write::new);
    Arbitrary<Step> prune = Arbitraries.doubles().between(0, 1).map(Prune::new);
    Arbitrary<Step> hold = Arbitraries.just(new Hold());
    Arbitrary<Step> jobs = Arbitraries.integers().between(1, 3).map(RunJobs::new);
    Arbitrary<Step> pack = Arbitraries.of(true, false).map(PackNow::new);
    return Arbitraries.frequencyOf(
            Tuple.of(12, write),
            Tuple.of(2, prune),
            Tuple.of(1, hold),
            Tuple.of(3, jobs),
            Tuple.of(3, pack))
        .list()
        .ofMinSize(20)
        .ofMaxSize(60);
  }

  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void packedChainsReadLikeTheModel(
      @ForAll("scripts") List<Step> script, @ForAll @IntRange(min = 1, max = 6) int batch) {
    SnapshotModelProperties.ManualExecutor executor = new SnapshotModelProperties.ManualExecutor();
    Snapshot snap =
        Snapshot.empty(
            Limits.defaults(), ZIndexOptions.disabled(), new ChainPacker(executor, batch));
    ReferenceModel model = new ReferenceModel();
    // The same writes and prunes without packing, and a replica applying each commit with packing
    // inline on its writer's thread: every answer and the exported bytes must match.
    Snapshot twin =
        Snapshot.empty(Limits.defaults(), ZIndexOptions.disabled().withPackedChains(false));
    Snapshot replica =
        Snapshot.empty(
            Limits.defaults(), ZIndexOptions.disabled(), new ChainPacker(Runnable::run, 1));
    List<Snapshot> held = new ArrayList<>();
    for (Step step : script) {
      if (step instanceof Write w) {
        snap = write(snap, model, w.ops());
        twin = follow(twin, snap);
        replica = follow(replica, snap);
      } else if (step instanceof Prune p) {
        long w = snap.watermark() + Math.round(p.fraction() * (snap.version() - snap.watermark()));
        snap = snap.prune(w);
        twin = twin.prune(w);
        replica = replica.prune(w);
      } else if (step instanceof Hold) {
        held.add(snap);
      } else if (step instanceof RunJobs j) {
        executor.run(j.jobs(), false);
      } else if (step instanceof PackNow p) {
        Snapshot s = p.held() && !held.isEmpty() ? held.get(held.size() - 1) : snap;
        ChainPacker.pack(s.root, s.height, s.commits, 0, s.version);
      }
      TreeInvariants.check(snap);
      checkAllReads(snap, model);
      checkSameAsUnpacked(snap, twin);
      TreeInvariants.check(replica);
      checkAllReads(replica, model);
      checkSameAsUnpacked(replica, twin);
      if (!held.isEmpty()) {
        checkAllReads(held.get(held.size() / 2), model);
      }
    }
    executor.run(Integer.MAX_VALUE, false);
    for (int round = 0; round < 3; round++) {
      List<int[]> ops = new ArrayList<>();
      for (int k = 0; k < KEYS.size(); k++) {
        ops.add(new int[] {0, k, k, round});
      }
      snap = write(snap, model, ops);
    }
    int packed = ChainPacker.pack(snap.root, snap.height, snap.commits, 0, snap.version);
    assertEquals(KEYS.size(), packed, "chains packed after three writes to every key");
    for (byte[] k : KEYS) {
      Version head = TreeCursor.find(snap.root, snap.height, k);
      assertTrue(head instanceof Version.Packed, "head of " + Bytes.describe(k) + " not packed");
    }
    TreeInvariants.check(snap);
    checkAllReads(snap, model);
    for (Snapshot h : held) {
      checkAllReads(h, model);
    }
    checkAllReads(exportImport(snap), model);
  }

  /** {@code follower} after applying {@code leader}'s newest commit, as a replica does. */
  private static Snapshot follow(Snapshot follower, Snapshot leader) {
    Transient t = follower.asTransient();
    t.applyCommit(leader.commit(leader.version()));
    return t.persistent();
  }

  /**
   * Commit records with previous values, versions at commit times and the exported bytes of {@code
   * packed} equal those of {@code unpacked}, the same history never packed.
   */
  private static void checkSameAsUnpacked(Snapshot packed, Snapshot unpacked) {
    assertEquals(unpacked.version(), packed.version());
    assertEquals(unpacked.watermark(), packed.watermark());
    // Previous values need the state before each commit: from the commit after the watermark.
    for (long v = packed.watermark() + 1; v <= packed.version(); v++) {
      assertEquals(
          unpacked.commit(v, KeyRange.all(), true),
          packed.commit(v, KeyRange.all(), true),
          "commit record at " + v);
      Instant t = packed.commitTime(v);
      assertEquals(unpacked.versionAt(t), packed.versionAt(t), "versionAt " + t);
    }
    assertArrayEquals(exported(unpacked), exported(packed), "exported bytes");
    assertEquals(unpacked.stats(), packed.stats(), "stats");
  }

  private static byte[] exported(Snapshot s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotExport export = SnapshotExport.of(s, 97);
    while (export.hasNext()) {
      out.writeBytes(export.next());
    }
    return out.toByteArray();
  }

  private static Snapshot exportImport(Snapshot s) {
    SnapshotImport in = SnapshotImport.create(Limits.defaults(), ZIndexOptions.disabled());
    SnapshotExport export = SnapshotExport.of(s, 97);
    try {
      while (export.hasNext()) {
        in.accept(export.next());
      }
      return in.finish();
    } catch (CorruptSnapshotException e) {
      throw new AssertionError("export of a packed store does not import", e);
    }
  }

  private static Snapshot write(Snapshot snap, ReferenceModel model, List<int[]> specs) {
    WriteBatch.Builder batch = WriteBatch.builder();
    List<ReferenceModel.Op> ops = new ArrayList<>();
    for (int[] o : specs) {
      byte[] k = KEYS.get(o[1]);
      if (o[0] < 6) {
        byte[] v = ("v" + o[3] + "@" + (model.version + 1)).getBytes(StandardCharsets.UTF_8);
        batch.put(k, v);
        ops.add(new ReferenceModel.Put(k, v));
      } else if (o[0] < 9) {
        batch.delete(k);
        ops.add(new ReferenceModel.Delete(k));
      } else {
        byte[] a = KEYS.get(Math.min(o[1], o[2]));
        byte[] b = KEYS.get(Math.max(o[1], o[2]));
        KeyRange range = KeyRange.closedOpen(a, b);
        batch.deleteRange(range);
        ops.add(new ReferenceModel.DeleteRange(range));
      }
    }
    Snapshot next = snap.apply(batch.build());
    assertEquals(model.apply(ops), next.version());
    return next;
  }

  /** Every read of every key at every retained version, and whole scans and histories. */
  private static void checkAllReads(Snapshot s, ReferenceModel model) {
    for (long v = s.watermark(); v <= s.version(); v++) {
      for (byte[] k : KEYS) {
        assertArrayEquals(model.get(k, v), s.get(k, v), "get " + Bytes.describe(k) + " at " + v);
        Entry e = s.entry(k, v);
        if (e == null) {
          assertEquals(0, model.modVersion(k, v), "entry " + Bytes.describe(k) + " at " + v);
        } else {
          assertEquals(model.modVersion(k, v), e.modVersion(), "modVersion at " + v);
          assertEquals(model.createVersion(k, v), e.createVersion(), "createVersion at " + v);
        }
      }
      assertEquals(model.scan(KeyRange.all(), v), s.scan(KeyRange.all(), v), "scan at " + v);
    }
    for (byte[] k : KEYS) {
      List<Change> h = s.history(k, s.watermark(), s.version());
      List<Change> m = model.history(k, s.watermark(), s.version());
      if (!m.equals(h)) {
        fail("history of " + Bytes.describe(k) + ": expected " + m + " but was " + h);
      }
    }
    for (QueryPath path : QueryPath.values()) {
      assertEquals(
          model.changes(KeyRange.all(), s.watermark(), s.version()),
          s.changes(KeyRange.all(), s.watermark(), s.version(), path),
          "changes along " + path);
    }
  }
}
