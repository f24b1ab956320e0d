package dev.zverse.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Change;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.DurableLog;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Limits;
import dev.zverse.engine.QueryPath;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.ZIndexOptions;
import dev.zverse.engine.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM that writes through a durable {@link ZVerseStore} ({@link CrashStore}: an actor
 * system, 4 writer threads with 4 multi-key transactions in flight each) with SIGKILL at random
 * moments, mostly while it writes and sometimes while it starts or recovers. After each kill the
 * data directory is recovered and checked: every version the child acknowledged is there with
 * exactly its transaction's changes, every recovered version is one whole transaction (none half
 * there, none twice), and the next child opens at exactly the recovered version. {@code
 * -Dzverse.test.crashKills=N} sets the number of kills (20 by default); {@code -Dzverse.test.seed}
 * fixes the random moments.
 */
class DurableStoreCrashTest {
  private static final int KILLS = Integer.getInteger("zverse.test.crashKills", 20);
  private static final int THREADS = 4;

  /**
   * Acknowledged writes each run that is killed while writing makes first, at least: four fifths of
   * the runs make at least 13 each, which keeps the floor of 10 per kill checked at the end.
   */
  private static final int MIN_ACKS_PER_RUN = 13;

  private static final Pattern VALUE = Pattern.compile("r(\\d+)t(\\d+)n(\\d+)");

  /** One acknowledged write. */
  private record Ack(int run, int thread, long n, long version) {}

  @Test
  void everyAcknowledgedTransactionSurvivesSigkillWholeAndVersionsContinue(@TempDir Path dir)
      throws Exception {
    long seed = Long.getLong("zverse.test.seed", System.nanoTime());
    Random rnd = new Random(seed);
    Map<String, Long> committed = new HashMap<>(); // transaction -> version, over every run
    long recovered = 0;
    long totalAcks = 0;
    // A fifth of the runs, chosen at random, are killed during start-up or recovery; a fixed
    // count, so that the floor on acknowledged writes below holds whatever the seed.
    List<Boolean> earlyRuns = new ArrayList<>(Collections.nCopies(KILLS, false));
    for (int i = 0; i < KILLS / 5; i++) {
      earlyRuns.set(i, true);
    }
    Collections.shuffle(earlyRuns, rnd);
    for (int run = 0; run < KILLS; run++) {
      boolean early = earlyRuns.get(run);
      ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
      AtomicLong opened = new AtomicLong(-1);
      // Closing kills the child if an assertion below failed first: left running, it would recover
      // and write while JUnit deletes the directory under it.
      try (ChildJvm child = start(dir, run, acks, opened, new AtomicReference<>())) {
        if (early) {
          // A random moment of the start-up to kill at: no output marks the steps of a start-up, so
          // this sleep scripts where the kill lands; the test asserts nothing about what was done.
          Thread.sleep(rnd.nextInt(1500));
        } else {
          // A bound on a JVM's start and a recovery, not a speed: generous for a loaded machine.
          assertTrue(
              child.await(() -> opened.get() >= 0, Duration.ofSeconds(120)),
              "child did not open the store (seed " + seed + ")");
          // A random moment of the writes to kill at, counted in acknowledged writes rather than in
          // wall-clock time, so a slow machine still writes enough before each kill.
          int killAt = MIN_ACKS_PER_RUN + rnd.nextInt(400);
          assertTrue(
              child.await(() -> acks.size() >= killAt, Duration.ofSeconds(60)),
              "child acknowledged "
                  + acks.size()
                  + " writes, not "
                  + killAt
                  + " (seed "
                  + seed
                  + ")");
        }
        child.kill();
      }
      if (opened.get() >= 0) {
        assertEquals(
            recovered,
            opened.get(),
            "the child opens at the recovered version (seed " + seed + ")");
      }

      try (DurableLog log = openLog(dir)) {
        Snapshot s = log.recovered();
        String where = " after kill " + run + " (seed " + seed + ", " + log.recoveryReport() + ")";
        for (long v = recovered + 1; v <= s.version(); v++) {
          List<Change> got = s.changes(KeyRange.all(), v, v, QueryPath.COMMIT_WALK);
          assertTrue(
              !got.isEmpty() && !got.get(0).isDelete() || got.size() > 1,
              "version " + v + " is empty" + where);
          String value =
              got.stream().filter(c -> !c.isDelete()).findFirst().orElseThrow().valueUtf8();
          Matcher m = VALUE.matcher(value);
          assertTrue(m.matches(), "version " + v + " holds " + value + where);
          int r = Integer.parseInt(m.group(1));
          int t = Integer.parseInt(m.group(2));
          long n = Long.parseLong(m.group(3));
          assertEquals(run, r, "version " + v + " was written by this run" + where);
          assertEquals(
              CrashStore.expected(r, t, n, v),
              got.stream().map(CrashStore::describe).collect(Collectors.toList()),
              "version " + v + " is one whole transaction" + where);
          Long before = committed.put(value, v);
          assertTrue(
              before == null, value + " committed twice, as " + before + " and " + v + where);
        }
        for (Ack a : acks) {
          assertTrue(
              a.version() <= s.version(),
              "acknowledged version " + a.version() + " lost; recovered " + s.version() + where);
          assertEquals(
              (Long) a.version(),
              committed.get(CrashStore.value(a.run(), a.thread(), a.n())),
              "acknowledged " + a + where);
        }
        totalAcks += acks.size();
        recovered = s.version();
      }
    }
    System.out.printf(
        "DurableStoreCrashTest: %d kills, %d writes acknowledged, %d versions recovered (seed %d)%n",
        KILLS, totalAcks, recovered, seed);
    assertTrue(
        totalAcks > 10L * KILLS,
        "the children acknowledged too little to mean anything: " + totalAcks);
  }

