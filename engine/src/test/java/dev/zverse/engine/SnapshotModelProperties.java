package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Model-based test of the engine: random scripts of batches (puts, deletes, range deletes,
 * conditions that hold and that fail), prunes and held snapshots, applied both to the engine and to
 * a {@link ReferenceModel}, with every kind of read checked at random versions on the latest
 * snapshot and on snapshots held from before later writes and prunes.
 *
 * <p>Per CI run: 200 scripts of 60 steps, each batch of up to 6 operations: well over 10,000
 * operations, twice over (the build runs the engine's tests with 64-slot and with 4-slot nodes).
 * {@code -Dzverse.test.scale=N} multiplies the script length by N.
 */
class SnapshotModelProperties {
  private static final int SCALE = Integer.getInteger("zverse.test.scale", 1);
  private static final List<byte[]> KEYS = keyPool();

  /** Keys that share long prefixes, are prefixes of each other, and use the high bytes. */
  private static List<byte[]> keyPool() {
    TreeSet<byte[]> keys = new TreeSet<>(Arrays::compareUnsigned);
    byte[] alphabet = {0x00, 0x01, 'a', 'b', 0x7F, (byte) 0x80, (byte) 0xFF};
    keys.add(new byte[0]);
    for (byte a : alphabet) {
      keys.add(new byte[] {a});
      for (byte b : alphabet) {
        keys.add(new byte[] {a, b});
      }
    }
    String shared = "orders/2026/11/24/";
    for (int i = 0; i < 40; i++) {
      keys.add((shared + i).getBytes(StandardCharsets.UTF_8));
    }
    byte[] eight = "abcdefgh".getBytes(StandardCharsets.UTF_8);
    keys.add(eight);
    for (byte a : alphabet) {
      byte[] k = Arrays.copyOf(eight, 9);
      k[8] = a;
      keys.add(k);
      byte[] seven = Arrays.copyOf(eight, 7);
      keys.add(Arrays.copyOf(seven, 8)); // 7 bytes then 0x00: same prefix as the 7-byte key
      keys.add(seven);
    }
    return new ArrayList<>(keys);
  }

  // ------------------------------------------------------------------ script

  sealed interface Step permits BatchStep, PruneStep, HoldStep, ForkCheck, IndexStep {}

  record OpSpec(int kind, int key, int key2, boolean inc1, boolean inc2, int value) {}

  record CondSpec(Condition.Kind kind, int key, boolean truthful) {}

  record BatchStep(List<OpSpec> ops, List<CondSpec> conditions) implements Step {}

  record PruneStep(double fraction) implements Step {}

  record HoldStep() implements Step {}

  /**
   * Runs up to {@code jobs} of the Z-index's queued background jobs, newest first if {@code
   * newestFirst}; then has the executor refuse (or accept again) what is submitted next.
   */
  record IndexStep(int jobs, boolean newestFirst, boolean refuse) implements Step {}

  /** Applies a batch to a held snapshot: a fork, which must not disturb the main line. */
  record ForkCheck(int key, int value) implements Step {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<Integer> key = Arbitraries.integers().between(0, KEYS.size() - 1);
    Arbitrary<OpSpec> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 9),
                key,
                key,
                Arbitraries.of(true, false),
                Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 5))
            .as(OpSpec::new);
    Arbitrary<CondSpec> cond =
        Combinators.combine(
                Arbitraries.of(Condition.Kind.class), key, Arbitraries.integers().between(0, 3))
            .as((k, i, t) -> new CondSpec(k, i, t != 0));
    Arbitrary<Step> batch =
        Combinators.combine(op.list().ofMinSize(0).ofMaxSize(6), cond.list().ofMaxSize(2))
            .as(BatchStep::new);
    Arbitrary<Step> prune = Arbitraries.doubles().between(0, 1).map(PruneStep::new);
    Arbitrary<Step> hold = Arbitraries.just(new HoldStep());
    Arbitrary<Step> fork =
        Combinators.combine(key, Arbitraries.integers().between(0, 5)).as(ForkCheck::new);
    Arbitrary<Step> index =
        Combinators.combine(
                Arbitraries.integers().between(0, 3),
                Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 9).map(i -> i == 0))
            .as(IndexStep::new);
    Arbitrary<Step> step =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(14, batch),
            net.jqwik.api.Tuple.of(2, prune),
            net.jqwik.api.Tuple.of(1, hold),
            net.jqwik.api.Tuple.of(1, fork),
            net.jqwik.api.Tuple.of(3, index));
    return step.list().ofMinSize(30 * SCALE).ofMaxSize(60 * SCALE);
  }

  /** An executor whose tasks wait until the script runs them, in the order it picks. */
  static final class ManualExecutor implements Executor {
    final Deque<Runnable> queued = new ArrayDeque<>();
    boolean refuse;

    @Override
    public void execute(Runnable task) {
      if (refuse) {
        throw new RejectedExecutionException("refused by the script");
      }
      queued.add(task);
    }

    void run(int jobs, boolean newestFirst) {
      for (int i = 0; i < jobs && !queued.isEmpty(); i++) {
        (newestFirst ? queued.pollLast() : queued.pollFirst()).run();
      }
    }
  }

  @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
  void engineAgreesWithModel(
      @ForAll("scripts") List<Step> script,
      @ForAll @Size(8) List<@DoubleRange(min = 0, max = 1) Double> probes,
      @ForAll @IntRange(min = 1, max = 12) int segmentEntries) {
    ReferenceModel model = new ReferenceModel();
    ManualExecutor jobs = new ManualExecutor();
    Snapshot snap =
        Snapshot.empty(
            Limits.defaults(),
            ZIndexOptions.defaults().withSegmentEntries(segmentEntries).withExecutor(jobs));
    List<Snapshot> held = new ArrayList<>();
    int probe = 0;
    for (Step step : script) {
      if (step instanceof BatchStep b) {
        snap = applyBatch(snap, model, b);
      } else if (step instanceof PruneStep p) {
        long w = snap.watermark() + Math.round(p.fraction() * (snap.version() - snap.watermark()));
        snap = snap.prune(w);
        assertEquals(w, snap.watermark());
        long[] expected = model.retained(w);
        assertEquals(expected[0], snap.stats().keys(), "keys held after prune to " + w);
        // A write may leave the version it superseded until the key's next write: one per key.
        long stored = snap.stats().storedVersions();
        assertTrue(
            stored >= expected[1] && stored <= expected[1] + expected[0],
            stored + " versions held after prune to " + w + "; reads need " + expected[1]);
      } else if (step instanceof HoldStep) {
        held.add(snap);
        if (held.size() > 4) {
          held.remove(0);
        }
      } else if (step instanceof ForkCheck f && !held.isEmpty()) {
        Snapshot base = held.get(0);
        Snapshot fork =
            base.apply(WriteBatch.ofPut(KEYS.get(f.key()), new byte[] {(byte) f.value(), 42}));
        assertEquals(base.version() + 1, fork.version());
        assertArrayEquals(new byte[] {(byte) f.value(), 42}, fork.get(KEYS.get(f.key())));
        assertEquals(
            List.of(
                new Change(KEYS.get(f.key()), fork.version(), new byte[] {(byte) f.value(), 42})),
            fork.changes(
                KeyRange.singleton(KEYS.get(f.key())),
                fork.version(),
                fork.version(),
                QueryPath.Z_INDEX));
      } else if (step instanceof IndexStep i) {
        jobs.run(i.jobs(), i.newestFirst());
        jobs.refuse = i.refuse();
      }
      TreeInvariants.check(snap);
      double r = probes.get(probe++ % probes.size());
      checkReads(snap, model, r);
      if (!held.isEmpty()) {
        checkReads(held.get(Math.min(held.size() - 1, (int) (r * held.size()))), model, 1 - r);
      }
    }
    for (Snapshot h : held) {
      checkReads(h, model, 0.5);
      checkEverything(h, model);
    }
    checkEverything(snap, model);
    // Once every job has run and been adopted, all but the newest changes are sealed.
    jobs.refuse = false;
    for (int round = 0; round < 16; round++) {
      jobs.run(Integer.MAX_VALUE, false);
      snap = snap.apply(WriteBatch.builder().build());
      model.apply(List.of());
    }
    ZIndexStats stats = snap.indexStats();
    assertEquals(0, jobs.queued.size(), "jobs left: " + stats);
    assertFalse(stats.building(), "still building: " + stats);
    assertTrue(stats.unsealedChanges() < segmentEntries, "unsealed after draining: " + stats);
    checkEverything(snap, model);
  }

  private Snapshot applyBatch(Snapshot snap, ReferenceModel model, BatchStep b) {
    WriteBatch.Builder builder = WriteBatch.builder();
    List<ReferenceModel.Op> ops = new ArrayList<>();
    for (OpSpec o : b.ops()) {
      byte[] k = KEYS.get(o.key());
      if (o.kind() < 6) {
        byte[] v = ("v" + o.value()).getBytes(StandardCharsets.UTF_8);
        builder.put(k, v);
        ops.add(new ReferenceModel.Put(k, v));
      } else if (o.kind() < 9) {
        builder.delete(k);
        ops.add(new ReferenceModel.Delete(k));
      } else {
        KeyRange range = range(o);
        builder.deleteRange(range);
        ops.add(new ReferenceModel.DeleteRange(range));
      }
    }
    List<Condition> failing = new ArrayList<>();
    for (CondSpec c : b.conditions()) {
      byte[] k = KEYS.get(c.key());
      byte[] cur = model.get(k, model.version);
      long mod = model.modVersion(k, model.version);
      Condition cond;
      boolean holds;
      switch (c.kind()) {
        case ABSENT:
          cond = Condition.absent(k);
          holds = cur == null;
          break;
        case MOD_VERSION:
          cond = Condition.modVersion(k, c.truthful() ? mod : mod + 1);
          holds = c.truthful();
          break;
        default:
          byte[] v = c.truthful() && cur != null ? cur : "nope".getBytes(StandardCharsets.UTF_8);
          cond = Condition.valueEquals(k, v);
          holds = cur != null && Arrays.equals(cur, v);
          break;
      }
      builder.require(cond);
      if (!holds) {
        failing.add(cond);
      }
    }
    WriteBatch batch = builder.build();
    if (!failing.isEmpty()) {
      ConditionFailedException e =
          assertThrows(ConditionFailedException.class, () -> snap.apply(batch));
      assertEquals(
          failing, e.failures().stream().map(ConditionFailedException.Failure::condition).toList());
      return snap;
    }
    Snapshot next = snap.apply(batch);
    long v = model.apply(ops);
    assertEquals(v, next.version());
    return next;
  }

  private static KeyRange range(OpSpec o) {
    byte[] a = KEYS.get(Math.min(o.key(), o.key2()));
    byte[] b = KEYS.get(Math.max(o.key(), o.key2()));
    switch (o.value() % 4) {
      case 0:
        return KeyRange.prefix(Arrays.copyOf(a, Math.min(a.length, 1 + o.value() % 3)));
      case 1:
        return o.inc1() ? KeyRange.atLeast(a) : KeyRange.lessThan(b);
      default:
        if (o.inc1()) {
          return o.inc2() ? KeyRange.closed(a, b) : KeyRange.closedOpen(a, b);
        }
        return o.inc2() ? KeyRange.openClosed(a, b) : KeyRange.open(a, b);
    }
  }

  /** Reads at one version picked by {@code r}, compared with the model: gets, entries, scans. */
  private static void checkReads(Snapshot s, ReferenceModel model, double r) {
    long v = s.watermark() + Math.round(r * (s.version() - s.watermark()));
    for (int i = 0; i < KEYS.size(); i += 3) {
      byte[] k = KEYS.get((i + (int) (r * 1000)) % KEYS.size());
      assertArrayEquals(model.get(k, v), s.get(k, v), "get at " + v);
      Entry e = s.entry(k, v);
      if (e == null) {
        assertEquals(0, model.modVersion(k, v));
      } else {
        assertEquals(model.modVersion(k, v), e.modVersion(), "modVersion at " + v);
        assertEquals(model.createVersion(k, v), e.createVersion(), "createVersion at " + v);
      }
    }
    int a = (int) (r * KEYS.size());
    int b = (int) ((1 - r) * KEYS.size());
    OpSpec spec =
        new OpSpec(
            9,
            Math.min(a, KEYS.size() - 1),
            Math.min(b, KEYS.size() - 1),
            r < 0.5,
            r > 0.3,
            (int) (r * 97));
    KeyRange range = range(spec);
    List<Entry> expected = model.scan(range, v);
    assertEquals(expected, s.scan(range, v), "scan " + range + " at " + v);
    List<Entry> reversed = new ArrayList<>(expected);
    Collections.reverse(reversed);
    int limit = (int) (r * 10);
    assertEquals(
        reversed.subList(0, Math.min(limit, reversed.size())),
        s.scan(range, v, Direction.REVERSE, limit));
    assertEquals(expected.size(), s.count(range, v));
    if (s.watermark() > 0) {
      VersionCompactedException e =
          assertThrows(
              VersionCompactedException.class, () -> s.get(KEYS.get(0), s.watermark() - 1));
      assertEquals(s.watermark(), e.watermark());
    }
    assertThrows(IllegalArgumentException.class, () -> s.get(KEYS.get(0), s.version() + 1));

    long from = s.watermark() + Math.round(r * r * (s.version() - s.watermark()));
    long to = from + Math.round((1 - r) * (s.version() - from));
    checkChanges(s, model, range, from, to);
    checkChanges(s, model, KeyRange.all(), from, to);
    checkChanges(
        s,
        model,
        KeyRange.singleton(KEYS.get((int) (r * 31) % KEYS.size())),
        s.watermark(),
        s.version());
  }

  /** The box query along every path, against the model. */
  private static void checkChanges(
      Snapshot s, ReferenceModel model, KeyRange range, long from, long to) {
    List<Change> expected = model.changes(range, from, to);
    for (QueryPath path : QueryPath.values()) {
      List<Change> got = s.changes(range, from, to, path);
      if (!expected.equals(got)) {
        fail(
            path
                + " changes in "
                + range
                + " x ["
                + from
                + ", "
                + to
                + "] "
                + s.indexStats()
                + ": expected "
                + expected
                + " but was "
                + got);
      }
    }
  }

  /** Every read at every retained version. */
  static void checkEverything(Snapshot s, ReferenceModel model) {
    for (long v = s.watermark(); v <= s.version(); v++) {
      assertEquals(model.scan(KeyRange.all(), v), s.scan(KeyRange.all(), v), "whole store at " + v);
      if (v == s.version()) {
        assertEquals(model.liveKeys(v), s.size());
      }
    }
    for (byte[] k : KEYS) {
      List<Change> h = s.history(k, s.watermark(), s.version());
      List<Change> m = model.history(k, s.watermark(), s.version());
      if (!m.equals(h)) {
        fail("history of " + Bytes.describe(k) + ": expected " + m + " but was " + h);
      }
    }
    checkChanges(s, model, KeyRange.all(), s.watermark(), s.version());
    checkChanges(s, model, KeyRange.prefix("orders/2026/11/24/1"), s.watermark(), s.version());
  }
}
