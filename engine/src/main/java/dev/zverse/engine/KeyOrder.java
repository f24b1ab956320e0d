package dev.zverse.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The store's key order: unsigned lexicographic over {@code byte[]}, the order of LMDB, RocksDB and
 * FoundationDB. A key that is a prefix of another sorts first.
 *
 * <p>Tree nodes keep, beside each key, its <em>prefix</em>: the first 8 bytes read big-endian,
 * zero-padded, with the sign bit flipped so that a signed {@code long} comparison of two prefixes
 * agrees with the unsigned comparison of the bytes. Most comparisons between keys are then decided by
 * one {@code long} compare; only keys with equal prefixes need {@link #compare}.
 *
 * <p>Stateless; safe for concurrent use.
 */
final class KeyOrder {
  private static final VarHandle LONG_BE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private KeyOrder() {}

  /** The biased 8-byte prefix of {@code key}; see the class comment. */
  static long prefix(byte[] key) {
    if (key.length >= Long.BYTES) {
      return (long) LONG_BE.get(key, 0) ^ Long.MIN_VALUE;
    }
    long p = 0;
    for (int i = 0; i < key.length; i++) {
      p |= (key[i] & 0xFFL) << (56 - 8 * i);
    }
    return p ^ Long.MIN_VALUE;
  }

  /** The raw (unbiased) big-endian prefix, as the Z-order curve uses it. */
  static long rawPrefix(byte[] key) {
    return prefix(key) ^ Long.MIN_VALUE;
  }

  /** Unsigned lexicographic comparison; a proper prefix sorts first. */
  static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }
}
