package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corruption table: damages a small data directory in every way listed below, one at a time,
 * and opens it with {@code recover-past-corruption} off and on. Every open must either refuse with
 * a {@link CorruptLogException} naming the file and a byte offset in it, or hold exactly a prefix
 * of the acknowledged history; one that only the physical tail was damaged in must hold every
 * version acknowledged before the damaged record, and one with the option off that damage was
 * refused in must never have dropped a version silently.
 *
 * <ul>
 *   <li>every bit of the segment header and of every record header, one at a time;
 *   <li>every bit of the newest checkpoint's header (the older checkpoint and the log recover all);
 *   <li>truncation at every offset of the last record;
 *   <li>zeros, and garbage, appended to the last segment.
 * </ul>
 *
 * Two directories are damaged: one with the log alone, one whose newest checkpoint holds the first
 * records of the segment. {@code -Dzverse.test.scale=N} writes N times the versions and appends N
 * times the garbage. The table runs in {@code /dev/shm} where there is one, since it forces files
 * thousands of times.
 */
class CorruptionTableTest {
  private static final int SCALE = Integer.getInteger("zverse.test.scale", 1);
  private static final int VERSIONS = 4 * SCALE;

  /** What one damaged directory must recover to when it opens. */
  private enum Expect {
    /** Damage: with the option off nothing may be dropped; with it on, any prefix. */
    DAMAGE,
    /** A torn tail: every version before the last record, at least. */
    TORN_LAST_RECORD,
    /** Bytes after the log that are no torn write: refused with the option off, else all kept. */
    GARBAGE,
    /** Nothing acknowledged is damaged: every version. */
    ALL
  }

  private final List<String> failures = new ArrayList<>();
  private int opens;

  @Test
  void everyDamageIsRefusedOrRecoveredToAPrefixThatKeepsWhatOnlyTheTailLost(@TempDir Path tmp)
      throws IOException {
    Path shm = Path.of("/dev/shm");
    Path root =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "zverse-corruption-")
            : tmp;
    try {
      Path logOnly = root.resolve("log-only");
      Path withCheckpoints = root.resolve("with-checkpoints");
      try (DurableLog log = RecoveryTest.open(logOnly, false)) {
        RecoveryTest.write(log, log.recovered(), VERSIONS);
      }
      try (DurableLog log = RecoveryTest.open(withCheckpoints, false)) {
        RecoveryTest.write(log, log.recovered(), VERSIONS, VERSIONS / 3, 2 * VERSIONS / 3);
      }
      for (Path template : List.of(logOnly, withCheckpoints)) {
        sweep(template, root.resolve("damaged"));
      }
      assertTrue(
          failures.isEmpty(),
          failures.size()
              + " of "
              + opens
              + " opens failed, the first:\n"
              + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    } finally {
      if (root != tmp) {
        for (Path p :
            List.of("log-only", "with-checkpoints", "damaged").stream()
                .map(root::resolve)
                .toList()) {
          if (Files.exists(p)) {
            LogFiles.delete(p);
          }
        }
        Files.delete(root);
      }
    }
  }

  private interface Damage {
    void apply(Path dir) throws IOException;
  }

