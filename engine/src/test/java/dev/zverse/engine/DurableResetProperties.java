package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * A durable log reset to a base snapshot ({@link DurableLog#resetTo}), what a durable replica does
 * after a state transfer, stopped at each of its steps as a process crash would stop it: reopened,
 * the directory holds exactly the old state (stopped before the base's checkpoint is renamed into
 * place) or exactly the base (from the rename on), never a mix, and versions appended after the
 * base are recovered on top of it.
 */
class DurableResetProperties {

  /** Thrown by the reset's crash seam: the reset stops there, as the process would. */
  private static final class Crash extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Crash() {
      super("simulated crash", null, false, false);
    }
  }

  /** An old history, how its log was checkpointed, and the base it is reset to. */
  record Case(
      int oldVersions,
      int checkpointAt,
      int pruneTo,
      List<SnapshotTransferProperties.Step> base,
      int baseAhead) {}

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<SnapshotTransferProperties.Op> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 15),
                Arbitraries.integers().between(0, 15),
                Arbitraries.integers().between(0, 60))
            .as(SnapshotTransferProperties.Op::new);
    Arbitrary<SnapshotTransferProperties.Step> batch =
        op.list().ofMaxSize(5).map(ops -> new SnapshotTransferProperties.Step(ops, -1));
    Arbitrary<SnapshotTransferProperties.Step> prune =
        Arbitraries.doubles()
            .between(0, 1)
            .map(f -> new SnapshotTransferProperties.Step(List.of(), f));
    Arbitrary<List<SnapshotTransferProperties.Step>> base =
        Arbitraries.frequencyOf(Tuple.of(8, batch), Tuple.of(1, prune)).list().ofMaxSize(25);
    // A checkpoint at the old log's last version is made likely: with a base at that same version
    // (baseAhead 0) the reset's rename replaces it.
    return Arbitraries.integers()
        .between(0, 60)
        .flatMap(
            old ->
                Combinators.combine(
                        Arbitraries.just(old),
                        Arbitraries.frequencyOf(
                            Tuple.of(1, Arbitraries.just(old)),
                            Tuple.of(3, Arbitraries.integers().between(-1, 60))),
                        Arbitraries.integers().between(0, 60),
                        base,
                        Arbitraries.frequencyOf(
                            Tuple.of(1, Arbitraries.just(0)),
                            Tuple.of(1, Arbitraries.integers().between(1, 3))))
                    .as(Case::new));
  }

  @Property(tries = 15)
  void aResetStoppedAtAnyStepRecoversTheOldStateOrTheBaseAndAppendsAfterIt(
      @ForAll("cases") Case c, @ForAll @IntRange(min = 1, max = 4) int appended)
      throws IOException {
    Path root = Files.createTempDirectory("zverse-reset");
    try {
      Path old = root.resolve("old");
      long logged = writeOld(old, c);
      Snapshot oldState;
      try (DurableLog log = open(old)) {
        oldState = log.recovered();
      }
      Snapshot base = base(c, logged);
      List<DurableLog.ResetStep> steps = new ArrayList<>();
      for (int stop = 0; ; stop++) {
        Path dir = root.resolve("stop" + stop);
        copy(old, dir);
        int at = stop;
        boolean crashed;
        List<DurableLog.ResetStep> seen = new ArrayList<>();
        try (DurableLog log = open(dir)) {
          log.resetCrash =
              step -> {
                seen.add(step);
                if (seen.size() > at) {
                  throw new Crash();
                }
              };
          try {
            log.resetTo(base);
            crashed = false;
          } catch (Crash expected) {
            crashed = true;
          }
        }
        Snapshot expected = base;
        if (crashed) {
          DurableLog.ResetStep last = seen.get(seen.size() - 1);
          boolean renamed = last.compareTo(DurableLog.ResetStep.CHECKPOINT_RENAMED) >= 0;
          expected = renamed ? base : oldState;
          if (last == DurableLog.ResetStep.CHECKPOINT_RENAMED) {
            // A power loss before the directory was forced may undo the rename: the old state.
            Path undone = root.resolve("undone" + stop);
            copy(dir, undone);
            Path checkpoint = undone.resolve(DataDirectory.checkpointName(base.version()));
            if (Files.exists(old.resolve(DataDirectory.checkpointName(base.version())))) {
              // It replaced the old log's checkpoint of the same version: that one is back.
              Files.copy(
                  old.resolve(DataDirectory.checkpointName(base.version())),
                  checkpoint,
                  StandardCopyOption.REPLACE_EXISTING);
            } else {
              Files.delete(checkpoint);
            }
            try (DurableLog log = open(undone)) {
              SnapshotTransferProperties.assertSame(oldState, log.recovered());
            }
          }
        }
        Snapshot next;
        try (DurableLog log = open(dir)) {
          Snapshot r = log.recovered();
          SnapshotTransferProperties.assertSame(expected, r);
          next = appendAfter(log, r, appended);
        }
        try (DurableLog log = open(dir)) {
          SnapshotTransferProperties.assertSame(next, log.recovered());
        }
        if (!crashed) {
          steps.addAll(seen);
          break;
        }
      }
      // Stopped once at each step the whole reset passes: five, plus one per file deleted.
      assertTrue(steps.size() >= 5, "the steps of the reset: " + steps);
    } finally {
      LogFiles.delete(root);
    }
  }

  @Property(tries = 10)
  void aBaseBehindTheLogIsRefusedAndTheLogGoesOn(
      @ForAll @IntRange(min = 2, max = 30) int oldVersions) throws IOException {
    Path root = Files.createTempDirectory("zverse-reset");
    try {
      writeOld(root, new Case(oldVersions, -1, 0, List.of(), 0));
      try (DurableLog log = open(root)) {
        Snapshot s = log.recovered();
        Snapshot behind = Snapshot.empty().apply(WriteBatch.ofPut("a", "b"));
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> log.resetTo(behind));
        assertEquals(
            "base.version must be at least the logged version " + oldVersions + ", was 1",
            e.getMessage());
        appendAfter(log, s, 1);
      }
      try (DurableLog log = open(root)) {
        assertEquals(oldVersions + 1, log.recovered().version(), log.recoveryReport());
      }
    } finally {
      LogFiles.delete(root);
    }
  }

  /** Writes the old history through a log of small segments; returns its last version. */
  private static long writeOld(Path dir, Case c) throws IOException {
    try (DurableLog log = open(dir)) {
      Snapshot s = log.recovered();
      for (long v = 1; v <= c.oldVersions(); v++) {
        Snapshot next = s.apply(CrashWriter.batch(v));
        log.append(s, next);
        s = next;
        if (v == c.pruneTo()) {
          s = s.prune(v / 2);
        }
        if (v == c.checkpointAt()) {
          log.checkpoint(s);
        }
      }
      return s.version();
    }
  }

  /** The base: the case's script, moved on to at least the old log's version. */
  private static Snapshot base(Case c, long logged) {
    Snapshot s = SnapshotTransferProperties.build(c.base());
    for (int i = 0; s.version() < logged + c.baseAhead(); i++) {
      s = s.apply(WriteBatch.ofPut("base/" + i, "b" + i));
    }
    return s;
  }

  private static Snapshot appendAfter(DurableLog log, Snapshot s, int versions) throws IOException {
    for (int i = 0; i < versions; i++) {
      Snapshot next = s.apply(CrashWriter.batch(s.version() + 1));
      log.append(s, next);
      s = next;
    }
    return s;
  }

  private static DurableLog open(Path dir) throws IOException {
    return DurableLog.open(
        // A process crash is what the seam stops the reset as: forces of appends do not matter.
        DurabilityOptions.in(dir).withSegmentBytes(4096).withSync(SyncPolicy.NEVER),
        Limits.defaults(),
        ZIndexOptions.disabled());
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.copy(p, to.resolve(p.getFileName()));
      }
    }
  }
}
