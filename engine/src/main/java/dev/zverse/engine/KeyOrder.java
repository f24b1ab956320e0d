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
 * agrees with the unsigned comparison of the bytes. Most comparisons between keys are then decided
 * by one {@code long} compare; only keys with equal prefixes need {@link #compare}.
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

  /** Unsigned lexicographic comparison; a proper prefix sorts first. */
  static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }

  /**
   * The permutation that sorts {@code keys} in key order: {@code keys[order[0]]} is the smallest.
   * Stable (a merge sort of indices), so equal keys keep their order; the keys are not moved. Keys
   * are compared by their {@link #prefix} first, one {@code long} compare for most pairs.
   */
  static int[] sortedOrder(byte[][] keys) {
    int n = keys.length;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    if (n < 2) {
      return order;
    }
    long[] prefixes = new long[n];
    for (int i = 0; i < n; i++) {
      prefixes[i] = prefix(keys[i]);
    }
    int[] tmp = new int[n];
    for (int width = 1; width < n; width <<= 1) {
      for (int lo = 0; lo < n - width; lo += width << 1) {
        int mid = lo + width;
        int hi = Math.min(lo + (width << 1), n);
        if (compare(keys, prefixes, order[mid - 1], order[mid]) <= 0) {
          continue; // already in order: the common case for batches written in key order
        }
        System.arraycopy(order, lo, tmp, lo, hi - lo);
        int a = lo;
        int b = mid;
        for (int k = lo; k < hi; k++) {
          if (b >= hi || (a < mid && compare(keys, prefixes, tmp[a], tmp[b]) <= 0)) {
            order[k] = tmp[a++];
          } else {
            order[k] = tmp[b++];
          }
        }
      }
    }
    return order;
  }

  /** Compares {@code keys[i]} with {@code keys[j]}, by their prefixes when those differ. */
  private static int compare(byte[][] keys, long[] prefixes, int i, int j) {
    int c = Long.compare(prefixes[i], prefixes[j]);
    return c != 0 ? c : compare(keys[i], keys[j]);
  }
}
