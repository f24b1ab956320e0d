package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writing child JVM with SIGKILL at random moments (after a random number of acknowledged
 * writes) and checks after each kill that every version it acknowledged was recovered with exactly
 * its contents, that no version is half there, and that versions go on from there. {@code
 * -Dzverse.test.crashKills=N} sets the number of kills (20 by default).
 */
class DurableLogCrashTest {
  private static final int KILLS = Integer.getInteger("zverse.test.crashKills", 20);

  /** Acknowledged writes each child makes before its kill, at least: the floor checked below. */
  private static final int MIN_ACKS_PER_KILL = 2;

  @Test
  void everyAcknowledgedVersionSurvivesSigkill(@TempDir Path dir) throws Exception {
    Random rnd = new Random(Long.getLong("zverse.test.seed", System.nanoTime()));
    long lastRecovered = 0;
    for (int kill = 0; kill < KILLS; kill++) {
      AtomicLong acked = new AtomicLong(-1);
      AtomicLong opened = new AtomicLong(-1);
      // Closing kills the child if an assertion below failed first: left running, it would recover
      // and write while JUnit deletes the directory under it.
      try (ChildJvm child =
          ChildJvm.start(
              List.of(),
              CrashWriter.class,
              List.of(dir.toString(), "16384", String.valueOf(50 + rnd.nextInt(200))),
              line -> {
                try {
                  if (line.startsWith("ack ")) {
                    acked.set(Long.parseLong(line.substring(4)));
                  } else if (line.startsWith("open ")) {
                    opened.set(Long.parseLong(line.substring(5)));
                  }
                } catch (NumberFormatException cutByTheKill) {
                  // only the last line can be cut short, and a cut line is not an ack
                }
              })) {
        // A bound on a JVM's start and a recovery, not a speed: generous for a loaded machine.
        assertTrue(
            child.await(() -> opened.get() >= 0, Duration.ofSeconds(120)),
            "child did not open the store");
        assertEquals(lastRecovered, opened.get(), "the child recovers what the parent recovered");
        // A random moment of the writes to kill at, counted in acknowledged writes since the open
        // rather than in wall-clock time, so a slow machine still writes enough before each kill.
        long killAt = opened.get() + MIN_ACKS_PER_KILL + rnd.nextInt(300);
        assertTrue(
            child.await(() -> acked.get() >= killAt, Duration.ofSeconds(60)),
            "child did not acknowledge version " + killAt + "; last was " + acked.get());
        child.kill();
      }

      try (DurableLog log =
          DurableLog.open(
              DurabilityOptions.in(dir).withSegmentBytes(16384),
              Limits.defaults(),
              ZIndexOptions.disabled())) {
        Snapshot s = log.recovered();
        assertTrue(
            s.version() >= acked.get(),
            "acknowledged "
                + acked.get()
                + " but recovered "
                + s.version()
                + " ("
                + log.recoveryReport()
                + ")");
        for (long v = Math.max(1, lastRecovered - 5); v <= s.version(); v++) {
          List<Change> got = s.changes(KeyRange.all(), v, v, QueryPath.COMMIT_WALK);
          assertEquals(CrashWriter.expected(v), got, "version " + v + " after kill " + kill);
        }
        lastRecovered = s.version();
        try (Stream<Path> files = Files.list(dir)) {
          assertEquals(
              List.of(),
              files.filter(p -> p.toString().endsWith(".tmp")).toList(),
              "a checkpoint the kill left unfinished is removed on open");
        }
      }
    }
    assertTrue(
        lastRecovered > KILLS, "the child wrote too little to mean anything: " + lastRecovered);
  }
}
