package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
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

  sealed interface Action permits Put, Delete, DeleteRange, PutIfValue, Reopen {}

  record Put(String key, String value) implements Action {}

  record Delete(String key) implements Action {}

  record DeleteRange(String prefix) implements Action {}

  record PutIfValue(String key, String value, boolean stale) implements Action {}

  /** Close the store and open the directory again, first deleting the newest checkpoint if asked. */
  record Reopen(boolean dropNewestCheckpoint) implements Action {}

  @Provide
  Arbitrary<List<Action>> scripts() {
    Arbitrary<String> keys = Arbitraries.of(KEYS);
    Arbitrary<String> values = Arbitraries.strings().alpha().ofMaxLength(3);
    Arbitrary<Action> action =
        Arbitraries.frequencyOf(
            Tuple.of(6, Combinators.combine(keys, values).as(Put::new)),
            Tuple.of(2, keys.map(Delete::new)),
            Tuple.of(1, Arbitraries.of("a/", "b/", "").map(DeleteRange::new)),
            Tuple.of(2, Combinators.combine(keys, values, Arbitraries.of(true, false)).as(PutIfValue::new)),
            Tuple.of(2, Arbitraries.of(true, false).map(Reopen::new)));
    return action.list().ofMinSize(1).ofMaxSize(50);
  }

  @Property(tries = 30)
  void aReopenedStoreAnswersLikeTheModelAtEveryVersion(
      @ForAll("scripts") List<Action> script, @ForAll SyncPolicy sync,
      @ForAll boolean smallCheckpoints,
      @ForAll boolean smallGroups)
      throws IOException {
    Path dir = Files.createTempDirectory("zverse-model");
    StoreSettings settings =
        kit.settings()
            .withDataDirectory(dir)
            .withRetentionVersions(Long.MAX_VALUE)
            .withSync(sync)
            .withSegmentBytes(4096)
            .withCheckpointEveryVersions(smallCheckpoints ? 3 : 0)
            // Groups of 2 fill up while one is in the log: several sealed groups queue behind it.
            .withMaxGroupWrites(smallGroups ? 2 : 1000);
    try {
      run(script, settings, dir);
    } finally {
      deleteRecursively(dir);
    }
  }

  private static void run(List<Action> script, StoreSettings settings, Path dir) throws IOException {
    ZVerseStore store = kit.open(settings);
    List<TreeMap<String, String>> model = new ArrayList<>();
    model.add(new TreeMap<>());
    Map<CompletionStage<Long>, Long> expected = new LinkedHashMap<>();
    List<CompletionStage<Long>> refused = new ArrayList<>();

    for (Action a : script) {
      TreeMap<String, String> last = model.get(model.size() - 1);
      TreeMap<String, String> next = new TreeMap<>(last);
      WriteBatch batch;
      if (a instanceof Put p) {
        batch = WriteBatch.ofPut(p.key(), p.value());
        next.put(p.key(), p.value());
      } else if (a instanceof Delete d) {
        batch = WriteBatch.ofDelete(d.key());
        next.remove(d.key());
      } else if (a instanceof DeleteRange r) {
        batch = WriteBatch.builder().deleteRange(KeyRange.prefix(r.prefix())).build();
        next.keySet().removeIf(k -> k.startsWith(r.prefix()));
      } else if (a instanceof PutIfValue c) {
        String current = last.get(c.key());
        String required = c.stale() ? (current == null ? "" : current + "!") : current;
        WriteBatch.Builder b = WriteBatch.builder();
        if (required == null) {
          b.requireAbsent(c.key());
        } else {
          b.requireValue(c.key(), required);
        }
        batch = b.put(c.key(), c.value()).build();
        if (c.stale()) {
          refused.add(store.write(batch));
          continue;
        }
        next.put(c.key(), c.value());
      } else {
        settle(expected, refused);
        Snapshot before = store.snapshot();
        await(store.close());
        if (((Reopen) a).dropNewestCheckpoint()) {
          List<String> checkpoints = DurableStoreTest.files(dir, "checkpoint-");
          if (!checkpoints.isEmpty()) {
            Files.delete(dir.resolve(checkpoints.get(checkpoints.size() - 1)));
          }
        }
        store = kit.open(settings);
        check(model, before, store.snapshot());
        continue;
      }
      expected.put(store.write(batch), (long) model.size());
      model.add(next);
    }
    settle(expected, refused);
    Snapshot before = store.snapshot();
    await(store.close());
    store = kit.open(settings);
    check(model, before, store.snapshot());
    assertEquals(model.size(), await(store.put("after", "x")), "versions continue after a reopen");
    await(store.close());
  }

  private static void settle(Map<CompletionStage<Long>, Long> expected, List<CompletionStage<Long>> refused) {
    expected.forEach((stage, version) -> assertEquals(version, await(stage), "version of a write"));
    expected.clear();
    for (CompletionStage<Long> r : refused) {
      assertInstanceOf(ConditionFailedException.class, StoreTestKit.awaitFailure(r));
    }
    refused.clear();
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
        assertEquals(before.entry(k.getBytes(java.nio.charset.StandardCharsets.UTF_8), v),
            got.entry(k.getBytes(java.nio.charset.StandardCharsets.UTF_8), v), "entry " + k + " at version " + v);
      }
    }
    for (String k : KEYS) {
      assertEquals(before.history(k, 0, before.version()), got.history(k, 0, got.version()), "history of " + k);
    }
    assertEquals(
        before.changes(KeyRange.prefix("a/"), 0, before.version()),
        got.changes(KeyRange.prefix("a/"), 0, got.version()),
        "changes under a/");
    DurableStoreTest.assertSameHistory(before, got);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
