package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The writer's state transfers offer only acknowledged versions: random sequences of publishes
 * (versions skip, as group commit does) and acknowledgements (lagging the publishes, as replicas
 * do), against a model: the snapshot offered is always the newest published at or below the
 * acknowledged version, and never one above it.
 */
class AcknowledgedSnapshotsProperties {
  private static final int VERSIONS = 300;

  /** Snapshots at versions 0 to {@link #VERSIONS}, each with its own content. */
  private static final List<Snapshot> HISTORY = history();

  private static List<Snapshot> history() {
    List<Snapshot> all = new ArrayList<>();
    Snapshot s = Snapshot.empty();
    all.add(s);
    for (int v = 1; v <= VERSIONS; v++) {
      s = s.apply(WriteBatch.ofPut("k" + (v % 5), "v" + v));
      all.add(s);
    }
    return all;
  }

  /** 0 publish n versions on (one snapshot for them all), 1 acknowledge up to n behind latest. */
  private record Op(int kind, int n) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 1), Arbitraries.integers().between(0, 6))
        .as(Op::new)
        .list()
        .ofMaxSize(80);
  }

  @Property(tries = 500)
  void theOfferedSnapshotIsTheNewestPublishedAtOrBelowTheAcknowledgedVersion(
      @ForAll("ops") List<Op> ops, @ForAll("starts") int seedAhead) {
    // A new writer: acknowledged at the state it started from (its node's replica's, or one it
    // took by state transfer), offered from the start; its store opened further on.
    int acknowledged = 2;
    int latest = acknowledged + seedAhead;
    List<Integer> published = new ArrayList<>(List.of(acknowledged, latest));
    AcknowledgedSnapshots acked =
        new AcknowledgedSnapshots(HISTORY.get(acknowledged), HISTORY.get(latest));
    for (Op op : ops) {
      if (op.kind() == 0 && latest + op.n() + 1 <= VERSIONS) {
        latest += op.n() + 1;
        published.add(latest);
        acked.published(HISTORY.get(latest));
      } else if (op.kind() == 1 && latest - op.n() > acknowledged) {
        acknowledged = latest - op.n();
        acked.acknowledged(acknowledged);
      }
      int expected = -1;
      for (int v : published) {
        if (v <= acknowledged) {
          expected = v;
        }
      }
      Snapshot offered = acked.offered();
      assertNotNull(offered, "the state the writer started from is offered");
      assertSame(HISTORY.get(expected), offered, "offered at acknowledged " + acknowledged);
      assertTrue(offered.version() <= acknowledged);
    }
  }

  @Provide
  Arbitrary<Integer> starts() {
    return Arbitraries.integers().between(0, 3);
  }

  @Test
  void pastItsBoundItHoldsNoNewerSnapshotsAndNeverOffersAnUnacknowledgedOne() {
    AcknowledgedSnapshots acked = new AcknowledgedSnapshots(HISTORY.get(0), HISTORY.get(0));
    Snapshot s = HISTORY.get(0);
    List<Snapshot> all = new ArrayList<>();
    for (int v = 1; v <= AcknowledgedSnapshots.MAX_HELD + 10; v++) {
      s = s.apply(WriteBatch.ofPut("k", "v" + v));
      all.add(s);
      acked.published(s);
    }
    acked.acknowledged(AcknowledgedSnapshots.MAX_HELD + 5);
    // Only the first MAX_HELD were held: the newest of them is offered, not a newer one.
    assertEquals(AcknowledgedSnapshots.MAX_HELD, acked.offered().version());
    assertSame(all.get(AcknowledgedSnapshots.MAX_HELD - 1), acked.offered());
    // The next publish is held again, and offered once acknowledged.
    Snapshot late = s.apply(WriteBatch.ofPut("k", "late"));
    acked.published(late);
    assertEquals(AcknowledgedSnapshots.MAX_HELD, acked.offered().version());
    acked.acknowledged(late.version());
    assertSame(late, acked.offered());
  }
}
