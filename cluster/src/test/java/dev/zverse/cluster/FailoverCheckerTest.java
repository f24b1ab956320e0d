package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.cluster.FailoverChecker.Acked;
import dev.zverse.cluster.FailoverChecker.History;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The failover tests' checker finds each violation it is there for (a checker that cannot fail
 * would let both failover tests pass whatever happened), and a child's dump reads back as the
 * history of the snapshot it was taken from.
 */
class FailoverCheckerTest {
  private static final Map<Long, Acked> ACKED =
      Map.of(1L, new Acked("a", "va"), 2L, new Acked("b", "vb"));

  private static Snapshot writes(String... keysAndValues) {
    Snapshot s = Snapshot.empty();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      s = s.apply(WriteBatch.ofPut(keysAndValues[i], keysAndValues[i + 1]));
    }
    return s;
  }

  @Test
  void agreeingHistoriesPass() {
    History one = History.of("one", writes("a", "va", "b", "vb", "c", "vc"));
    History two = History.of("two", writes("a", "va", "b", "vb"));
    FailoverChecker.check("ok", List.of(one), List.of(two), ACKED);
  }

  @Test
  void aLostAcknowledgedWriteFails() {
    History survivor = History.of("survivor", writes("a", "va", "x", "vx"));
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> FailoverChecker.check("lost", List.of(survivor), List.of(), ACKED));
    assertTrue(e.getMessage().contains("acknowledged write"), e.getMessage());
  }

  @Test
  void aVersionWithTwoContentsFails() {
    History survivor = History.of("survivor", writes("a", "va", "b", "vb", "c", "vc"));
    History lost = History.of("lost", writes("a", "va", "b", "vb", "d", "vd"));
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> FailoverChecker.check("fork", List.of(survivor), List.of(lost), ACKED));
    assertTrue(e.getMessage().contains("two contents"), e.getMessage());
  }

  @Test
  void aGapFails() {
    History h = History.of("gap", writes("a", "va", "b", "vb", "c", "vc"));
    h.commits().remove(2L);
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> FailoverChecker.check("holes", List.of(h), List.of(), ACKED));
    assertTrue(e.getMessage().contains("has a gap at version 2"), e.getMessage());
  }

  @Test
  void aDumpReadsBackAsItsSnapshotsHistory() {
    Snapshot s = writes("a", "va", "b", "", "a", "a two");
    History read = History.parse("child", FailoverChecker.dump(s));
    History direct = History.of("child", s);
    assertEquals(direct, read);
  }
}
