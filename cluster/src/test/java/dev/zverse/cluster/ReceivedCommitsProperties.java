package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A replica shows its readers only acknowledged versions: random sequences of receiving, commit
 * index moves, handing to the store, applying, failing to apply and following a new writer (whose
 * history forks at a random version), against a model of what was received and acknowledged. Every
 * version handed to the store is at or below the highest commit index told, is handed in order,
 * once (again only after a failed apply), with the content received for it last; a failed apply
 * forgets nothing received, and a new writer drops only from where its history forks.
 */
class ReceivedCommitsProperties {
  /** Two histories with different contents at every version: two writers' forks. */
  private static final List<Snapshot> FORKS = List.of(history("a"), history("b"));

  private static final int VERSIONS = 400;

  private static Snapshot history(String tag) {
    Snapshot s = Snapshot.empty();
    for (int v = 1; v <= VERSIONS; v++) {
      s = s.apply(WriteBatch.ofPut("k" + (v % 7), tag + v));
    }
    return s;
  }

  /**
   * 0 receive n, 1 commit index to received + n - 3, 2 hand, 3 apply handed, 4 an apply failed, 5 a
   * new writer.
   */
  private record Op(int kind, int n) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 5), Arbitraries.integers().between(1, 40))
        .as(Op::new)
        .list()
        .ofMaxSize(60);
  }

  @Property(tries = 500)
  void onlyAcknowledgedVersionsAreHandedOnceInOrderWithTheirLastContent(
      @ForAll("ops") List<Op> ops) {
    ReceivedCommits r = new ReceivedCommits(0);
    TreeMap<Long, CommitRecord> model = new TreeMap<>(); // received, not yet handed
    TreeMap<Long, CommitRecord> inFlight = new TreeMap<>(); // handed, not yet applied
    long committed = 0;
    long handed = 0;
    int fork = 0;
    long term = 1;
    TermBoundaries terms = TermBoundaries.NONE.extend(0, term);
    r.follow(terms);
    for (Op op : ops) {
      switch (op.kind()) {
        case 0 -> {
          List<CommitRecord> next = new ArrayList<>();
          for (long v = r.received() + 1; v <= Math.min(VERSIONS, r.received() + op.n()); v++) {
            next.add(FORKS.get(fork).commit(v));
          }
          for (CommitRecord c : next) {
            model.put(c.version(), c);
          }
          r.add(next);
        }
        case 1 -> committed = Math.max(committed, r.received() + op.n() - 3);
        case 2 -> {
          CommitRecordCodec.Group g = r.nextGroup(committed, 0);
          long to = Math.min(Math.min(committed, r.received()), handed + 256);
          if (to <= handed) {
            assertNull(g, "a group beyond the commit index " + committed);
          } else {
            assertTrue(g != null);
            for (CommitRecord c : g.commits()) {
              assertEquals(++handed, c.version(), "handed in order, once");
              assertTrue(c.version() <= committed, "handed beyond the commit index");
              assertEquals(model.remove(c.version()), c, "the content received last");
              inFlight.put(c.version(), c);
            }
          }
        }
        case 3 -> {
          r.applied(r.handed());
          inFlight.clear();
        }
        case 4 -> {
          // An apply failed: what was handed and not applied is handed again, nothing forgotten.
          r.rewindHanded();
          handed -= inFlight.size();
          model.putAll(inFlight);
          inFlight.clear();
        }
        default -> {
          // A new writer whose history forks after a random version from the handed one on.
          long forkAt = Math.min(r.received(), handed + op.n() % 8);
          terms = terms.extend(forkAt, ++term);
          assertEquals(forkAt + 1, r.follow(terms), "the first version dropped");
          committed = Math.min(committed, r.received()); // as the replica actor clamps it
          model.tailMap(forkAt, false).clear();
          fork = 1 - fork;
        }
      }
      assertEquals(handed, r.handed());
      assertEquals(handed + model.size(), r.received());
    }
  }
}