  @Test
  void aDirectoryHeldByAnotherProcessIsRefusedWithAClearError(@TempDir Path dir) throws Exception {
    try (DurableLog held = openLog(dir)) {
      AtomicReference<String> refused = new AtomicReference<>();
      try (ChildJvm child =
          start(dir, 0, new ConcurrentLinkedQueue<>(), new AtomicLong(-1), refused)) {
        assertTrue(child.waitFor(Duration.ofSeconds(60)), "the child should give up at once");
        assertEquals(3, child.exitValue(), "the child's open was refused");
      }
      assertTrue(refused.get().contains("locked by another process"), refused.get());
      assertTrue(refused.get().contains(dir.toString()), refused.get());
      assertEquals(0, held.recovered().version());
    }
  }

  private static DurableLog openLog(Path dir) throws IOException {
    return DurableLog.open(
        DurabilityOptions.in(dir).withSegmentBytes(CrashStore.SEGMENT_BYTES),
        Limits.defaults(),
        ZIndexOptions.disabled());
  }

  /**
   * Starts a {@link CrashStore} child writing as run {@code run}; its output lands in {@code acks},
   * {@code opened} (the version it opened at) and {@code refused} (the line of a refused open).
   */
  private static ChildJvm start(
      Path dir,
      int run,
      ConcurrentLinkedQueue<Ack> acks,
      AtomicLong opened,
      AtomicReference<String> refused)
      throws IOException {
    return ChildJvm.start(
        List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
        CrashStore.class,
        List.of(dir.toString(), String.valueOf(run), String.valueOf(THREADS)),
        line -> {
          String[] f = line.split(" ");
          try {
            if (f[0].equals("ack") && f.length == 5) {
              acks.add(
                  new Ack(
                      Integer.parseInt(f[1]),
                      Integer.parseInt(f[2]),
                      Long.parseLong(f[3]),
                      Long.parseLong(f[4])));
            } else if (f[0].equals("open") && f.length == 2) {
              opened.set(Long.parseLong(f[1]));
            } else if (f[0].equals("refused")) {
              refused.set(line);
            }
          } catch (NumberFormatException cutByTheKill) {
            // only the last line can be cut short, and a cut line is not an ack
          }
        });
  }
}