  private void sweep(Path template, Path dir) throws IOException {
    Path seg = LogFiles.lastSegment(template);
    String segName = seg.getFileName().toString();
    List<Long> records = LogFiles.records(seg);
    int rh = LogFiles.recordHeaderBytes(seg);
    long size = Files.size(seg);
    for (int bit = 0; bit < LogFiles.headerBytes(seg) * 8; bit++) {
      int b = bit;
      check(
          template,
          dir,
          "segment header bit " + bit,
          Expect.DAMAGE,
          d -> LogFiles.flipBit(d.resolve(segName), b / 8, b % 8));
    }
    for (int r = 0; r < records.size(); r++) {
      for (int bit = 0; bit < rh * 8; bit++) {
        long at = records.get(r) + bit / 8;
        int b = bit % 8;
        check(
            template,
            dir,
            "record " + (r + 1) + " header bit " + bit,
            Expect.DAMAGE,
            d -> LogFiles.flipBit(d.resolve(segName), at, b));
      }
    }
    List<Long> checkpoints = DataDirectory.checkpointVersions(template);
    if (checkpoints.size() == 2) {
      Path newest = template.resolve(DataDirectory.checkpointName(checkpoints.get(1)));
      int headerBytes = LogFiles.format(newest) >= 3 ? 16 : 12;
      String name = newest.getFileName().toString();
      for (int bit = 0; bit < headerBytes * 8; bit++) {
        int b = bit;
        check(
            template,
            dir,
            "newest checkpoint header bit " + bit,
            Expect.ALL,
            d -> LogFiles.flipBit(d.resolve(name), b / 8, b % 8));
      }
    }
    long last = records.get(records.size() - 1);
    for (long cut = last + 1; cut < size; cut++) {
      long c = cut;
      check(
          template,
          dir,
          "truncated at byte " + cut + " of the last record",
          Expect.TORN_LAST_RECORD,
          d -> LogFiles.truncate(d.resolve(segName), c));
    }
    for (int zeros : new int[] {1, 7, 8, 23, 24, 25, 100, 512, 4096}) {
      check(
          template,
          dir,
          zeros + " zeros appended",
          Expect.ALL,
          d -> LogFiles.append(d.resolve(segName), new byte[zeros]));
    }
    Random rnd = new Random(14);
    for (int i = 0; i < 20 * SCALE; i++) {
      byte[] garbage = new byte[1 + rnd.nextInt(200)];
      rnd.nextBytes(garbage);
      check(
          template,
          dir,
          garbage.length + " bytes of garbage appended (case " + i + ")",
          Expect.GARBAGE,
          d -> LogFiles.append(d.resolve(segName), garbage));
    }
  }

  private void check(Path template, Path dir, String damage, Expect expect, Damage how)
      throws IOException {
    for (boolean past : new boolean[] {false, true}) {
      if (Files.exists(dir)) {
        LogFiles.delete(dir);
      }
      LogFiles.copy(template, dir);
      how.apply(dir);
      String what = damage + ", recover-past-corruption " + (past ? "on" : "off") + ": ";
      opens++;
      long recovered = -1;
      boolean cut = false;
      try (DurableLog log = RecoveryTest.open(dir, past)) {
        Snapshot s = log.recovered();
        String report = log.recoveryReport();
        recovered = s.version();
        cut = report.contains("cut ");
        try {
          RecoveryTest.checkHistory(s, report);
        } catch (AssertionError e) {
          failures.add(what + "not the acknowledged history: " + e.getMessage());
          continue;
        }
        long least =
            expect == Expect.ALL || expect == Expect.GARBAGE || (expect == Expect.DAMAGE && !past)
                ? VERSIONS
                : expect == Expect.TORN_LAST_RECORD ? VERSIONS - 1 : 0;
        if (s.version() < least) {
          failures.add(
              what
                  + "recovered version "
                  + s.version()
                  + ", expected at least "
                  + least
                  + ": "
                  + report);
        } else if (s.version() < VERSIONS && !report.contains("dropped")) {
          failures.add(what + "lost versions without saying so: " + report);
        }
      } catch (CorruptLogException e) {
        if (expect != Expect.DAMAGE && expect != Expect.GARBAGE) {
          failures.add(what + "refused a directory whose damage is a torn tail: " + e.getMessage());
        } else if (e.file() == null
            || !e.file().startsWith(dir)
            || e.offset() < 0
            || e.offset() > Files.size(e.file())
            || !e.getMessage().contains(e.file() + " is damaged at byte " + e.offset())) {
          failures.add(
              what + "refused without naming the file and an offset in it: " + e.getMessage());
        }
        if (past) {
          failures.add(what + "refused although recovery past corruption is on: " + e.getMessage());
        }
      } catch (IOException | RuntimeException e) {
        failures.add(what + "failed with " + e);
      }
      if (cut) {
        // What recovery left must open again as it is, with nothing more to cut.
        try (DurableLog again = RecoveryTest.open(dir, false)) {
          if (again.recovered().version() != recovered) {
            failures.add(
                what
                    + "reopened at version "
                    + again.recovered().version()
                    + " after "
                    + recovered
                    + ": "
                    + again.recoveryReport());
          }
        } catch (IOException | RuntimeException e) {
          failures.add(
              what + "recovered to version " + recovered + " but then failed to reopen: " + e);
        }
      }
    }
  }
}
