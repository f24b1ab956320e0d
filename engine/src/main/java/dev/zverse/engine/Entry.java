package dev.zverse.engine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A live key as a read saw it at one version: its key, its value, the version that created it (the
 * first put after it was absent or deleted) and the version that last changed it.
 *
 * <p>Immutable. {@link #key()} and {@link #value()} return fresh copies on every call; {@link
 * #keyBuffer()} and {@link #valueBuffer()} are the zero-copy accessors, read-only views of the
 * store's own bytes.
 */
public final class Entry {
  private final byte[] key;
  private final byte[] value;
  private final long createVersion;
  private final long modVersion;

  Entry(byte[] key, byte[] value, long createVersion, long modVersion) {
    this.key = key;
    this.value = value;
    this.createVersion = createVersion;
    this.modVersion = modVersion;
  }

  /** A copy of the key. */
  public byte[] key() {
    return key.clone();
  }

  /** A copy of the value. */
  public byte[] value() {
    return value.clone();
  }

  /** The key decoded as UTF-8. */
  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  /** The value decoded as UTF-8. */
  public String valueUtf8() {
    return new String(value, StandardCharsets.UTF_8);
  }

  /** A read-only view of the key, without copying. */
  public ByteBuffer keyBuffer() {
    return ByteBuffer.wrap(key).asReadOnlyBuffer();
  }

  /** A read-only view of the value, without copying. */
  public ByteBuffer valueBuffer() {
    return ByteBuffer.wrap(value).asReadOnlyBuffer();
  }

  /** Length of the value in bytes, without copying it. */
  public int valueLength() {
    return value.length;
  }

  /** The version that created this incarnation of the key. */
  public long createVersion() {
    return createVersion;
  }

  /** The version that last changed the key, at or below the version read. */
  public long modVersion() {
    return modVersion;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Entry e
        && createVersion == e.createVersion
        && modVersion == e.modVersion
        && Arrays.equals(key, e.key)
        && Arrays.equals(value, e.value);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(key) + Arrays.hashCode(value)) + Long.hashCode(modVersion);
  }

  @Override
  public String toString() {
    return Bytes.describe(key)
        + "="
        + Bytes.describe(value)
        + " (created "
        + createVersion
        + ", modified "
        + modVersion
        + ")";
  }
}
