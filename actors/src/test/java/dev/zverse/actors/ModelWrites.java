package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.zverse.engine.ConditionFailedException;
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
import net.jqwik.api.Tuple;

/**
 * The write steps of the store's model-based properties ({@link StoreModelProperties}, {@link
 * DurableStoreModelProperties}): how they are drawn, the batch each sends, and what it does to the
 * reference model (one {@link TreeMap} per version).
 */
final class ModelWrites {
  private ModelWrites() {}

  /** One step of a script: a {@link Write}, or a step of the property's own. */
  interface Step {}

  /** A step that sends one write batch. */
  sealed interface Write extends Step permits Put, Delete, DeleteRange, PutIfValue {}

  record Put(String key, String value) implements Write {}

  record Delete(String key) implements Write {}

  record DeleteRange(String prefix) implements Write {}

  /** Puts {@code value} if {@code key} holds what the model says (or, if {@code stale}, not). */
  record PutIfValue(String key, String value, boolean stale) implements Write {}

  /**
   * Writes over {@code keys} and {@code values}: puts with weight {@code putWeight}, deletes 2,
   * range deletes of the prefixes "a/", "b/" and "" 1, conditional puts 2 (half of them stale).
   */
  static Arbitrary<Write> writes(Arbitrary<String> keys, Arbitrary<String> values, int putWeight) {
    return Arbitraries.frequencyOf(
        Tuple.of(putWeight, Combinators.combine(keys, values).as(Put::new)),
        Tuple.of(2, keys.map(Delete::new)),
        Tuple.of(1, Arbitraries.of("a/", "b/", "").map(DeleteRange::new)),
        Tuple.of(
            2, Combinators.combine(keys, values, Arbitraries.of(true, false)).as(PutIfValue::new)));
  }

  /** Whether the store must refuse {@code w}: a conditional put whose condition is stale. */
  static boolean refused(Write w) {
    return w instanceof PutIfValue c && c.stale();
  }

  /**
   * The batch that {@code w} sends, given the model's latest version {@code last}; applies to
   * {@code next} (a copy of {@code last}) what the batch changes, unless it is {@link #refused}.
   */
  static WriteBatch batch(Write w, TreeMap<String, String> last, TreeMap<String, String> next) {
    if (w instanceof Put p) {
      next.put(p.key(), p.value());
      return WriteBatch.ofPut(p.key(), p.value());
    }
    if (w instanceof Delete d) {
      next.remove(d.key());
      return WriteBatch.ofDelete(d.key());
    }
    if (w instanceof DeleteRange r) {
      next.keySet().removeIf(k -> k.startsWith(r.prefix()));
      return WriteBatch.builder().deleteRange(KeyRange.prefix(r.prefix())).build();
    }
    PutIfValue c = (PutIfValue) w;
    String current = last.get(c.key());
    String required = c.stale() ? (current == null ? "" : current + "!") : current;
    WriteBatch.Builder b = WriteBatch.builder();
    if (required == null) {
      b.requireAbsent(c.key());
    } else {
      b.requireValue(c.key(), required);
    }
    if (!c.stale()) {
      next.put(c.key(), c.value());
    }
    return b.put(c.key(), c.value()).build();
  }

  /** A script's reference model and the writes it sent, with what each must be answered. */
  static final class Run {
    /** The store's contents at each version, from version 0. */
    final List<TreeMap<String, String>> model = new ArrayList<>(List.of(new TreeMap<>()));

    /** Each write sent that must commit, with its version. */
    final Map<CompletionStage<Long>, Long> expected = new LinkedHashMap<>();

    /** Each write sent that must be refused. */
    final List<CompletionStage<Long>> refused = new ArrayList<>();

    /** Sends {@code w} to {@code store} without waiting, and applies it to the model. */
    void send(ZVerseStore store, Write w) {
      TreeMap<String, String> last = model.get(model.size() - 1);
      TreeMap<String, String> next = new TreeMap<>(last);
      WriteBatch batch = batch(w, last, next);
      if (refused(w)) {
        refused.add(store.write(batch));
      } else {
        expected.put(store.write(batch), (long) model.size());
        model.add(next);
      }
    }

    /**
     * Waits for every write sent: each committed at its version, each refused with its condition.
     */
    void settle() {
      expected.forEach(
          (stage, version) -> assertEquals(version, await(stage), "version of a write"));
      expected.clear();
      for (CompletionStage<Long> r : refused) {
        assertInstanceOf(ConditionFailedException.class, StoreTestKit.awaitFailure(r));
      }
      refused.clear();
    }
  }
}
