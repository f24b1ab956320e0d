package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.io.IOException;

/**
 * Kills a writing child JVM with SIGKILL at random moments and checks after each kill that every
 * version it acknowledged was recovered with exactly its contents, that no version is half there, and
 * that versions go on from there. {@code -Dzverse.test.crashKills=N} sets the number of kills (20 by
 * default).
 */
class DurableLogCrashTest {
  private static final int KILLS = Integer.getInteger("zverse.test.crashKills", 20);

  @Test
  void everyAcknowledgedVersionSurvivesSigkill(@TempDir Path dir) throws Exception {
    Random rnd = new Random(Long.getLong("zverse.test.seed", System.nanoTime()));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    long lastRecovered = 0;
    for (int kill = 0; kill < KILLS; kill++) {
      Process child =
          new ProcessBuilder(
                  java, "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(),
                  dir.toString(), "16384", String.valueOf(50 + rnd.nextInt(200)))
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      AtomicLong acked = new AtomicLong(-1);
      AtomicLong opened = new AtomicLong(-1);
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("ack ")) {
                      acked.set(Long.parseLong(line.substring(4)));
                    } else if (line.startsWith("open ")) {
                      opened.set(Long.parseLong(line.substring(5)));
                    }
                  }
                } catch (IOException e) {
                  // the pipe breaks when the child dies
                }
              });
      reader.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (opened.get() < 0 && System.nanoTime() < deadline && child.isAlive()) {
        Thread.sleep(5);
      }
      assertTrue(opened.get() >= 0, "child did not open the store");
      assertEquals(lastRecovered, opened.get(), "the child recovers what the parent recovered");
      Thread.sleep(20 + rnd.nextInt(300));
      child.destroyForcibly(); // SIGKILL
      child.waitFor();
      reader.join();

      try (DurableLog log =
          DurableLog.open(DurabilityOptions.in(dir).withSegmentBytes(16384), Limits.defaults(), ZIndexOptions.disabled())) {
        Snapshot s = log.recovered();
        assertTrue(
            s.version() >= acked.get(),
            "acknowledged " + acked.get() + " but recovered " + s.version() + " (" + log.recoveryReport() + ")");
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
    assertTrue(lastRecovered > KILLS, "the child wrote too little to mean anything: " + lastRecovered);
  }
}
