package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
 * Recovery past damage in a log segment that is not the last one ({@code recover-past-corruption}),
 * stopped after each of its file steps as a killed process would stop it: the later segments'
 * deletions, the directory's force, the cut segment's truncation or, when the cut left no record in
 * it, its deletion. The next open, with the option on, holds exactly the prefix that the
 * uninterrupted recovery holds, and the log goes on after it. So does the open after a power loss
 * at that step, which may also bring back any files deleted since the directory was last forced.
 * The uninterrupted recovery's report says what the cut dropped: the damaged record and every one
 * after it, in its own segment and in the later ones.
 */
class InterruptedCutProperties {
  private static final long SEGMENT_BYTES = DurabilityOptions.MIN_SEGMENT_BYTES;

  /** Thrown by the recovery's crash seam: the recovery stops there, as the process would. */
  private static final class Stopped extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stopped() {
      super("simulated crash", null, false, false);
    }
  }

  /** Where the damage is: a bit of a record's payload or header, or of the segment's header. */
  enum Kind {
    PAYLOAD,
    RECORD_HEADER,
    SEGMENT_HEADER
  }

  /**
   * A log of {@code versions} versions, damaged in the segment at {@code segment} (a fraction of
   * the segments before the last), in the record at {@code record} (a fraction of its records), at
   * {@code at} (a fraction of the damaged field), bit {@code bit}.
   */
  record Case(int versions, double segment, Kind kind, double record, double at, int bit) {}

  @Provide
  Arbitrary<Case> cases() {
    return Combinators.combine(
            Arbitraries.integers().between(60, 160),
            Arbitraries.doubles().between(0, true, 1, false).ofScale(3),
            Arbitraries.of(Kind.class),
            Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(3, Arbitraries.doubles().between(0, true, 1, false).ofScale(3))),
            Arbitraries.doubles().between(0, true, 1, false).ofScale(3),
            Arbitraries.integers().between(0, 7))
        .as(Case::new);
  }

  /** {@code restored} says, bit by bit, which of the deleted files a power loss brings back. */
  @Property(tries = 15)
  void aCutStoppedAfterAnyStepIsRecoveredToTheSamePrefix(
      @ForAll("cases") Case c,
      @ForAll int restored,
      @ForAll @IntRange(min = 1, max = 3) int appended)
      throws IOException {
    Path shm = Path.of("/dev/shm");
    Path root =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "zverse-cut-")
            : Files.createTempDirectory("zverse-cut-");
    try {
      Path template = root.resolve("template");
      try (DurableLog log = open(template)) {
        RecoveryTest.write(log, log.recovered(), c.versions());
      }
      List<Long> firsts = DataDirectory.segmentVersions(template);
      assertTrue(firsts.size() >= 2, "the log has a segment before the last: " + firsts);
      int i = (int) (c.segment() * (firsts.size() - 1));
      Path seg = template.resolve(DataDirectory.segmentName(firsts.get(i)));
      List<Long> records = LogFiles.records(seg);
      int r = (int) (c.record() * records.size());
      long cutAt = c.kind() == Kind.SEGMENT_HEADER ? 0 : records.get(r);
      long dropFrom = c.kind() == Kind.SEGMENT_HEADER ? firsts.get(i) : firsts.get(i) + r;
      damage(seg, c, records, r);
      long dropBytes = Files.size(seg) - cutAt;
      for (int j = i + 1; j < firsts.size(); j++) {
        dropBytes += Files.size(template.resolve(DataDirectory.segmentName(firsts.get(j))));
      }

      Path whole = root.resolve("whole");
      LogFiles.copy(template, whole);
      Snapshot expected;
      try (DurableLog log = open(whole)) {
        expected = log.recovered();
        String report = log.recoveryReport();
        assertEquals(dropFrom - 1, expected.version(), report);
        RecoveryTest.checkHistory(expected, report);
        String cut = "cut " + seg.getFileName() + " at byte " + cutAt + " (";
        String dropped =
            "): dropped versions " + dropFrom + " to " + c.versions() + ", " + dropBytes + " bytes";
        assertTrue(report.contains(cut) && report.contains(dropped), report);
      }

      List<Recovery.Step> steps = List.of();
      for (int stop = 0; ; stop++) {
        Path dir = root.resolve("stop" + stop);
        LogFiles.copy(template, dir);
        int at = stop;
        List<Recovery.Step> seen = new ArrayList<>();
        // What a power loss may bring back: the files deleted since the directory was last forced,
        // as they were when last seen.
        Map<String, byte[]> lastSeen = files(dir);
        Set<String> forced = new TreeSet<>(lastSeen.keySet());
        boolean stopped;
        try (DataDirectory locked = DataDirectory.lock(dir)) {
          Recovery.run(
              locked,
              options(dir),
              Limits.defaults(),
              index(),
              step -> {
                seen.add(step);
                Map<String, byte[]> now = files(dir);
                lastSeen.putAll(now);
                if (step == Recovery.Step.DIRECTORY_FORCED) {
                  forced.clear();
                  forced.addAll(now.keySet());
                }
                if (seen.size() > at) {
                  throw new Stopped();
                }
              });
          stopped = false;
        } catch (Stopped expectedStop) {
          stopped = true;
        }
        if (!stopped) {
          steps = seen;
          break;
        }
        String where = "stopped after " + seen + " of a recovery of " + c + ": ";
        Path lost = root.resolve("lost" + stop);
        LogFiles.copy(dir, lost);
        List<String> back = new ArrayList<>();
        int bit = 0;
        for (String name : forced) {
          if (!Files.exists(lost.resolve(name)) && ((restored >>> (bit++ % 32)) & 1) != 0) {
            Files.write(lost.resolve(name), lastSeen.get(name));
            back.add(name);
          }
        }
        reopenAndGoOn(dir, expected, appended, where);
        if (!back.isEmpty()) {
          reopenAndGoOn(lost, expected, appended, where + "then power lost, back: " + back + ": ");
        }
      }
      assertTrue(
          steps.contains(Recovery.Step.LATER_SEGMENT_DELETED)
              && (steps.contains(Recovery.Step.CUT_FORCED)
                  || steps.contains(Recovery.Step.EMPTIED_SEGMENT_DELETED)),
          "the steps of the cut: " + steps);
    } finally {
      LogFiles.delete(root);
    }
  }

  /** Opens {@code dir}, expecting {@code expected}, appends after it, and reopens. */
  private static void reopenAndGoOn(Path dir, Snapshot expected, int appended, String where)
      throws IOException {
    Snapshot next;
    try (DurableLog log = open(dir)) {
      SnapshotTransferProperties.assertSame(expected, log.recovered());
      next = RecoveryTest.write(log, log.recovered(), expected.version() + appended);
    } catch (CorruptLogException e) {
      throw new AssertionError(where + "refused: " + e.getMessage(), e);
    } catch (AssertionError e) {
      throw new AssertionError(where + e.getMessage(), e);
    }
    try (DurableLog log = open(dir)) {
      SnapshotTransferProperties.assertSame(next, log.recovered());
    } catch (CorruptLogException e) {
      fail(where + "refused after appending: " + e.getMessage());
    }
  }

  /** Flips the case's bit in {@code seg}, whose records start at {@code records}. */
  private static void damage(Path seg, Case c, List<Long> records, int r) throws IOException {
    if (c.kind() == Kind.SEGMENT_HEADER) {
      LogFiles.flipBit(seg, (long) (c.at() * LogFiles.headerBytes(seg)), c.bit());
      return;
    }
    long pos = records.get(r);
    int rh = LogFiles.recordHeaderBytes(seg);
    if (c.kind() == Kind.RECORD_HEADER) {
      LogFiles.flipBit(seg, pos + (long) (c.at() * rh), c.bit());
    } else {
      long end = r + 1 < records.size() ? records.get(r + 1) : Files.size(seg);
      LogFiles.flipBit(seg, pos + rh + (long) (c.at() * (end - pos - rh)), c.bit());
    }
  }

  /** The files of {@code dir} but its lock, by name, with their bytes. */
  private static Map<String, byte[]> files(Path dir) {
    Map<String, byte[]> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        if (!name.equals("lock")) {
          out.put(name, Files.readAllBytes(p));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static DurabilityOptions options(Path dir) {
    return DurabilityOptions.in(dir)
        .withSegmentBytes(SEGMENT_BYTES)
        .withRecoverPastCorruption(true)
        .withSync(SyncPolicy.NEVER);
  }

  private static ZIndexOptions index() {
    return ZIndexOptions.disabled();
  }

  private static DurableLog open(Path dir) throws IOException {
    return DurableLog.open(options(dir), Limits.defaults(), index());
  }
}
