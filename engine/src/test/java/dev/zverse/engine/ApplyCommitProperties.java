package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

/**
 * {@link Transient#applyCommit}: a replica that replays a writer's commit records, decoded from the
 * wire format, holds at every version the snapshot the writer published, by every read: gets,
 * scans, history, commit times and {@code versionAt}, the Z-order changes query and the stats.
 * Writers apply random groups of batches (puts, deletes, range deletes, keys changed twice in one
 * batch) at random clock readings (ties and steps back included) and prune; the replica prunes at
 * the same watermarks.
 */
class ApplyCommitProperties {
  private static final int SCALE = Integer.getInteger("zverse.test.scale", 1);
  private static final int KEYS = 10;

  /** One operation: 0 put, 1 delete, 2 range delete of [key, key2]. */
  record Op(int kind, int key, int key2) {}

  /**
   * A group of batches applied in one transient at clock readings {@code millis}, or (when {@code
   * pruneAt >= 0}) a prune to that fraction of the latest version.
   */
  record Step(List<List<Op>> batches, long millis, double pruneAt) {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<Op> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, KEYS - 1),
                Arbitraries.integers().between(0, KEYS - 1))
            .as(Op::new);
    Arbitrary<List<Op>> batch =
        Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(0)),
                Tuple.of(3, Arbitraries.just(1)),
                Tuple.of(1, Arbitraries.just(2)))
            .flatMap(kind -> op.list().ofMinSize(0).ofMaxSize(6));
    Arbitrary<Step> group =
        Combinators.combine(
                batch.list().ofMinSize(1).ofMaxSize(4), Arbitraries.longs().between(0, 50))
            .as((batches, millis) -> new Step(batches, millis, -1));
    Arbitrary<Step> prune = Arbitraries.doubles().between(0, 1).map(f -> new Step(List.of(), 0, f));
    return Arbitraries.frequencyOf(Tuple.of(8, group), Tuple.of(1, prune))
        .list()
        .ofMinSize(1)
        .ofMaxSize(30 * SCALE);
  }

  @Property(tries = 200)
  void replayedCommitsGiveTheWritersSnapshotAtEveryVersion(@ForAll("scripts") List<Step> script)
      throws CorruptRecordException {
    Snapshot writer = Snapshot.empty();
    Snapshot replica = Snapshot.empty();
    int unique = 0;
    for (Step step : script) {
      if (step.pruneAt() >= 0) {
        long w = Math.max(writer.watermark(), (long) (step.pruneAt() * writer.version()));
        writer = writer.prune(w);
        replica = replica.prune(w);
        assertSame(writer, replica);
        continue;
      }
      Transient t = writer.asTransient();
      for (List<Op> ops : step.batches()) {
        WriteBatch.Builder b = WriteBatch.builder();
        for (Op o : ops) {
          switch (o.kind()) {
            case 0 -> b.put(key(o.key()), "v" + unique++);
            case 1 -> b.delete(key(o.key()));
            default ->
                b.deleteRange(
                    KeyRange.closed(
                        key(Math.min(o.key(), o.key2())), key(Math.max(o.key(), o.key2()))));
          }
        }
        t.apply(b.build(), Instant.ofEpochMilli(step.millis()));
      }
      long before = writer.version();
      writer = t.persistent();
      List<CommitRecord> commits = new ArrayList<>();
      for (long v = before + 1; v <= writer.version(); v++) {
        commits.add(writer.commit(v));
      }
      // Through the wire format, as a replica receives them.
      CommitRecordCodec.Group group =
          CommitRecordCodec.decode(
              CommitRecordCodec.encode(new CommitRecordCodec.Group(writer.watermark(), commits)));
      Transient r = replica.asTransient();
      for (CommitRecord c : group.commits()) {
        assertEquals(c.version(), r.applyCommit(c));
      }
      replica = r.persistent();
      assertSame(writer, replica);
    }
  }

  @Test
  void aGapOrADuplicateIsRefusedNamingBothVersionsAndChangesNothing() {
    Snapshot writer =
        Snapshot.empty().apply(WriteBatch.ofPut("a", "1")).apply(WriteBatch.ofPut("b", "2"));
    Transient r = Snapshot.empty().asTransient();
    IllegalArgumentException gap =
        assertThrows(IllegalArgumentException.class, () -> r.applyCommit(writer.commit(2)));
    assertEquals(
        "commit.version must be 1 (the version after this transient's 0), was 2: a gap",
        gap.getMessage());
    r.applyCommit(writer.commit(1));
    IllegalArgumentException duplicate =
        assertThrows(IllegalArgumentException.class, () -> r.applyCommit(writer.commit(1)));
    assertTrue(duplicate.getMessage().contains("was 1: a duplicate"), duplicate.getMessage());
    assertEquals(1, r.version());
    Snapshot s = r.persistent();
    assertEquals("1", s.get("a"));
    assertEquals(null, s.get("b"));
  }

  /** Equal by every read at every version both keep. */
  private static void assertSame(Snapshot expected, Snapshot actual) {
    assertEquals(expected.version(), actual.version());
    assertEquals(expected.watermark(), actual.watermark());
    assertEquals(expected.stats(), actual.stats());
    for (long v = expected.watermark(); v <= expected.version(); v++) {
      long at = v;
      assertEquals(expected.scan(KeyRange.all(), v), actual.scan(KeyRange.all(), v), "scan @" + v);
      if (v > 0) {
        assertEquals(expected.commitTime(v), actual.commitTime(v), "commit time @" + v);
        assertEquals(v, actual.versionAt(actual.commitTime(v)));
        assertEquals(expected.commit(v), actual.commit(v));
      }
      for (int k = 0; k < KEYS; k++) {
        assertEquals(expected.get(key(k), v), actual.get(key(k), v), () -> "get @" + at);
      }
      assertEquals(
          expected.changes(KeyRange.all(), v, expected.version()),
          actual.changes(KeyRange.all(), v, actual.version()),
          "Z-order changes from " + v);
    }
    for (int k = 0; k < KEYS; k++) {
      assertEquals(
          expected.history(key(k), expected.watermark(), expected.version()),
          actual.history(key(k), actual.watermark(), actual.version()));
    }
  }

  private static String key(int k) {
    return "k" + k;
  }
}
