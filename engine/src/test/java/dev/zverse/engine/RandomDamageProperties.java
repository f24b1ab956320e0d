package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Random damage anywhere in a data directory, the payloads and checkpoint bodies that {@link
 * CorruptionTableTest} leaves alone included: up to three flipped bits in any file, then at most
 * one change of the log's end (truncated anywhere, zeros or garbage appended). Every open refuses
 * naming the file and an offset in it, or holds a prefix of the acknowledged history; with the
 * option off, an open that succeeds lost no more than the truncation took (the record it cut into
 * and those after it); with only zeros appended, it lost nothing; with the option on it never
 * refuses (the log here reaches back to version 1).
 */
class RandomDamageProperties {
  private static final int VERSIONS = 20;
  private static Path root;
  private static Path template;

  private static synchronized Path template() throws IOException {
    if (template == null) {
      Path shm = Path.of("/dev/shm");
      root =
          Files.isDirectory(shm) && Files.isWritable(shm)
              ? Files.createTempDirectory(shm, "zverse-damage-")
              : Files.createTempDirectory("zverse-damage-");
      template = root.resolve("template");
      try (DurableLog log = RecoveryTest.open(template, false)) {
        RecoveryTest.write(log, log.recovered(), VERSIONS, 7, 14);
      }
    }
    return template;
  }

  @AfterContainer
  static void removeTemplate() throws IOException {
    if (root != null) {
      for (String name : List.of("template", "damaged")) {
        if (Files.exists(root.resolve(name))) {
          LogFiles.delete(root.resolve(name));
        }
      }
      Files.delete(root);
      root = null;
      template = null;
    }
  }

  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void randomDamageIsRefusedOrRecoveredToAPrefix(@ForAll long seed, @ForAll boolean past)
      throws IOException {
    Path from = template();
    Path dir = root.resolve("damaged");
    if (Files.exists(dir)) {
      LogFiles.delete(dir);
    }
    LogFiles.copy(from, dir);
    Random rnd = new Random(seed);
    Path seg = LogFiles.lastSegment(dir);
    List<Long> records = LogFiles.records(seg);
    List<Path> files = new ArrayList<>();
    files.add(seg);
    for (long v : DataDirectory.checkpointVersions(dir)) {
      files.add(dir.resolve(DataDirectory.checkpointName(v)));
    }
    List<String> done = new ArrayList<>();
    int flips = rnd.nextInt(4);
    for (int i = 0; i < flips; i++) {
      Path f = files.get(rnd.nextInt(files.size()));
      long at = (long) (rnd.nextDouble() * Files.size(f));
      int bit = rnd.nextInt(8);
      LogFiles.flipBit(f, at, bit);
      done.add("bit " + bit + " of byte " + at + " of " + f.getFileName());
    }
    long floor = VERSIONS; // what an open with the option off must keep
    boolean zerosOnly = flips == 0;
    switch (rnd.nextInt(4)) {
      case 0 -> {
        long size = Files.size(seg);
        int header = LogFiles.headerBytes(seg);
        long cut = header + (long) (rnd.nextDouble() * (size - header));
        LogFiles.truncate(seg, cut);
        // The records that end at or before the cut are whole; the one cut into is torn.
        floor = 0;
        for (int r = 0; r < records.size(); r++) {
          long end = r + 1 < records.size() ? records.get(r + 1) : size;
          if (end <= cut) {
            floor = r + 1;
          }
        }
        done.add("truncated at byte " + cut);
        zerosOnly = false;
      }
      case 1 -> {
        int n = 1 + rnd.nextInt(600);
        LogFiles.append(seg, new byte[n]);
        done.add(n + " zeros appended");
      }
      case 2 -> {
        byte[] garbage = new byte[1 + rnd.nextInt(300)];
        rnd.nextBytes(garbage);
        LogFiles.append(seg, garbage);
        done.add(garbage.length + " bytes of garbage appended");
        zerosOnly = false;
      }
      default -> {}
    }
    String what = done + ", recover-past-corruption " + (past ? "on" : "off") + ": ";
    try (DurableLog log = RecoveryTest.open(dir, past)) {
      Snapshot s = log.recovered();
      RecoveryTest.checkHistory(s, what + log.recoveryReport());
      if (!past) {
        assertTrue(
            s.version() >= floor, what + "lost acknowledged versions: " + log.recoveryReport());
      }
      if (zerosOnly) {
        assertEquals(VERSIONS, s.version(), what + log.recoveryReport());
      }
    } catch (CorruptLogException e) {
      if (past || zerosOnly) {
        fail(what + "refused: " + e.getMessage());
      }
      assertTrue(
          e.file().startsWith(dir)
              && e.offset() >= 0
              && e.offset() <= Files.size(e.file())
              && e.getMessage().contains(e.file() + " is damaged at byte " + e.offset()),
          what + "refused without naming the file and an offset in it: " + e.getMessage());
    }
  }
}
