package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
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
 * Random scripts of writes and reads through the store, against a reference model: one {@link
 * TreeMap} per version. Writes are sent without waiting (so they share group commits), some with
 * conditions that hold or fail; reads go through the latest snapshot at every version, and through
 * read transactions opened along the way.
 */
class StoreModelProperties {
  private static StoreTestKit kit;

  @BeforeContainer
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterContainer
  static void stop() {
    kit.shutdown();
  }

  /** One step of a script. */
  sealed interface Action permits Put, Delete, DeleteRange, PutIfValue, OpenTransaction {}

  record Put(String key, String value) implements Action {}

  record Delete(String key) implements Action {}

  record DeleteRange(String prefix) implements Action {}

  /** Puts {@code value} if {@code key} holds what the model says (or, if {@code stale}, not). */
  record PutIfValue(String key, String value, boolean stale) implements Action {}

  record OpenTransaction() implements Action {}

  @Provide
  Arbitrary<List<Action>> scripts() {
    Arbitrary<String> keys = Arbitraries.of("a/1", "a/2", "a/3", "b/1", "b/2", "c");
    Arbitrary<String> values = Arbitraries.strings().alpha().ofMaxLength(3);
    Arbitrary<Action> action =
        Arbitraries.frequencyOf(
            Tuple.of(5, Combinators.combine(keys, values).as(Put::new)),
            Tuple.of(2, keys.map(Delete::new)),
            Tuple.of(1, Arbitraries.of("a/", "b/", "").map(DeleteRange::new)),
            Tuple.of(
                2, Combinators.combine(keys, values, Arbitraries.of(true, false)).as(PutIfValue::new)),
            Tuple.of(1, Arbitraries.just(new OpenTransaction())));
    return action.list().ofMinSize(1).ofMaxSize(40);
  }

  @Property(tries = 40)
  void theStoreAgreesWithAMapPerVersion(@ForAll("scripts") List<Action> script) {
    ZVerseStore store = kit.open(kit.settings().withRetentionVersions(Long.MAX_VALUE));
    List<TreeMap<String, String>> model = new ArrayList<>();
    model.add(new TreeMap<>());
    Map<CompletionStage<Long>, Long> expected = new LinkedHashMap<>();
    List<CompletionStage<Long>> refused = new ArrayList<>();
    List<ReadTransaction> transactions = new ArrayList<>();

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
        // Wait for what was sent, so that the transaction's version is known to the model.
        expected.keySet().forEach(StoreTestKit::await);
        transactions.add(store.readTransaction());
        continue;
      }
      expected.put(store.write(batch), (long) model.size());
      model.add(next);
    }

    expected.forEach((stage, version) -> assertEquals(version, await(stage), "version of a write"));
    for (CompletionStage<Long> r : refused) {
      assertInstanceOf(ConditionFailedException.class, StoreTestKit.awaitFailure(r));
    }
    assertEquals(model.size() - 1, store.version());
    for (int v = 0; v < model.size(); v++) {
      assertEquals(model.get(v), contents(store, v), "the store at version " + v);
    }
    for (ReadTransaction tx : transactions) {
      assertEquals(model.get((int) tx.version()), contents(tx), "read transaction at " + tx.version());
      tx.close();
    }
    await(store.close());
  }

  private static TreeMap<String, String> contents(ZVerseStore store, long version) {
    TreeMap<String, String> m = new TreeMap<>();
    for (Entry e : store.snapshot().scan(KeyRange.all(), version)) {
      m.put(e.keyUtf8(), e.valueUtf8());
      assertEquals(e.valueUtf8(), store.get(e.keyUtf8(), version));
    }
    return m;
  }

  private static TreeMap<String, String> contents(ReadTransaction tx) {
    TreeMap<String, String> m = new TreeMap<>();
    for (Entry e : tx.scan(KeyRange.all())) {
      m.put(e.keyUtf8(), e.valueUtf8());
    }
    return m;
  }
}
