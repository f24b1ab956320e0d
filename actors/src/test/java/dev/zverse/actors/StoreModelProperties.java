package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.zverse.actors.ModelWrites.Step;
import dev.zverse.actors.ModelWrites.Write;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
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

  /** Opens a read transaction at the version written so far. */
  record OpenTransaction() implements Step {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<String> keys = Arbitraries.of("a/1", "a/2", "a/3", "b/1", "b/2", "c");
    Arbitrary<String> values = Arbitraries.strings().alpha().ofMaxLength(3);
    Arbitrary<Step> action =
        Arbitraries.frequencyOf(
            Tuple.of(10, ModelWrites.writes(keys, values, 5)),
            Tuple.of(1, Arbitraries.just(new OpenTransaction())));
    return action.list().ofMinSize(1).ofMaxSize(40);
  }

  @Property(tries = 40)
  void theStoreAgreesWithAMapPerVersion(
      @ForAll("scripts") List<Step> script, @ForAll boolean callerRuns) {
    ZVerseStore store =
        kit.open(kit.settings().withRetentionVersions(Long.MAX_VALUE).withCallerRuns(callerRuns));
    ModelWrites.Run run = new ModelWrites.Run();
    List<ReadTransaction> transactions = new ArrayList<>();

    for (Step a : script) {
      if (a instanceof Write w) {
        run.send(store, w);
      } else {
        // Wait for what was sent, so that the transaction's version is known to the model.
        run.expected.keySet().forEach(StoreTestKit::await);
        transactions.add(store.readTransaction());
      }
    }

    run.settle();
    List<TreeMap<String, String>> model = run.model;
    assertEquals(model.size() - 1, store.version());
    for (int v = 0; v < model.size(); v++) {
      assertEquals(model.get(v), contents(store, v), "the store at version " + v);
    }
    for (ReadTransaction tx : transactions) {
      assertEquals(
          model.get((int) tx.version()), contents(tx), "read transaction at " + tx.version());
      tx.close();
    }
    await(store.close());
  }

  private static TreeMap<String, String> contents(ZVerseStore store, long version) {
    TreeMap<String, String> m = new TreeMap<>();
    for (Entry e : store.snapshot().scan(KeyRange.all(), version)) {
      m.put(e.keyUtf8(), e.valueUtf8());
      assertEquals(e.valueUtf8(), store.snapshot().get(e.keyUtf8(), version));
    }
    return m;
  }

  private static TreeMap<String, String> contents(ReadTransaction tx) {
    TreeMap<String, String> m = new TreeMap<>();
    for (Entry e : tx.snapshot().scan(KeyRange.all())) {
      m.put(e.keyUtf8(), e.valueUtf8());
    }
    return m;
  }
}
