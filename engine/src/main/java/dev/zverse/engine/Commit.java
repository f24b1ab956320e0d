package dev.zverse.engine;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One committed write batch as the commit log keeps it: its version, its commit time, the keys it
 * changed and what it left under each: the value put, or {@code null} for a tombstone.
 *
 * <p>The values are references to the arrays the version chains hold (no copy): reading a commit,
 * for a change feed, a commit walk, a Z-index seal or the durable log, needs no tree descent per
 * change. The commit log keeps commits at or above the watermark only, whose values the chains keep
 * anyway, so the references retain nothing extra.
 *
 * <p>{@link #trims} marks the changes whose keys the prune that passes this version must visit (see
 * {@link Transient#prune}); most commits list none.
 *
 * <p>Immutable. {@code keys} are the tree's own arrays, sorted in key order and distinct, and
 * {@code values[i]} belongs to {@code keys[i]}; none of the arrays is handed out.
 */
final class Commit {
  final long version;

  /**
   * The commit time, in microseconds since the epoch: strictly above the previous commit's (see
   * {@link #after}), so that a time names at most one commit.
   */
  final long timeMicros;

  final byte[][] keys;
  final byte[][] values;

  /**
   * A bit set over {@link #keys} (bit {@code i} of word {@code i >>> 6}): the changes that leave
   * more history below them than one superseded version (a tombstone, or a put over a key changed
   * twice within the retention), whose chains a prune past this version trims; {@code null} when
   * there are none, {@link #ALL} when every change is one (then no bit set is kept: a store that
   * never prunes, with keys written again and again, marks every change).
   */
  final long @Nullable [] trims;

  /** {@link #trims} when every change of the commit is to be trimmed. */
  static final long[] ALL = new long[0];

  /** A commit whose every change is trimmed by the prune that passes it. */
  Commit(long version, long timeMicros, byte[][] keys, byte[][] values) {
    this(version, timeMicros, keys, values, all(keys.length));
  }

  Commit(long version, long timeMicros, byte[][] keys, byte[][] values, long @Nullable [] trims) {
    if (keys.length != values.length) {
      throw new IllegalArgumentException(keys.length + " keys but " + values.length + " values");
    }
    this.version = version;
    this.timeMicros = timeMicros;
    this.keys = keys;
    this.values = values;
    this.trims = trims;
  }

  /** Commit time of a store with no commit yet: below every time {@link #after} gives. */
  static final long NO_TIME = Long.MIN_VALUE;

  /**
   * {@code time} in whole microseconds since the epoch, rounded down, saturated to the range of a
   * {@code long} (about 292,000 years either side of 1970): every instant converts, and the order
   * of instants is kept (not strictly, past the ends of the range).
   */
  static long micros(Instant time) {
    long seconds = time.getEpochSecond();
    long micro = time.getNano() / 1_000;
    try {
      // A negative second is taken as (second + 1) minus the rest, so that the one second whose
      // product alone overflows, the range's last, still converts exactly.
      return seconds >= 0
          ? Math.addExact(Math.multiplyExact(seconds, 1_000_000L), micro)
          : Math.addExact(Math.multiplyExact(seconds + 1, 1_000_000L), micro - 1_000_000L);
    } catch (ArithmeticException beyond) {
      return seconds >= 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
  }

  /** The instant of {@code micros} microseconds since the epoch; every long is one. */
  static Instant instant(long micros) {
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
  }

  /**
   * {@code millis} milliseconds since the epoch in microseconds, saturated: the commit times of
   * format 1 files, which kept milliseconds.
   */
  static long microsOfMillis(long millis) {
    long micros = millis * 1_000L;
    return Math.multiplyHigh(millis, 1_000L) == (micros >> 63)
        ? micros
        : (millis < 0 ? Long.MIN_VALUE : Long.MAX_VALUE);
  }

  /**
   * The microsecond after {@code micros}, saturated at {@link Long#MAX_VALUE}: commit times
   * strictly increase up to the end of the range, about the year 294,000, and stay there.
   */
  static long after(long micros) {
    return micros == Long.MAX_VALUE ? micros : micros + 1;
  }

  private static long @Nullable [] all(int n) {
    return n == 0 ? null : ALL;
  }

  /** Whether the change of {@code keys[i]} is to be trimmed; see {@link #trims}. */
  boolean trims(int i) {
    return trims == ALL || (trims != null && (trims[i >>> 6] & (1L << i)) != 0);
  }
}
