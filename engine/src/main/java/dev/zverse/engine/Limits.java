package dev.zverse.engine;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The largest key, value and write batch a store accepts. Checked when a batch is applied and when
 * a read names a key, before anything changes: an oversized argument is an {@link
 * IllegalArgumentException} naming the limit, never a truncation.
 *
 * <p>A batch's size ({@link #maxBatchBytes()}) is what it takes in the durable log: the bytes of
 * its keys and values plus {@value #MUTATION_BYTES} per mutation. The limit keeps every version
 * well inside one log record, whose largest size is just under 2 GiB, so that no batch can be too
 * big to log once it was accepted. (A range delete counts {@value #MUTATION_BYTES} bytes; the
 * tombstones it leaves are logged with their keys.)
 *
 * <p>Immutable; {@code withX} methods return copies.
 */
public final class Limits {
  /** Default largest key: 4 KiB. */
  public static final int DEFAULT_MAX_KEY_BYTES = 4 * 1024;

  /** Default largest value: 16 MiB. */
  public static final int DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

  /** The largest {@link #maxKeyBytes()} that can be configured: 64 KiB. */
  public static final int CEILING_KEY_BYTES = 64 * 1024;

  /** The largest {@link #maxValueBytes()} that can be configured: 1 GiB. */
  public static final int CEILING_VALUE_BYTES = 1024 * 1024 * 1024;

  /** Default largest batch: 1 GiB (64 values of the default largest size). */
  public static final int DEFAULT_MAX_BATCH_BYTES = 1024 * 1024 * 1024;

  /**
   * The largest {@link #maxBatchBytes()} that can be configured: 1.5 GiB, which leaves room in the
   * log's largest record (just under 2 GiB) for the record's own fields.
   */
  public static final int CEILING_BATCH_BYTES = 1536 * 1024 * 1024;

  /** Bytes a mutation counts towards {@link #maxBatchBytes()} besides its key and value. */
  public static final int MUTATION_BYTES = 8;

  private static final Limits DEFAULTS =
      new Limits(DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_BATCH_BYTES);

  private final int maxKeyBytes;
  private final int maxValueBytes;
  private final int maxBatchBytes;

  private Limits(int maxKeyBytes, int maxValueBytes, int maxBatchBytes) {
    this.maxKeyBytes = maxKeyBytes;
    this.maxValueBytes = maxValueBytes;
    this.maxBatchBytes = maxBatchBytes;
  }

  /** 4 KiB keys, 16 MiB values, 1 GiB batches. */
  public static Limits defaults() {
    return DEFAULTS;
  }

  /**
   * These limits with another key limit.
   *
   * @param maxKeyBytes the largest key in bytes, in [1, {@value #CEILING_KEY_BYTES}]
   * @return a copy with the new limit
   * @throws IllegalArgumentException if {@code maxKeyBytes} is out of range
   */
  public Limits withMaxKeyBytes(int maxKeyBytes) {
    if (maxKeyBytes < 1 || maxKeyBytes > CEILING_KEY_BYTES) {
      throw new IllegalArgumentException(
          "maxKeyBytes must be in [1, " + CEILING_KEY_BYTES + "], was " + maxKeyBytes);
    }
    return new Limits(maxKeyBytes, maxValueBytes, maxBatchBytes);
  }

  /**
   * These limits with another value limit.
   *
   * @param maxValueBytes the largest value in bytes, in [0, {@value #CEILING_VALUE_BYTES}]
   * @return a copy with the new limit
   * @throws IllegalArgumentException if {@code maxValueBytes} is out of range
   */
  public Limits withMaxValueBytes(int maxValueBytes) {
    if (maxValueBytes < 0 || maxValueBytes > CEILING_VALUE_BYTES) {
      throw new IllegalArgumentException(
          "maxValueBytes must be in [0, " + CEILING_VALUE_BYTES + "], was " + maxValueBytes);
    }
    return new Limits(maxKeyBytes, maxValueBytes, maxBatchBytes);
  }

  /**
   * These limits with another batch limit.
   *
   * @param maxBatchBytes the largest batch in bytes (keys and values plus {@value #MUTATION_BYTES}
   *     per mutation), in [1, {@value #CEILING_BATCH_BYTES}]
   * @return a copy with the new limit
   * @throws IllegalArgumentException if {@code maxBatchBytes} is out of range
   */
  public Limits withMaxBatchBytes(int maxBatchBytes) {
    if (maxBatchBytes < 1 || maxBatchBytes > CEILING_BATCH_BYTES) {
      throw new IllegalArgumentException(
          "maxBatchBytes must be in [1, " + CEILING_BATCH_BYTES + "], was " + maxBatchBytes);
    }
    return new Limits(maxKeyBytes, maxValueBytes, maxBatchBytes);
  }

  /** The largest key, in bytes. */
  public int maxKeyBytes() {
    return maxKeyBytes;
  }

  /** The largest value, in bytes. */
  public int maxValueBytes() {
    return maxValueBytes;
  }

  /** The largest batch, in bytes: keys and values plus {@value #MUTATION_BYTES} per mutation. */
  public int maxBatchBytes() {
    return maxBatchBytes;
  }

  /**
   * Checks one key.
   *
   * @param key the key
   * @param name the argument's name for the message
   * @throws NullPointerException if {@code key} is null
   * @throws IllegalArgumentException if it is longer than {@link #maxKeyBytes()}
   */
  void checkKey(byte[] key, String name) {
    Objects.requireNonNull(key, name);
    if (key.length > maxKeyBytes) {
      throw new IllegalArgumentException(
          name + " is " + key.length + " bytes, over the limit maxKeyBytes = " + maxKeyBytes);
    }
  }

  /** Checks one value, like {@link #checkKey}. */
  void checkValue(byte[] value, String name) {
    Objects.requireNonNull(value, name);
    if (value.length > maxValueBytes) {
      throw new IllegalArgumentException(
          name + " is " + value.length + " bytes, over the limit maxValueBytes = " + maxValueBytes);
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Limits l
        && l.maxKeyBytes == maxKeyBytes
        && l.maxValueBytes == maxValueBytes
        && l.maxBatchBytes == maxBatchBytes;
  }

  @Override
  public int hashCode() {
    return (31 * maxKeyBytes + maxValueBytes) * 31 + maxBatchBytes;
  }

  @Override
  public String toString() {
    return "Limits[maxKeyBytes="
        + maxKeyBytes
        + ", maxValueBytes="
        + maxValueBytes
        + ", maxBatchBytes="
        + maxBatchBytes
        + "]";
  }
}
