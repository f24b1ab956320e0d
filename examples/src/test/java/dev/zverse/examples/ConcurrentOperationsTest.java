package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.examples.ConcurrentOperations.ReaderReport;
import dev.zverse.examples.ConcurrentOperations.Report;
import dev.zverse.examples.ConcurrentOperations.WriterReport;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

class ConcurrentOperationsTest {
  @Test
  void readersSeeEveryPreloadedKeyAndVersionsOnlyMoveForwardWhileWritersCommitInOrder() {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "concurrent-operations-test");
    Output out = new Output();
    Report report;
    try {
      report = ConcurrentOperations.run(system, out.stream, 1_000, 100);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }

    assertEquals(ConcurrentOperations.READERS, report.readers().size(), out::text);
    for (ReaderReport r : report.readers()) {
      assertTrue(r.gets() >= 1_000, () -> r + "\n" + out.text());
      assertEquals(r.gets(), r.found(), () -> "a preloaded key was missing: " + r);
      assertFalse(r.wentBackwards(), () -> "versions went backwards: " + r);
      assertTrue(r.firstVersion() >= 1 && r.firstVersion() <= r.lastVersion(), r::toString);
      assertTrue(r.lastVersion() <= report.finalVersion(), r::toString);
    }

    assertEquals(ConcurrentOperations.WRITERS, report.writers().size(), out::text);
    Set<Long> versions = new HashSet<>();
    for (WriterReport w : report.writers()) {
      assertEquals(100, w.versions().size(), w::toString);
      for (int i = 1; i < w.versions().size(); i++) {
        assertTrue(w.versions().get(i) > w.versions().get(i - 1), () -> "out of order: " + w);
      }
      versions.addAll(w.versions());
    }
    // Every put took its own version, after the preload's version 1, with no gap.
    assertEquals(400, versions.size());
    for (long v = 2; v <= 401; v++) {
      assertTrue(versions.contains(v), "no put committed as version " + v);
    }
    assertEquals(401, report.finalVersion());
    assertEquals(1_400, report.keys());
    assertTrue(
        report.publishes() >= 1 && report.publishes() <= 401,
        () -> "publishes " + report.publishes());
    assertEquals(
        ConcurrentOperations.READERS + ConcurrentOperations.WRITERS + 2,
        out.lines().size(),
        out::text);
  }
}
