package dev.zverse.engine.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Reflection over the README's UTF-8 promise, shared by the engine's and the store's {@code
 * StringTwinsProperties}: every public method that takes a {@code byte[]} key has a twin taking a
 * {@code String} in its place, every accessor that returns {@code byte[]} has an {@code ...Utf8}
 * twin, and each twin answers exactly as its {@code byte[]} form on the key's UTF-8 bytes.
 *
 * <p>Stateless; safe from any thread.
 */
public final class StringTwins {
  private StringTwins() {}

  /**
   * The public methods of {@code types} that lack a twin, by name and parameter types: a method
   * with {@code byte[]} parameters lacks the public method of the same name, staticness and
   * parameters with {@code String} in their place (returning {@code String} where it returns {@code
   * byte[]}); another returning {@code byte[]} lacks {@code nameUtf8} with the same parameters.
   *
   * @param types the types whose declared methods are checked
   * @param exceptions methods deliberately without a twin, as {@code Type.name(ParamType, ...)}
   * @return the methods without a twin, as {@code Type.name(ParamType, ...)}; empty if none
   */
  public static List<String> missingTwins(List<Class<?>> types, Set<String> exceptions) {
    List<String> missing = new ArrayList<>();
    for (Class<?> type : types) {
      for (Method m : type.getDeclaredMethods()) {
        if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic()) {
          continue;
        }
        boolean takesBytes = Arrays.asList(m.getParameterTypes()).contains(byte[].class);
        if (!takesBytes && m.getReturnType() != byte[].class) {
          continue;
        }
        String name =
            type.getSimpleName()
                + "."
                + m.getName()
                + "("
                + String.join(
                    ", ", Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName).toList())
                + ")";
        Method twin = twin(m);
        boolean ok =
            twin != null
                && Modifier.isPublic(twin.getModifiers())
                && Modifier.isStatic(twin.getModifiers()) == Modifier.isStatic(m.getModifiers())
                && twin.getReturnType()
                    == (m.getReturnType() == byte[].class ? String.class : m.getReturnType());
        if (!ok && !exceptions.contains(name)) {
          missing.add(name);
        }
      }
    }
    return missing;
  }

  /**
   * The String twin of {@code m} (see {@link #missingTwins}).
   *
   * @param m a public method that takes or returns {@code byte[]}
   * @return the twin, or null if there is none
   */
  public static Method twin(Method m) {
    Class<?>[] types = m.getParameterTypes();
    boolean takesBytes = Arrays.asList(types).contains(byte[].class);
    String name = takesBytes ? m.getName() : m.getName() + "Utf8";
    Class<?>[] twinTypes = types.clone();
    for (int i = 0; i < twinTypes.length; i++) {
      if (twinTypes[i] == byte[].class) {
        twinTypes[i] = String.class;
      }
    }
    try {
      return m.getDeclaringClass().getMethod(name, twinTypes);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  /**
   * The public methods {@code type} declares that take a {@code byte[]}, in a fixed order (by their
   * signature), so that a seeded test calls them in the same order on every run.
   *
   * @param type the type to list
   * @return its public non-synthetic methods with a {@code byte[]} parameter
   */
  public static List<Method> byteMethods(Class<?> type) {
    List<Method> methods = new ArrayList<>();
    for (Method m : type.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers())
          && !m.isSynthetic()
          && Arrays.asList(m.getParameterTypes()).contains(byte[].class)) {
        methods.add(m);
      }
    }
    methods.sort((a, b) -> a.toString().compareTo(b.toString()));
    return methods;
  }

  /**
   * Calls {@code m} and its twin on {@code target} with the same arguments, the twin's strings
   * given to {@code m} as UTF-8 bytes, and checks that both return the same (a {@code byte[]}
   * decoded as UTF-8) or throw the same exception with the same message.
   *
   * @param target the receiver of both calls; null for static methods
   * @param m the {@code byte[]} form
   * @param twinArgs the twin's arguments, strings (or null) where {@code m} takes {@code byte[]}
   * @throws AssertionError if {@code m} has no twin or the two answer differently
   */
  public static void assertTwinAgrees(Object target, Method m, Object[] twinArgs) {
    Object[] args = twinArgs.clone();
    Class<?>[] types = m.getParameterTypes();
    for (int i = 0; i < args.length; i++) {
      if (types[i] == byte[].class && args[i] != null) {
        args[i] = ((String) args[i]).getBytes(StandardCharsets.UTF_8);
      }
    }
    Method twin = twin(m);
    assertFalse(twin == null, () -> m + " has no String twin");
    assertEquals(
        outcome(target, m, args),
        outcome(target, twin, twinArgs),
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
