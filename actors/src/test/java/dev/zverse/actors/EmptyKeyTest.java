package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Change;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.WriteBatch;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README says that the empty key is a key like any other (the smallest of all), and that a
 * missing key reads as {@code null}: through a store, and through a durable store's recovery (the
 * engine's {@code EmptyKeyDurabilityTest} replays it from the log alone).
 */
class EmptyKeyTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static List<String> keys(List<Entry> entries) {
    return entries.stream().map(Entry::keyUtf8).toList();
  }

  @Test
  void theEmptyKeyIsReadWrittenAndScannedFirst() {
    ZVerseStore store = kit.open(kit.settings());
    assertNull(store.get(""), "a missing key reads as null");
    assertNull(store.snapshot().entry(""));
    long v1 = await(store.put("", "root"));
    await(store.put("a", "1"));
    assertEquals("root", store.get(""));
    assertEquals("root", store.snapshot().get("", v1));
    assertEquals(List.of("", "a"), keys(store.snapshot().scan(KeyRange.all())), "the smallest key");
    assertEquals(List.of(""), keys(store.snapshot().scan(KeyRange.singleton(""))));
    assertEquals(List.of(""), keys(store.snapshot().scan(KeyRange.atMost(""))));
    assertEquals(List.of("a"), keys(store.snapshot().scan(KeyRange.greaterThan(""))));
    long v3 = await(store.write(WriteBatch.builder().requireValue("", "root").delete("").build()));
    assertNull(store.get(""));
    assertEquals(
        List.of(v1, v3), store.snapshot().history("").stream().map(Change::version).toList());
    await(store.close());
  }

  @Test
  void theEmptyKeyIsRecoveredByADurableStore(@TempDir Path dir) {
    StoreSettings durable =
        kit.settings().withDataDirectory(dir).withRetentionVersions(Long.MAX_VALUE);
    ZVerseStore store = kit.open(durable);
    await(store.put("", "first"));
    await(store.close()); // a final checkpoint holding the empty key
    store = kit.open(durable);
    await(store.put("", "second"));
    assertEquals("first", store.snapshot().get("", 1));
    await(store.close());

    ZVerseStore reopened = kit.open(durable);
    assertEquals("second", reopened.get(""));
    assertEquals("first", reopened.snapshot().get("", 1));
    assertTrue(reopened.recoveryReport().isPresent());
    await(reopened.close());
  }
}
