package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * {@link Snapshot} is the one read type, so its reads are symmetric: every read at a chosen version
 * ({@code get(key, atVersion)}, {@code scan(range, atVersion, ...)}, {@code count}, {@code
 * iterator}, {@code entry}) has a twin without the version that reads at {@link
 * Snapshot#version()}, and the two answer alike (the same value or the same exception).
 */
class LatestReadsProperties {
  /** Reads whose version arguments are a window or a commit, not the version read at. */
  private static final Set<String> WINDOWS =
      Set.of("history", "changes", "plan", "commit", "commits", "commitTime", "prune");

  @Test
  void everyReadAtAVersionHasATwinAtTheLatest() {
    List<String> missing = new ArrayList<>();
    for (Method m : versionedReads()) {
      if (latestTwin(m) == null) {
        missing.add(
            m.getName() + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName).toList());
      }
    }
    assertEquals(List.of(), missing);
  }

  @Property(tries = 100)
  void latestTwinsAnswerAsReadsAtTheVersion(@ForAll long seed) {
    Random random = new Random(seed);
    String[] keys = {"", "a", "a/b", "b", "é", "zz"};
    Snapshot s = Snapshot.empty();
    for (int i = 0, n = random.nextInt(12); i < n; i++) {
      String key = keys[random.nextInt(keys.length)];
      s =
          s.apply(
              random.nextInt(4) == 0 ? WriteBatch.ofDelete(key) : WriteBatch.ofPut(key, "v" + i));
    }
    int checked = 0;
    for (Method m : versionedReads()) {
      Method twin = latestTwin(m);
      for (int call = 0; call < 3; call++) {
        Object[] twinArgs = arguments(twin, keys, random);
        Object[] args = new Object[twinArgs.length + 1];
        int at = versionIndex(m);
        for (int i = 0, j = 0; i < args.length; i++) {
          args[i] = i == at ? s.version() : twinArgs[j++];
        }
        assertEquals(
            outcome(s, m, args),
            outcome(s, twin, twinArgs),
            () -> m + " and " + twin + " on " + Arrays.toString(twinArgs));
        checked++;
      }
    }
    assertTrue(checked > 0, "nothing checked");
  }

  /** The public reads of Snapshot with exactly one {@code long} argument, the version read at. */
  private static List<Method> versionedReads() {
    List<Method> reads = new ArrayList<>();
    for (Method m : Snapshot.class.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers())
          && !Modifier.isStatic(m.getModifiers())
          && !m.isSynthetic()
          && !WINDOWS.contains(m.getName())
          && versionIndex(m) >= 0
          && Arrays.stream(m.getParameterTypes()).filter(t -> t == long.class).count() == 1) {
        reads.add(m);
      }
    }
    reads.sort((a, b) -> a.toString().compareTo(b.toString()));
    assertTrue(reads.size() >= 6, () -> "too few reads found: " + reads);
    return reads;
  }

  private static int versionIndex(Method m) {
    return Arrays.asList(m.getParameterTypes()).indexOf(long.class);
  }

  /** {@code m} without its version argument, or null if Snapshot has no such method. */
  private static Method latestTwin(Method m) {
    List<Class<?>> types = new ArrayList<>(Arrays.asList(m.getParameterTypes()));
    types.remove(long.class);
    try {
      return Snapshot.class.getMethod(m.getName(), types.toArray(Class<?>[]::new));
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  private static Object[] arguments(Method m, String[] keys, Random random) {
    Class<?>[] types = m.getParameterTypes();
    Object[] args = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      String key = keys[random.nextInt(keys.length)];
      if (types[i] == byte[].class) {
        args[i] = key.getBytes(StandardCharsets.UTF_8);
      } else if (types[i] == String.class) {
        args[i] = key;
      } else if (types[i] == KeyRange.class) {
        args[i] = random.nextBoolean() ? KeyRange.all() : KeyRange.prefix(key);
      } else if (types[i] == Direction.class) {
        args[i] = Direction.values()[random.nextInt(2)];
      } else if (types[i] == int.class) {
        args[i] = random.nextInt(-1, 5);
      } else {
        throw new AssertionError("no arguments of " + types[i] + " for " + m);
      }
    }
    return args;
  }

  /** What a call returned (arrays and iterators as lists), or its exception and message. */
  private static Object outcome(Object target, Method m, Object[] args) {
    try {
      Object result = m.invoke(target, args);
      if (result instanceof byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
      }
      if (result instanceof Iterator<?> it) {
        List<Object> all = new ArrayList<>();
        it.forEachRemaining(all::add);
        return all;
      }
      return result;
    } catch (InvocationTargetException e) {
      return e.getCause().getClass().getName() + ": " + e.getCause().getMessage();
    } catch (IllegalAccessException e) {
      throw new AssertionError(e);
    }
  }
}
