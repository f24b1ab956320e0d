package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.testkit.StringTwins;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The README promises UTF-8 {@code String} conveniences for the engine's reads: every public method
 * that takes a {@code byte[]} key has a twin taking a {@code String} in its place, every accessor
 * that returns {@code byte[]} has an {@code ...Utf8} twin, and each twin answers exactly as its
 * {@code byte[]} form does on the key's UTF-8 bytes (including the exception it throws).
 */
class StringTwinsProperties {
  /** The engine's public types with byte[] keys or values. */
  private static final List<Class<?>> TYPES =
      List.of(
          Snapshot.class,
          KeyRange.class,
          Entry.class,
          Change.class,
          CommitRecord.class,
          Condition.class,
          WriteBatch.class,
          WriteBatch.Builder.class);

  /**
   * Deliberately without a twin: a range's bounds are bytes, and {@code prefix("é")}'s end (its
   * successor) is not UTF-8 at all.
   */
  private static final Set<String> WITHOUT_TWIN = Set.of("KeyRange.start()", "KeyRange.end()");

  @Test
  void everyByteArrayMethodHasAStringTwin() {
    assertEquals(List.of(), StringTwins.missingTwins(TYPES, WITHOUT_TWIN));
  }

  /** Keys: empty, ASCII, accented, CJK, emoji (surrogate pairs), and any char at all. */
  @Provide
  Arbitrary<List<String>> keys() {
    Arbitrary<String> key =
        Arbitraries.oneOf(
            Arbitraries.just(""),
            Arbitraries.strings().ascii().ofMaxLength(4),
            Arbitraries.strings().withCharRange('à', 'ÿ').withChars('a', '/').ofMaxLength(4),
            Arbitraries.strings().withCharRange('\u4e00', '\u4e14').ofMaxLength(3),
            Arbitraries.of("😀", "a😀", "😀/😁", "\u0000", "\uFFFF"),
            Arbitraries.strings().all().ofMaxLength(3));
    return key.list().ofMinSize(1).ofMaxSize(8);
  }

  @Property(tries = 200)
  void snapshotAndKeyRangeTwinsAnswerAsTheirByteForms(
      @ForAll("keys") List<String> keys, @ForAll long seed) {
    Random random = new Random(seed);
    // Short keys are the limit here, so that a twin's refusal of a long key is compared too.
    Snapshot s = Snapshot.empty(Limits.defaults().withMaxKeyBytes(6));
    for (int i = 0; i < 12; i++) {
      String key = keys.get(random.nextInt(keys.size()));
      WriteBatch batch =
          random.nextInt(4) == 0 ? WriteBatch.ofDelete(key) : WriteBatch.ofPut(key, "v" + i + key);
      try {
        s = s.apply(batch);
      } catch (IllegalArgumentException tooLong) {
        // the key is over the limit: nothing was written
      }
      if (random.nextInt(6) == 0) {
        s = s.prune(random.nextLong(s.watermark(), s.version() + 1));
      }
    }
    List<Method> reads = new ArrayList<>(StringTwins.byteMethods(Snapshot.class));
    reads.addAll(StringTwins.byteMethods(KeyRange.class));
    assertFalse(reads.isEmpty());
    for (Method m : reads) {
      Object target = m.getDeclaringClass() == Snapshot.class ? s : KeyRange.prefix(keys.get(0));
      for (int call = 0; call < 4; call++) {
        StringTwins.assertTwinAgrees(target, m, arguments(m, keys, s, random));
      }
    }
  }

  /** Arguments for {@code m}'s twin: keys from {@code keys} or null, versions near {@code s}'s. */
  static Object[] arguments(Method m, List<String> keys, Snapshot s, Random random) {
    Class<?>[] types = m.getParameterTypes();
    Object[] args = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      if (types[i] == byte[].class) {
        args[i] = random.nextInt(20) == 0 ? null : keys.get(random.nextInt(keys.size()));
      } else if (types[i] == long.class) {
        args[i] = random.nextLong(-1, s.version() + 2);
      } else {
        throw new AssertionError("no arguments of " + types[i] + " for " + m);
      }
    }
    return args;
  }

  @Property(tries = 100)
  void accessorTwinsAnswerAsTheirByteForms(@ForAll("keys") List<String> keys, @ForAll long seed) {
    Random random = new Random(seed);
    Snapshot s = Snapshot.empty();
    for (int i = 0; i < 8; i++) {
      String key = keys.get(random.nextInt(keys.size()));
      s =
          s.apply(
              random.nextInt(3) == 0 ? WriteBatch.ofDelete(key) : WriteBatch.ofPut(key, key + i));
    }
    List<Object> values = new ArrayList<>(s.scan(KeyRange.all()));
    values.addAll(s.changes(KeyRange.all(), 0, s.version()));
    Iterator<CommitRecord> commits = s.commits(0, s.version(), KeyRange.all(), true);
    while (commits.hasNext()) {
      values.add(commits.next());
    }
    for (String key : keys) {
      values.add(Condition.absent(key));
      values.add(Condition.valueEquals(key, key + "!"));
    }
    int checked = 0;
    for (Object value : values) {
      for (Method m : value.getClass().getMethods()) {
        if (m.getReturnType() != byte[].class || Modifier.isStatic(m.getModifiers())) {
          continue;
        }
        if (m.getParameterCount() == 0) {
          StringTwins.assertTwinAgrees(value, m, new Object[0]);
          checked++;
        } else if (value instanceof CommitRecord r) {
          for (int i = -1; i <= r.size(); i++) {
            StringTwins.assertTwinAgrees(value, m, new Object[] {i});
            checked++;
          }
        } else {
          throw new AssertionError("no arguments for " + m);
        }
      }
    }
    assertTrue(checked > 0, "nothing checked");
  }
}
