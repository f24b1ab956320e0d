package dev.zverse.benchmarks;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A {@code byte[]} with content equality, so that {@link java.util.concurrent.ConcurrentHashMap}
 * can key on bytes: what a caller of a hash map has to add to use the benchmarks' keys. The hash is
 * computed once, when wrapping.
 *
 * <p>Immutable as long as nobody changes the wrapped array, which is not copied.
 */
final class ByteKey {
  private final byte[] bytes;
  private final int hash;

  ByteKey(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ByteKey k && hash == k.hash && Arrays.equals(bytes, k.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
