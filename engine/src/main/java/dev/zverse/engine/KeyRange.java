package dev.zverse.engine;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A contiguous range of keys in unsigned lexicographic order, each end inclusive, exclusive or
 * unbounded.
 *
 * <p>Immutable: factories copy the arrays they are given, and accessors return copies. A range
 * whose start lies after its end is refused; a range with equal ends and an exclusive one is empty.
 */
public final class KeyRange {
  private static final KeyRange ALL = new KeyRange(null, false, null, false);

  /** Start key, or {@code null} when unbounded below. Never handed out. */
  final byte @Nullable [] start;

  final boolean startInclusive;

  /** End key, or {@code null} when unbounded above. Never handed out. */
  final byte @Nullable [] end;

  final boolean endInclusive;

  /**
   * {@link KeyOrder#prefix} of the start and end keys (0 when unbounded): most checks stop there.
   */
  private final long startPrefix;

  private final long endPrefix;

  private KeyRange(
      byte @Nullable [] start,
      boolean startInclusive,
      byte @Nullable [] end,
      boolean endInclusive) {
    this.start = start;
    this.startInclusive = startInclusive;
    this.end = end;
    this.endInclusive = endInclusive;
    this.startPrefix = start == null ? 0 : KeyOrder.prefix(start);
    this.endPrefix = end == null ? 0 : KeyOrder.prefix(end);
  }

  private static KeyRange of(
      byte @Nullable [] start,
      boolean startInclusive,
      byte @Nullable [] end,
      boolean endInclusive) {
    if (start != null && end != null && KeyOrder.compare(start, end) > 0) {
      throw new IllegalArgumentException(
          "range start "
              + Bytes.describe(start)
              + " is after its end "
              + Bytes.describe(end)
              + "; a range needs start <= end");
    }
    return new KeyRange(start, startInclusive, end, endInclusive);
  }

  /** Every key. */
  public static KeyRange all() {
    return ALL;
  }

  /**
   * Keys {@code >= start} and {@code < end}.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code start} is after {@code end}
   */
  public static KeyRange closedOpen(byte[] start, byte[] end) {
    return of(copy(start, "start"), true, copy(end, "end"), false);
  }

  /** Keys {@code >= start} and {@code <= end}; throws like {@link #closedOpen}. */
  public static KeyRange closed(byte[] start, byte[] end) {
    return of(copy(start, "start"), true, copy(end, "end"), true);
  }

  /** Keys {@code > start} and {@code < end}; throws like {@link #closedOpen}. */
  public static KeyRange open(byte[] start, byte[] end) {
    return of(copy(start, "start"), false, copy(end, "end"), false);
  }

  /** Keys {@code > start} and {@code <= end}; throws like {@link #closedOpen}. */
  public static KeyRange openClosed(byte[] start, byte[] end) {
    return of(copy(start, "start"), false, copy(end, "end"), true);
  }

  /** Keys {@code >= start}. @throws NullPointerException if {@code start} is null */
  public static KeyRange atLeast(byte[] start) {
    return of(copy(start, "start"), true, null, false);
  }

  /** Keys {@code > start}. @throws NullPointerException if {@code start} is null */
  public static KeyRange greaterThan(byte[] start) {
    return of(copy(start, "start"), false, null, false);
  }

  /** Keys {@code < end}. @throws NullPointerException if {@code end} is null */
  public static KeyRange lessThan(byte[] end) {
    return of(null, false, copy(end, "end"), false);
  }

  /** Keys {@code <= end}. @throws NullPointerException if {@code end} is null */
  public static KeyRange atMost(byte[] end) {
    return of(null, false, copy(end, "end"), true);
  }

  /** Exactly {@code key}. @throws NullPointerException if {@code key} is null */
  public static KeyRange singleton(byte[] key) {
    byte[] k = copy(key, "key");
    return new KeyRange(k, true, k, true);
  }

  /**
   * Every key that starts with {@code prefix}; the empty prefix is every key.
   *
   * @throws NullPointerException if {@code prefix} is null
   */
  public static KeyRange prefix(byte[] prefix) {
    byte[] p = copy(prefix, "prefix");
    return new KeyRange(p, true, successor(p), false);
  }

  /** {@link #closedOpen(byte[], byte[])} of UTF-8 strings. */
  public static KeyRange closedOpen(String start, String end) {
    return closedOpen(utf8(start, "start"), utf8(end, "end"));
  }

  /** {@link #closed(byte[], byte[])} of UTF-8 strings. */
  public static KeyRange closed(String start, String end) {
    return closed(utf8(start, "start"), utf8(end, "end"));
  }

  /** {@link #prefix(byte[])} of a UTF-8 string. */
  public static KeyRange prefix(String prefix) {
    return prefix(utf8(prefix, "prefix"));
  }

  /**
   * {@link #open(byte[], byte[])} of UTF-8 strings: keys {@code > start} and {@code < end}.
   *
   * @param start the exclusive lower bound, encoded as UTF-8
   * @param end the exclusive upper bound, encoded as UTF-8
   * @return the range
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code start}'s bytes are after {@code end}'s
   */
  public static KeyRange open(String start, String end) {
    return open(utf8(start, "start"), utf8(end, "end"));
  }

  /**
   * {@link #openClosed(byte[], byte[])} of UTF-8 strings: keys {@code > start} and {@code <= end}.
   *
   * @param start the exclusive lower bound, encoded as UTF-8
   * @param end the inclusive upper bound, encoded as UTF-8
   * @return the range
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code start}'s bytes are after {@code end}'s
   */
  public static KeyRange openClosed(String start, String end) {
    return openClosed(utf8(start, "start"), utf8(end, "end"));
  }

