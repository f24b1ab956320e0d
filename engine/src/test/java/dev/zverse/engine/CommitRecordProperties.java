package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The commits a change feed replays ({@link Snapshot#commits}, {@link Snapshot#commit}) against a
 * plain model: the state after every version as a {@code TreeMap}. Every put writes a value no
 * other put wrote, so the changes of commit {@code v} are exactly the keys whose value differs
 * between the states at {@code v - 1} and {@code v}, and the previous values are the state at
 * {@code v - 1}.
 */
class CommitRecordProperties {
  private static final int SCALE = Integer.getInteger("zverse.test.scale", 1);
  private static final int KEYS = 12;

  /** One operation: 0 put, 1 delete, 2 range delete of [key, key2]. */
  record Op(int kind, int key, int key2) {}

  /** A batch, or (when {@code pruneTo >= 0}) a prune to a fraction of the latest version. */
  record Step(List<Op> ops, double pruneAt) {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<Op> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, KEYS - 1),
                Arbitraries.integers().between(0, KEYS - 1))
            .as(Op::new);
    Arbitrary<Step> batch = op.list().ofMinSize(0).ofMaxSize(5).map(ops -> new Step(ops, -1));
    Arbitrary<Step> prune = Arbitraries.doubles().between(0, 1).map(f -> new Step(List.of(), f));
    return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(8, batch), net.jqwik.api.Tuple.of(1, prune))
        .list()
        .ofMinSize(1)
        .ofMaxSize(40 * SCALE);
  }

  @Property(tries = 200)
  void commitsMatchTheModel(@ForAll("scripts") List<Step> script, @ForAll("ranges") int[] range) {
    Snapshot s = Snapshot.empty();
    List<TreeMap<String, String>> states = new ArrayList<>();
    states.add(new TreeMap<>());
    int unique = 0;
    for (Step step : script) {
      if (step.pruneAt() >= 0) {
        s = s.prune(Math.max(s.watermark(), (long) (step.pruneAt() * s.version())));
        continue;
      }
      TreeMap<String, String> next = new TreeMap<>(states.get(states.size() - 1));
      WriteBatch.Builder b = WriteBatch.builder();
      for (Op o : step.ops()) {
        String k = key(o.key());
        switch (o.kind()) {
          case 0 -> {
            String v = "v" + unique++;
            b.put(k, v);
            next.put(k, v);
          }
          case 1 -> {
            b.delete(k);
            next.remove(k);
          }
          default -> {
            String lo = key(Math.min(o.key(), o.key2()));
            String hi = key(Math.max(o.key(), o.key2()));
            b.deleteRange(KeyRange.closed(lo, hi));
            next.subMap(lo, true, hi, true).clear();
          }
        }
      }
      s = s.apply(b.build());
      states.add(next);
      assertEquals(states.size() - 1, s.version());
    }

    KeyRange keys =
        range[0] < 0
            ? KeyRange.all()
            : KeyRange.closedOpen(key(range[0]), key(range[0] + range[1]));
    for (boolean previous : new boolean[] {false, true}) {
      Iterator<CommitRecord> it = s.commits(s.watermark(), s.version(), keys, previous);
      for (long v = s.watermark() + 1; v <= s.version(); v++) {
        assertTrue(it.hasNext(), "commit " + v + " missing");
        CommitRecord c = it.next();
        assertEquals(v, c.version());
        assertEquals(s.commitTime(v), c.commitTime());
        assertEquals(previous, c.hasPreviousValues());
        Map<String, String> before = states.get((int) v - 1);
        Map<String, String> after = states.get((int) v);
        List<String> expected = new ArrayList<>();
        for (int k = 0; k < KEYS; k++) {
          String key = key(k);
          if (keys.contains(utf8(key)) && !Objects.equals(before.get(key), after.get(key))) {
            expected.add(key);
          }
        }
        assertEquals(expected.size(), c.size(), () -> "changes of " + c);
        for (int i = 0; i < c.size(); i++) {
          Change ch = c.changes().get(i);
          assertEquals(expected.get(i), ch.keyUtf8());
          assertEquals(v, ch.version());
          assertEquals(after.get(ch.keyUtf8()), ch.valueUtf8());
          if (previous) {
            assertEquals(before.get(ch.keyUtf8()), c.previousValueUtf8(i));
          }
        }
        assertEquals(c, s.commit(v, keys, previous));
      }
      assertFalse(it.hasNext());
    }
  }

  @Provide
  Arbitrary<int[]> ranges() {
    return Arbitraries.integers()
        .between(-1, KEYS - 1)
        .flatMap(
            start -> Arbitraries.integers().between(0, KEYS).map(len -> new int[] {start, len}));
  }

  @Test
  void refusesVersionsOutsideTheRetainedWindow() {
    Snapshot s = Snapshot.empty();
    for (int i = 0; i < 5; i++) {
      s = s.apply(WriteBatch.ofPut("k", "v" + i));
    }
    Snapshot p = s.prune(3);
    assertEquals(3, p.commit(3).version());
    assertThrows(VersionCompactedException.class, () -> p.commit(2));
    // Previous values of commit 3 would be read at version 2.
    VersionCompactedException e =
        assertThrows(VersionCompactedException.class, () -> p.commit(3, KeyRange.all(), true));
    assertEquals(3, e.watermark());
    assertEquals("v2", p.commit(4, KeyRange.all(), true).previousValueUtf8(0));
    assertThrows(VersionCompactedException.class, () -> p.commits(2, 5, KeyRange.all(), false));
    assertThrows(IllegalArgumentException.class, () -> p.commit(0));
    assertThrows(IllegalArgumentException.class, () -> p.commit(6));
    assertThrows(IllegalArgumentException.class, () -> p.commits(4, 3, KeyRange.all(), false));
    assertThrows(IllegalArgumentException.class, () -> p.commits(3, 6, KeyRange.all(), false));
    assertThrows(NullPointerException.class, () -> p.commit(4, null, false));
    assertThrows(IllegalStateException.class, () -> p.commit(4).previousValue(0));
    assertFalse(p.commits(5, 5, KeyRange.all(), false).hasNext());
  }

  @Test
  void anEmptyCommitStillHasItsVersion() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.ofDelete("absent"));
    CommitRecord c = s.commit(1, KeyRange.all(), true);
    assertEquals(1, c.version());
    assertTrue(c.isEmpty());
    Snapshot t = s.apply(WriteBatch.ofPut("k", "v"));
    assertNull(t.commit(2, KeyRange.all(), true).previousValue(0));
  }

  private static String key(int i) {
    return String.format("k%02d", i);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
