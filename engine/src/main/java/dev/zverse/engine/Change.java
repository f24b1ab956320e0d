package dev.zverse.engine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * One change to one key at one version: a put of a value, or a delete (tombstone).
 *
 * <p>Immutable. {@link #key()} and {@link #value()} return fresh copies; {@link #valueBuffer()} is
 * the zero-copy, read-only view.
 */
public final class Change {
  /** The key; never handed out. */
  final byte[] key;

  private final long version;
  private final byte @Nullable [] value;

  Change(byte[] key, long version, byte @Nullable [] value) {
    this.key = key;
    this.version = version;
    this.value = value;
  }

  /** A copy of the key. */
  public byte[] key() {
    return key.clone();
  }

  /** The key decoded as UTF-8. */
  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  /** The version of the commit that made this change. */
  public long version() {
    return version;
  }

  /** Whether this change deleted the key. */
  public boolean isDelete() {
    return value == null;
  }

  /** A copy of the value put, or {@code null} for a delete. */
  public byte @Nullable [] value() {
    return value == null ? null : value.clone();
  }

  /** The value put decoded as UTF-8, or {@code null} for a delete. */
  public @Nullable String valueUtf8() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  /** The value itself, or {@code null} for a delete; never handed out. */
  byte @Nullable [] valueRef() {
    return value;
  }

  /** A read-only view of the value put, without copying, or {@code null} for a delete. */
  public @Nullable ByteBuffer valueBuffer() {
    return value == null ? null : ByteBuffer.wrap(value).asReadOnlyBuffer();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Change c
        && version == c.version
        && Arrays.equals(key, c.key)
        && Arrays.equals(value, c.value);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(key) + Long.hashCode(version)) + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "@"
        + version
        + " "
        + Bytes.describe(key)
        + (value == null ? " deleted" : "=" + Bytes.describe(value));
  }
}
