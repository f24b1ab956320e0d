package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
    List<String> missing = new ArrayList<>();
    for (Class<?> type : TYPES) {
      for (Method m : type.getDeclaredMethods()) {
        boolean takesBytes = Arrays.asList(m.getParameterTypes()).contains(byte[].class);
        if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic()
            || !(takesBytes || m.getReturnType() == byte[].class)) {
          continue;
        }
        Method twin = twin(m);
        if (twin == null || twin.getReturnType()
            != (m.getReturnType() == byte[].class ? String.class : m.getReturnType())) {
          missing.add(type.getSimpleName() + "." + m.getName()
              + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName).toList());
        }
      }
    }
    assertEquals(List.of(), missing);
  }

  /**
   * The String twin of {@code m}: for a method taking {@code byte[]}, the one of the same name with
   * {@code String} in their place; for one returning {@code byte[]}, {@code nameUtf8}.
   */
  private static Method twin(Method m) {
    Class<?>[] types = m.getParameterTypes();
    boolean takesBytes = Arrays.asList(types).contains(byte[].class);
    Class<?>[] twinTypes = types.clone();
    for (int i = 0; i < twinTypes.length; i++) {
      if (twinTypes[i] == byte[].class) {
        twinTypes[i] = String.class;
      }
    }
    try {
      String name = takesBytes ? m.getName() : m.getName() + "Utf8";
      return m.getDeclaringClass().getMethod(name, twinTypes);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  /** Keys: empty, ASCII, accented, CJK, emoji (surrogate pairs), and any char at all. */
  @Provide
  Arbitrary<List<String>> keys() {
    Arbitrary<String> key =
        Arbitraries.oneOf(
            Arbitraries.just(""),
            Arbitraries.strings().ascii().ofMaxLength(4),
            Arbitraries.strings().withCharRange('\u00e0', '\u00ff').withChars('a', '/')
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
            type == ZVerseStore.class ? store
                : type == AdvancedOperations.class ? store.advanced()
                : type == Snapshot.class ? tx.snapshot()
                : tx;
        for (Method m : type.getDeclaredMethods()) {
          if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic()
              || WRITES.contains(m.getName())
              || !Arrays.asList(m.getParameterTypes()).contains(byte[].class)) {
            continue;
          }
          for (int call = 0; call < 4; call++) {
            assertTwinAgrees(target, m, arguments(m, keys, tx.version(), random));
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

  /**
   * Calls {@code m} and its twin on {@code target} with the same arguments, the twin's strings
   * given to {@code m} as UTF-8 bytes, and checks that both return the same (a {@code byte[]}
   * decoded as UTF-8) or throw the same exception with the same message.
   */
  private static void assertTwinAgrees(Object target, Method m, Object[] twinArgs) {
    Object[] args = twinArgs.clone();
    Class<?>[] types = m.getParameterTypes();
    for (int i = 0; i < args.length; i++) {
      if (types[i] == byte[].class && args[i] != null) {
        args[i] = ((String) args[i]).getBytes(StandardCharsets.UTF_8);
      }
    }
    Method twin = twin(m);
    assertFalse(twin == null, () -> m + " has no String twin");
    assertEquals(outcome(target, m, args), outcome(target, twin, twinArgs),
        () -> m + " and its twin on " + Arrays.toString(twinArgs));
  }

  /** What a call returned (a byte[] as its UTF-8 string), or its exception's class and message. */
  private static Object outcome(Object target, Method m, Object[] args) {
    try {
      Object result = m.invoke(target, args);
      return result instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : result;
    } catch (InvocationTargetException e) {
      return e.getCause().getClass().getName() + ": " + e.getCause().getMessage();
    } catch (IllegalAccessException e) {
      throw new AssertionError(e);
    }
  }
}
