package dev.zverse.engine;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A precondition of a {@link WriteBatch}, checked against the store's latest state just before the
 * batch is applied (after every batch committed before it). If any condition of a batch fails, the
 * batch changes nothing and fails with a {@link ConditionFailedException} that lists every failed
 * condition. This is the compare half of compare-and-set.
 *
 * <p>Immutable.
 */
public final class Condition {
  /** What a condition compares. */
  public enum Kind {
    /** The key has no value (never written, deleted, or pruned away while deleted). */
    ABSENT,
    /** The key's last change was at a given version; version 0 means the key is absent. */
    MOD_VERSION,
    /** The key has exactly a given value. */
    VALUE_EQUALS
  }

  private final Kind kind;
  private final byte[] key;
  private final long modVersion;
  private final byte[] value;

  private Condition(Kind kind, byte[] key, long modVersion, byte[] value) {
    this.kind = kind;
    this.key = key;
    this.modVersion = modVersion;
    this.value = value;
  }

  /**
   * The key must be absent.
   *
   * @throws NullPointerException if {@code key} is null
   */
  public static Condition absent(byte[] key) {
    return new Condition(Kind.ABSENT, Objects.requireNonNull(key, "key").clone(), 0, null);
  }

  /**
   * The key's last change must be at {@code modVersion}; 0 requires the key to be absent.
   *
   * @param modVersion a version, at least 0
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if {@code modVersion} is negative
   */
  public static Condition modVersion(byte[] key, long modVersion) {
    if (modVersion < 0) {
      throw new IllegalArgumentException("modVersion must be >= 0, was " + modVersion);
    }
    return new Condition(Kind.MOD_VERSION, Objects.requireNonNull(key, "key").clone(), modVersion, null);
  }

  /**
   * The key must have exactly {@code value}.
   *
   * @throws NullPointerException if an argument is null
   */
  public static Condition valueEquals(byte[] key, byte[] value) {
    return new Condition(
        Kind.VALUE_EQUALS,
        Objects.requireNonNull(key, "key").clone(),
        0,
        Objects.requireNonNull(value, "value").clone());
  }

  /** {@link #absent(byte[])} of a UTF-8 key. */
  public static Condition absent(String key) {
    return absent(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8));
  }

  /** {@link #modVersion(byte[], long)} of a UTF-8 key. */
  public static Condition modVersion(String key, long modVersion) {
    return modVersion(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8), modVersion);
  }

  /** {@link #valueEquals(byte[], byte[])} of UTF-8 strings. */
  public static Condition valueEquals(String key, String value) {
    return valueEquals(
        Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8),
        Objects.requireNonNull(value, "value").getBytes(StandardCharsets.UTF_8));
  }

  /** What this condition compares. */
  public Kind kind() {
    return kind;
  }

  /** A copy of the key. */
  public byte[] key() {
    return key.clone();
  }

  /** The required version of a {@link Kind#MOD_VERSION} condition, else 0. */
  public long modVersion() {
    return modVersion;
  }

  /** A copy of the required value of a {@link Kind#VALUE_EQUALS} condition, else {@code null}. */
  public byte[] value() {
    return value == null ? null : value.clone();
  }

  /**
   * The key decoded as UTF-8.
   *
   * @return the key as a string
   */
  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  /**
   * The required value of a {@link Kind#VALUE_EQUALS} condition decoded as UTF-8.
   *
   * @return the value as a string, or {@code null} for the other kinds
   */
  public String valueUtf8() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  byte[] keyBytes() {
    return key;
  }

  byte[] valueBytes() {
    return value;
  }

  /**
   * Checks this condition against the key's current head.
   *
   * @return {@code null} if it holds, else what was found instead
   */
  String check(Version head) {
    boolean live = head != null && !head.isTombstone();
    switch (kind) {
      case ABSENT:
        return live ? "present, last changed at version " + head.version : null;
      case MOD_VERSION:
        long actual = live ? head.version : 0;
        return actual == modVersion ? null : (live ? "last changed at version " + actual : "absent");
      case VALUE_EQUALS:
        if (!live) {
          return "absent";
        }
        return Arrays.equals(head.value, value) ? null : "value " + Bytes.describe(head.value);
      default:
        throw new AssertionError(kind);
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Condition)) {
      return false;
    }
    Condition c = (Condition) o;
    return kind == c.kind
        && modVersion == c.modVersion
        && Arrays.equals(key, c.key)
        && Arrays.equals(value, c.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, Arrays.hashCode(key), modVersion, Arrays.hashCode(value));
  }

  @Override
  public String toString() {
    switch (kind) {
      case ABSENT:
        return Bytes.describe(key) + " is absent";
      case MOD_VERSION:
        return Bytes.describe(key) + " last changed at version " + modVersion;
      default:
        return Bytes.describe(key) + " equals " + Bytes.describe(value);
    }
  }
}
