package dev.zverse.engine;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

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

  /**
   * What the key's head must be like, one record per {@link Kind}, each with its own check and
   * wording, so no field means something for one kind and nothing for the others.
   */
  private sealed interface Expectation permits Absent, ModVersion, ValueEquals {
    Kind kind();

    /**
     * Checks the key's live head, {@code null} if the key is absent (never written, deleted, or
     * pruned away while deleted).
     *
     * @return {@code null} if the expectation holds, else what was found instead
     */
    @Nullable String check(@Nullable Version live);

    /** The expectation in words, after the key. */
    String describe();
  }

  private record Absent() implements Expectation {
    static final Absent INSTANCE = new Absent();

    @Override
    public Kind kind() {
      return Kind.ABSENT;
    }

    @Override
    public @Nullable String check(@Nullable Version live) {
      return live == null ? null : "present, last changed at version " + live.version;
    }

    @Override
    public String describe() {
      return "is absent";
    }
  }

  private record ModVersion(long version) implements Expectation {
    @Override
    public Kind kind() {
      return Kind.MOD_VERSION;
    }

    @Override
    public @Nullable String check(@Nullable Version live) {
      if (live == null) {
        return version == 0 ? null : "absent";
      }
      return live.version == version ? null : "last changed at version " + live.version;
    }

    @Override
    public String describe() {
      return "last changed at version " + version;
    }
  }

  /** Compares {@code value} by content (a record's own equals compares the array's identity). */
  @SuppressWarnings("ArrayRecordComponent") // equals and hashCode below compare by content
  private record ValueEquals(byte[] value) implements Expectation {
    @Override
    public Kind kind() {
      return Kind.VALUE_EQUALS;
    }

    @Override
    public @Nullable String check(@Nullable Version live) {
      if (live == null) {
        return "absent";
      }
      return Arrays.equals(live.value, value) ? null : "value " + Bytes.describe(live.value);
    }

    @Override
    public String describe() {
      return "equals " + Bytes.describe(value);
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof ValueEquals other && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "ValueEquals[" + Bytes.describe(value) + "]";
    }
  }

  private final byte[] key;
  private final Expectation expected;

  private Condition(byte[] key, Expectation expected) {
    this.key = key;
    this.expected = expected;
  }

  /**
   * The key must be absent.
   *
   * @throws NullPointerException if {@code key} is null
   */
  public static Condition absent(byte[] key) {
    return new Condition(Objects.requireNonNull(key, "key").clone(), Absent.INSTANCE);
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
    return new Condition(Objects.requireNonNull(key, "key").clone(), new ModVersion(modVersion));
  }

  /**
   * The key must have exactly {@code value}.
   *
   * @throws NullPointerException if an argument is null
   */
  public static Condition valueEquals(byte[] key, byte[] value) {
    return new Condition(
        Objects.requireNonNull(key, "key").clone(),
        new ValueEquals(Objects.requireNonNull(value, "value").clone()));
  }

  /** {@link #absent(byte[])} of a UTF-8 key. */
  public static Condition absent(String key) {
    return absent(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8));
  }

  /** {@link #modVersion(byte[], long)} of a UTF-8 key. */
  public static Condition modVersion(String key, long modVersion) {
    return modVersion(
        Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8), modVersion);
  }

  /** {@link #valueEquals(byte[], byte[])} of UTF-8 strings. */
  public static Condition valueEquals(String key, String value) {
    return valueEquals(
        Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8),
        Objects.requireNonNull(value, "value").getBytes(StandardCharsets.UTF_8));
  }

  /** What this condition compares. */
  public Kind kind() {
    return expected.kind();
  }

  /** A copy of the key. */
  public byte[] key() {
    return key.clone();
  }

  /** The required version of a {@link Kind#MOD_VERSION} condition, else 0. */
  public long modVersion() {
    return expected instanceof ModVersion m ? m.version() : 0;
  }

  /** A copy of the required value of a {@link Kind#VALUE_EQUALS} condition, else {@code null}. */
  public byte @Nullable [] value() {
    byte[] v = valueBytes();
    return v == null ? null : v.clone();
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
  public @Nullable String valueUtf8() {
    byte[] v = valueBytes();
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  byte[] keyBytes() {
    return key;
  }

  byte @Nullable [] valueBytes() {
    return expected instanceof ValueEquals e ? e.value() : null;
  }

  /**
   * Checks this condition against the key's current head.
   *
   * @return {@code null} if it holds, else what was found instead
   */
  @Nullable String check(@Nullable Version head) {
    return expected.check(head != null && !head.isTombstone() ? head : null);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Condition c && Arrays.equals(key, c.key) && expected.equals(c.expected);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(key) + expected.hashCode();
  }

  @Override
  public String toString() {
    return Bytes.describe(key) + " " + expected.describe();
  }
}