  /**
   * {@link #atLeast(byte[])} of a UTF-8 string: keys {@code >= start}.
   *
   * @param start the inclusive lower bound, encoded as UTF-8
   * @return the range
   * @throws NullPointerException if {@code start} is null
   */
  public static KeyRange atLeast(String start) {
    return atLeast(utf8(start, "start"));
  }

  /**
   * {@link #greaterThan(byte[])} of a UTF-8 string: keys {@code > start}.
   *
   * @param start the exclusive lower bound, encoded as UTF-8
   * @return the range
   * @throws NullPointerException if {@code start} is null
   */
  public static KeyRange greaterThan(String start) {
    return greaterThan(utf8(start, "start"));
  }

  /**
   * {@link #lessThan(byte[])} of a UTF-8 string: keys {@code < end}.
   *
   * @param end the exclusive upper bound, encoded as UTF-8
   * @return the range
   * @throws NullPointerException if {@code end} is null
   */
  public static KeyRange lessThan(String end) {
    return lessThan(utf8(end, "end"));
  }

  /**
   * {@link #atMost(byte[])} of a UTF-8 string: keys {@code <= end}.
   *
   * @param end the inclusive upper bound, encoded as UTF-8
   * @return the range
   * @throws NullPointerException if {@code end} is null
   */
  public static KeyRange atMost(String end) {
    return atMost(utf8(end, "end"));
  }

  /**
   * {@link #singleton(byte[])} of a UTF-8 string: exactly {@code key}.
   *
   * @param key the key, encoded as UTF-8; the empty string is a valid key
   * @return the range
   * @throws NullPointerException if {@code key} is null
   */
  public static KeyRange singleton(String key) {
    return singleton(utf8(key, "key"));
  }

  /** Whether {@code key} lies in this range. @throws NullPointerException if {@code key} is null */
  public boolean contains(byte[] key) {
    Objects.requireNonNull(key, "key");
    return !belowStart(key) && !aboveEnd(key);
  }

  /**
   * {@link #contains(byte[])} of a UTF-8 key.
   *
   * @param key the key, encoded as UTF-8
   * @return whether the key's UTF-8 bytes lie in this range
   * @throws NullPointerException if {@code key} is null
   */
  public boolean contains(String key) {
    return contains(utf8(key, "key"));
  }

  /** A copy of the start key, or {@code null} when unbounded below. */
  public byte @Nullable [] start() {
    return start == null ? null : start.clone();
  }

  /** A copy of the end key, or {@code null} when unbounded above. */
  public byte @Nullable [] end() {
    return end == null ? null : end.clone();
  }

  /** Whether the start key itself is in the range; false when unbounded. */
  public boolean startInclusive() {
    return startInclusive;
  }

  /** Whether the end key itself is in the range; false when unbounded. */
  public boolean endInclusive() {
    return endInclusive;
  }

  /** Index of the first of the sorted, distinct {@code keys} not below this range's start. */
  int firstNotBelowStart(byte[][] keys) {
    if (start == null) {
      return 0;
    }
    int lo = 0;
    int hi = keys.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (belowStart(keys[mid])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  boolean belowStart(byte[] key) {
    if (start == null) {
      return false;
    }
    int c = KeyOrder.compare(key, start);
    return c < 0 || (c == 0 && !startInclusive);
  }

  boolean aboveEnd(byte[] key) {
    if (end == null) {
      return false;
    }
    int c = KeyOrder.compare(key, end);
    return c > 0 || (c == 0 && !endInclusive);
  }

  /**
   * {@link #belowStart(byte[])} of a key whose {@link KeyOrder#prefix} is {@code kp} (a tree's
   * stored prefix): the key's bytes are read only when the prefixes tie, which saves a scan a cache
   * miss per key.
   */
  boolean belowStart(byte[] key, long kp) {
    if (start == null) {
      return false;
    }
    return kp != startPrefix ? kp < startPrefix : belowStart(key);
  }

  /**
   * {@link #aboveEnd(byte[])} of a key whose prefix is {@code kp}, like {@link #belowStart(byte[],
   * long)}.
   */
  boolean aboveEnd(byte[] key, long kp) {
    if (end == null) {
      return false;
    }
    return kp != endPrefix ? kp > endPrefix : aboveEnd(key);
  }

  /** The smallest key greater than every key with prefix {@code p}, or null if there is none. */
  private static byte @Nullable [] successor(byte[] p) {
    for (int i = p.length - 1; i >= 0; i--) {
      if (p[i] != (byte) 0xFF) {
        byte[] s = Arrays.copyOf(p, i + 1);
        s[i]++;
        return s;
      }
    }
    return null;
  }

  private static byte[] copy(byte[] a, String name) {
    return Objects.requireNonNull(a, name).clone();
  }

  private static byte[] utf8(String s, String name) {
    return Objects.requireNonNull(s, name).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof KeyRange r
        && startInclusive == r.startInclusive
        && endInclusive == r.endInclusive
        && Arrays.equals(start, r.start)
        && Arrays.equals(end, r.end);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(start), startInclusive, Arrays.hashCode(end), endInclusive);
  }

  @Override
  public String toString() {
    return (start == null ? "(-inf" : (startInclusive ? "[" : "(") + Bytes.describe(start))
        + ", "
        + (end == null ? "+inf)" : Bytes.describe(end) + (endInclusive ? "]" : ")"));
  }
}
