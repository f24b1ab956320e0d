package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.examples.DurableStore.Runs;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableStoreTest {
  @Test
  void aRestartRecoversEveryVersionAndTheVersionsContinue(@TempDir Path directory) {
    Output out = new Output();
    Runs runs = DurableStore.run(directory.resolve("ledger"), out.stream);

    assertEquals("no checkpoint; replayed 0 records to version 0", runs.firstReport(), out::text);
    assertEquals(List.of(1L, 2L, 3L), runs.written(), out::text);
    assertNotNull(runs.refusal(), "a second store opened the locked directory:\n" + out.text());
    assertTrue(runs.refusal().getMessage().contains("already open"), runs.refusal().getMessage());
    assertTrue(
        runs.files().contains("checkpoint-00000000000000000003.zvc"),
        "no final checkpoint: " + runs.files());
    assertTrue(runs.files().contains("lock"), runs.files()::toString);
    assertTrue(
        runs.secondReport()
                .startsWith("checkpoint checkpoint-00000000000000000003.zvc at version 3;")
            && runs.secondReport().endsWith(" to version 3"),
        runs.secondReport());
    assertEquals("70", runs.adaNow());
    assertEquals("100", runs.adaAtFirstVersion());
    assertEquals(
        List.of("@1 \"accounts/ada\"=\"100\"", "@3 \"accounts/ada\"=\"70\""),
        runs.history().stream().map(Change::toString).toList());
    assertEquals(4, runs.nextVersion(), out::text);
    assertTrue(
        out.text().contains("version 3; accounts/ada = 70, alan = 80; at version 1 ada was 100"),
        out::text);
    assertTrue(
        out.text().contains("refused: data directory <data directory> is already open"), out::text);
  }

  /**
   * Found while writing the example: after a clean close (final checkpoint at version 3) the reopen
   * reports "checkpoint ... at version 3; replayed 3 records to version 3", because Recovery counts
   * the log records it reads, also those the checkpoint already holds and it skips. Enable once the
   * engine counts only the records it applies.
   */
  @Test
  void aReopenAfterACleanCloseReplaysNoRecord(@TempDir Path directory) {
    for (int run = 0; run < 2; run++) {
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "recovery-report");
      try {
        ZVerseStore store =
            ZVerseStore.open(
                system, "s", StoreSettings.create(system, "s").withDataDirectory(directory));
        if (run == 0) {
          store.put("k", "v").toCompletableFuture().join();
        } else {
          assertTrue(
              store.recoveryReport().orElseThrow().endsWith("; replayed 0 records to version 1"),
              store.recoveryReport().orElseThrow());
        }
        store.close().toCompletableFuture().join();
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().join();
      }
    }
  }
}
