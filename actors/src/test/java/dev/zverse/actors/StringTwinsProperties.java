package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.testkit.StringTwins;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.junit.jupiter.api.Test;

/**
 * The README promises UTF-8 {@code String} conveniences for the store's reads: every public method
 * of {@link ZVerseStore}, {@link ReadTransaction}, {@link AdvancedOperations} and the {@link
 * Snapshot} a transaction hands out that takes a {@code byte[]} key has a twin taking a {@code
 * String} in its place, and each read twin answers exactly as its {@code byte[]} form does on the
 * key's UTF-8 bytes (including the exception it throws). The engine's types have the same test
 * ({@code dev.zverse.engine.StringTwinsProperties}), on pruned snapshots too.
 */
class StringTwinsProperties {
  private static final List<Class<?>> TYPES =
      List.of(ZVerseStore.class, ReadTransaction.class, AdvancedOperations.class, Snapshot.class);

  /** Writes: twins too, but calling both forms would write twice; the store tests cover them. */
  private static final Set<String> WRITES = Set.of("put", "delete");

  private static final int MAX_KEY_BYTES = 6;

  private static StoreTestKit kit;
  private static ZVerseStore store;

  @BeforeContainer
  static void start() {
    kit = StoreTestKit.create();
    // Short keys are the limit here, so that a twin's refusal of a long key is compared too.
    // Nothing is pruned while the property runs (fewer versions than retained), so that no read
    // races a moving watermark; the engine's twins are compared on pruned snapshots.
    store = kit.open(kit.settings().withMaxKeyBytes(MAX_KEY_BYTES));
  }

  @AfterContainer
  static void stop() {
    await(store.close());
    kit.shutdown();
  }

  @Test
  void everyByteArrayMethodHasAStringTwin() {
    assertEquals(List.of(), StringTwins.missingTwins(TYPES, Set.of()));
  }

  /** Keys: empty, ASCII, accented, CJK, emoji (surrogate pairs), and any char at all. */
  @Provide
  Arbitrary<List<String>> keys() {
    Arbitrary<String> key =
        Arbitraries.oneOf(
            Arbitraries.just(""),
            Arbitraries.strings().ascii().ofMaxLength(4),
            Arbitraries.strings()
                .withCharRange('\u00e0', '\u00ff')
                .withChars('a', '/')
                .ofMaxLength(4),
            Arbitraries.strings().withCharRange('\u4e00', '\u4e14').ofMaxLength(3),
            Arbitraries.of("\ud83d\ude00", "a\ud83d\ude00", "\u0000", "\uffff"),
            Arbitraries.strings().all().ofMaxLength(3));
    return key.list().ofMinSize(1).ofMaxSize(8);
  }

  @Property(tries = 60)
  void storeAndTransactionTwinsAnswerAsTheirByteForms(
      @ForAll("keys") List<String> keys, @ForAll long seed) {
    Random random = new Random(seed);
    for (int i = 0; i < 6; i++) {
      String key = keys.get(random.nextInt(keys.size()));
      WriteBatch batch =
          random.nextInt(4) == 0 ? WriteBatch.ofDelete(key) : WriteBatch.ofPut(key, "v" + i + key);
      if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
        assertInstanceOf(IllegalArgumentException.class, awaitFailure(store.write(batch)));
      } else {
        await(store.write(batch));
      }
    }
    try (ReadTransaction tx = store.readTransaction()) {
      int checked = 0;
      for (Class<?> type : TYPES) {
        Object target =
            type == ZVerseStore.class
                ? store
                : type == AdvancedOperations.class
                    ? store.advanced()
                    : type == Snapshot.class ? tx.snapshot() : tx;
        for (Method m : StringTwins.byteMethods(type)) {
          if (WRITES.contains(m.getName())) {
            continue;
          }
          for (int call = 0; call < 4; call++) {
            StringTwins.assertTwinAgrees(target, m, arguments(m, keys, tx.version(), random));
            checked++;
          }
        }
      }
      assertFalse(checked == 0, "no read was checked");
    }
  }

  /** Arguments for the twin of {@code m}: keys from {@code keys} or null, versions up to latest. */
  private static Object[] arguments(Method m, List<String> keys, long latest, Random random) {
    Class<?>[] types = m.getParameterTypes();
    Object[] args = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      if (types[i] == byte[].class) {
        args[i] = random.nextInt(20) == 0 ? null : keys.get(random.nextInt(keys.size()));
      } else if (types[i] == long.class) {
        args[i] = random.nextLong(-1, latest + 2);
      } else {
        throw new AssertionError("no arguments of " + types[i] + " for " + m);
      }
    }
    return args;
  }
}
