package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.zverse.actors.ModelWrites.Step;
import dev.zverse.actors.ModelWrites.Write;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random scripts of writes through a durable store, interrupted by closes and reopens of the same
 * directory, against a reference model (one {@link TreeMap} per version): after every reopen the
 * recovered store answers every kind of read at every version like the model, and like the snapshot
 * published before the close (history, changes, entries, commit times). A reopen may first delete
 * the newest checkpoint, so that recovery replays the log from an older checkpoint or from nothing.
 */
class DurableStoreModelProperties {
  private static final List<String> KEYS = List.of("a/1", "a/2", "a/3", "b/1", "b/2", "c");
  private static StoreTestKit kit;

  @BeforeContainer
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterContainer
  static void stop() {
    kit.shutdown();
  }

  /**
   * Close the store and open the directory again, first deleting the newest checkpoint if asked.
   */
  record Reopen(boolean dropNewestCheckpoint) implements Step {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<String> keys = Arbitraries.of(KEYS);
    Arbitrary<String> values = Arbitraries.strings().alpha().ofMaxLength(3);
    Arbitrary<Step> action =
        Arbitraries.frequencyOf(
            Tuple.of(11, ModelWrites.writes(keys, values, 6)),
            Tuple.of(2, Arbitraries.of(true, false).map(Reopen::new)));
    return action.list().ofMinSize(1).ofMaxSize(50);
  }

  @Property(tries = 30)
  void aReopenedStoreAnswersLikeTheModelAtEveryVersion(
      @ForAll("scripts") List<Step> script,
      @ForAll SyncPolicy sync,
      @ForAll boolean smallCheckpoints,
      @ForAll boolean smallGroups)
      throws IOException {
    Path dir = Files.createTempDirectory("zverse-model");
    StoreSettings settings =
        kit.settings()
            .withDataDirectory(dir)
            .withRetentionVersions(Long.MAX_VALUE)
            .withDurability(
                d ->
                    d.withSync(sync)
                        .withSegmentBytes(4096)
                        .withCheckpointEveryVersions(smallCheckpoints ? 3 : 0))
            // Groups of 2 fill up while one is in the log: several sealed groups queue behind it.
            .withMaxGroupWrites(smallGroups ? 2 : 1000);
    try {
      run(script, settings, dir);
    } finally {
      deleteRecursively(dir);
    }
  }

  private static void run(List<Step> script, StoreSettings settings, Path dir) throws IOException {
    ZVerseStore store = kit.open(settings);
    ModelWrites.Run run = new ModelWrites.Run();
    for (Step a : script) {
      if (a instanceof Write w) {
        run.send(store, w);
      } else {
        run.settle();
        Snapshot before = store.snapshot();
        await(store.close());
        if (((Reopen) a).dropNewestCheckpoint()) {
          List<String> checkpoints = DurableStoreTest.files(dir, "checkpoint-");
          if (!checkpoints.isEmpty()) {
            Files.delete(dir.resolve(checkpoints.get(checkpoints.size() - 1)));
          }
        }
        store = kit.open(settings);
        check(run.model, before, store.snapshot());
      }
    }
    run.settle();
    Snapshot before = store.snapshot();
    await(store.close());
    store = kit.open(settings);
    check(run.model, before, store.snapshot());
    assertEquals(
        run.model.size(), await(store.put("after", "x")), "versions continue after a reopen");
    await(store.close());
  }

  /** Every read of the recovered snapshot at every version against the model and the one before. */
  private static void check(List<TreeMap<String, String>> model, Snapshot before, Snapshot got) {
    assertEquals(model.size() - 1, got.version(), "recovered version");
    for (int v = 0; v < model.size(); v++) {
      TreeMap<String, String> want = model.get(v);
      TreeMap<String, String> scanned = new TreeMap<>();
      for (Entry e : got.scan(KeyRange.all(), v)) {
        scanned.put(e.keyUtf8(), e.valueUtf8());
      }
      assertEquals(want, scanned, "scan at version " + v);
      List<String> reverse = new ArrayList<>();
      for (Entry e : got.scan(KeyRange.prefix("a/"), v, Direction.REVERSE, 2)) {
        reverse.add(e.keyUtf8());
      }
      assertEquals(
          want.descendingKeySet().stream().filter(k -> k.startsWith("a/")).limit(2).toList(),
          reverse,
          "reverse scan of a/ at version " + v);
      assertEquals(want.size(), got.count(KeyRange.all(), v), "count at version " + v);
      for (String k : KEYS) {
        assertEquals(want.get(k), got.get(k, v), "get " + k + " at version " + v);
        assertEquals(
            before.entry(k.getBytes(StandardCharsets.UTF_8), v),
            got.entry(k.getBytes(StandardCharsets.UTF_8), v),
            "entry " + k + " at version " + v);
      }
    }
    for (String k : KEYS) {
      assertEquals(
          before.history(k, 0, before.version()),
          got.history(k, 0, got.version()),
          "history of " + k);
    }
    assertEquals(
        before.changes(KeyRange.prefix("a/"), 0, before.version()),
        got.changes(KeyRange.prefix("a/"), 0, got.version()),
        "changes under a/");
    DurableStoreTest.assertSameHistory(before, got);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }
}
