package dev.zverse.benchmarks;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Limits;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.ZIndexOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ByteArrayDataType;
import org.jspecify.annotations.Nullable;

/**
 * The data every benchmark and peer shares: {@code n} distinct random 16-byte keys and, for each
 * key and round, a 100-byte value, all drawn from a fixed seed so that every run and every peer
 * sees the same bytes. A round writes every key once; round {@code r} of a versioned store is its
 * {@code r}-th version of each key.
 *
 * <p>The {@code loadX} methods lay the data into each store the same way. Peers keep the key arrays
 * of this dataset; benchmarks look keys up with {@linkplain #probes copies}, so that no peer gets a
 * reference-equality shortcut (ZVerse copies every key it stores anyway).
 *
 * <p>Immutable after construction; the arrays it hands out are fresh unless documented otherwise.
 */
final class Dataset {
  /** Seed of the keys and values. */
  static final long SEED = 0x5A5E_2024L;

  /** Bytes per key. */
  static final int KEY_BYTES = 16;

  /** Bytes per value. */
  static final int VALUE_BYTES = 100;

  /** Keys in the benchmarks' store. */
  static final int DEFAULT_KEYS = 1_000_000;

  /** Puts per ZVerse write batch while loading. */
  static final int LOAD_BATCH = 1_000;

  /** The keys in generation (random) order. */
  private final byte[][] keys;

  /** The same arrays in ascending unsigned order. */
  private final byte[][] sorted;

  /** Random bytes every value starts from; each value stamps its key index and round on a copy. */
  private final byte[] template;

  private Dataset(byte[][] keys, byte[][] sorted, byte[] template) {
    this.keys = keys;
    this.sorted = sorted;
    this.template = template;
  }

  /**
   * {@code n} distinct random keys from {@link #SEED}.
   *
   * @param n number of keys, at least 1
   * @throws IllegalArgumentException if {@code n} is below 1
   */
  static Dataset create(int n) {
    return create(n, false);
  }

  /**
   * {@code n} distinct keys from {@link #SEED}: random 16-byte keys, or, {@code prefixed}, keys as
   * applications name them, a long shared textual prefix and a random tail: {@code
   * orders/2026/11/}, {@code orders/2026/12/}, {@code sensors/eu-west/} or {@code
   * sensors/us-east/}, then 12 random hexadecimal digits (27 to 28 bytes). The four prefixes share
   * their first 8 bytes in pairs, so a grid over the first 8 bytes sees two keys.
   *
   * @param n number of keys, at least 1
   * @param prefixed whether the keys carry the textual prefixes
   * @throws IllegalArgumentException if {@code n} is below 1
   */
  static Dataset create(int n, boolean prefixed) {
    if (n < 1) {
      throw new IllegalArgumentException("n must be >= 1, was " + n);
    }
    SplittableRandom random = new SplittableRandom(SEED);
    byte[] template = new byte[VALUE_BYTES];
    random.nextBytes(template);
    byte[][] keys = new byte[n][];
    String[] prefixes = {
      "orders/2026/11/", "orders/2026/12/", "sensors/eu-west/", "sensors/us-east/"
    };
    for (int i = 0; i < n; i++) {
      if (prefixed) {
        String tail = String.format("%012x", random.nextLong(1L << 48));
        keys[i] = (prefixes[random.nextInt(prefixes.length)] + tail).getBytes(US_ASCII);
      } else {
        keys[i] = new byte[KEY_BYTES];
        random.nextBytes(keys[i]);
      }
    }
    byte[][] sorted = keys.clone();
    Arrays.sort(sorted, Arrays::compareUnsigned);
    for (int i = 1; i < n; i++) {
      // 128 (or 50) random bits make a repeat all but impossible among a million keys; the fixed
      // seed makes it reproducible.
      if (Arrays.equals(sorted[i - 1], sorted[i])) {
        throw new IllegalStateException("seed " + SEED + " repeats a key; choose another seed");
      }
    }
    return new Dataset(keys, sorted, template);
  }

  /** Number of keys. */
  int size() {
    return keys.length;
  }

  /** Key {@code i} in generation order: the dataset's own array, for peers that keep it. */
  byte[] key(int i) {
    return keys[i];
  }

  /** The key of rank {@code rank} in ascending unsigned order: the dataset's own array. */
  byte[] sortedKey(int rank) {
    return sorted[rank];
  }

  /** A fresh 100-byte value of key {@code i} in round {@code round}, distinct for each pair. */
  byte[] value(int i, int round) {
    byte[] v = template.clone();
    v[0] = (byte) (i >>> 24);
    v[1] = (byte) (i >>> 16);
    v[2] = (byte) (i >>> 8);
    v[3] = (byte) i;
    v[4] = (byte) round;
    return v;
  }

  /**
   * {@code count} key indexes drawn uniformly, with repeats, from a seed of their own.
   *
   * @param seed distinguishes the draws of different benchmarks
   */
  int[] randomIndexes(int count, long seed) {
    return randomInts(count, keys.length, seed);
  }

  /** {@code count} ints uniform in [0, {@code bound}) from {@code seed}. */
  static int[] randomInts(int count, int bound, long seed) {
    return new SplittableRandom(seed).ints(count, 0, bound).toArray();
  }

  /**
   * Fresh copies of the keys at {@code indexes}: lookup keys equal to, never the same arrays as,
   * the stored ones.
   */
  byte[][] probes(int[] indexes) {
    byte[][] probes = new byte[indexes.length][];
    for (int i = 0; i < indexes.length; i++) {
      probes[i] = keys[indexes[i]].clone();
    }
    return probes;
  }

  // ---------------------------------------------------------------- loading the stores

  /**
   * A ZVerse store holding {@code rounds} versions of every key: one {@link Transient} per round,
   * applying batches of {@value #LOAD_BATCH} puts. The store keeps its Z-index with the {@linkplain
   * ZIndexOptions#defaults() defaults} (on, built in the background), like {@link
   * Snapshot#empty()}.
   *
   * @param roundVersions receives, at index {@code r}, the version at which round {@code r} is
   *     complete; may be null
   */
  Snapshot loadZVerse(int rounds, long @Nullable [] roundVersions) {
    return loadZVerse(rounds, LOAD_BATCH, ZIndexOptions.defaults(), roundVersions);
  }

  /** {@link #loadZVerse(int, long[])} keeping the Z-index as {@code index} says. */
  Snapshot loadZVerse(int rounds, ZIndexOptions index, long @Nullable [] roundVersions) {
    return loadZVerse(rounds, LOAD_BATCH, index, roundVersions);
  }

  /** {@link #loadZVerse(int, long[])} with {@code batchSize} puts per batch. */
  Snapshot loadZVerse(int rounds, int batchSize, long @Nullable [] roundVersions) {
    return loadZVerse(rounds, batchSize, ZIndexOptions.defaults(), roundVersions);
  }

  /**
   * {@link #loadZVerse(int, long[])} with {@code batchSize} puts per batch, keeping the Z-index as
   * {@code index} says. The transient publishes once per round, so an index with a segment size
   * below a round's changes starts one seal job per round, of the whole round.
   */
  Snapshot loadZVerse(
      int rounds, int batchSize, ZIndexOptions index, long @Nullable [] roundVersions) {
    Snapshot snapshot = Snapshot.empty(Limits.defaults(), index);
    for (int r = 0; r < rounds; r++) {
      Transient t = snapshot.asTransient();
      for (int from = 0; from < keys.length; from += batchSize) {
        WriteBatch.Builder batch = WriteBatch.builder();
        for (int i = from, to = Math.min(from + batchSize, keys.length); i < to; i++) {
          batch.put(keys[i], value(i, r));
        }
        t.apply(batch.build());
      }
      snapshot = t.persistent();
      if (roundVersions != null) {
        roundVersions[r] = snapshot.version();
      }
    }
    return snapshot;
  }

  /** A skip list of every key with its round-0 value, ordered like ZVerse (unsigned). */
  ConcurrentSkipListMap<byte[], byte[]> loadSkipList() {
    ConcurrentSkipListMap<byte[], byte[]> map =
        new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
    for (int i = 0; i < keys.length; i++) {
      map.put(keys[i], value(i, 0));
    }
    return map;
  }

  /** A hash map of every key, wrapped, with its round-0 value. */
  ConcurrentHashMap<ByteKey, byte[]> loadHashMap() {
    ConcurrentHashMap<ByteKey, byte[]> map = new ConcurrentHashMap<>(keys.length);
    for (int i = 0; i < keys.length; i++) {
      map.put(new ByteKey(keys[i]), value(i, 0));
    }
    return map;
  }

  /**
   * An in-memory MVStore map holding {@code rounds} versions of every key: one {@link
   * MVStore#commit()} after each round. The caller sets {@link MVStore#setVersionsToKeep} so that
   * they stay readable.
   *
   * @param roundVersions receives, at index {@code r}, the version to {@link MVMap#openVersion
   *     open} to read round {@code r}; may be null
   */
  MVMap<byte[], byte[]> loadMVStore(MVStore store, int rounds, long @Nullable [] roundVersions) {
    MVMap<byte[], byte[]> map =
        store.openMap(
            "data",
            new MVMap.Builder<byte[], byte[]>()
                .keyType(UnsignedBytesType.INSTANCE)
                .valueType(ByteArrayDataType.INSTANCE));
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < keys.length; i++) {
        map.put(keys[i], value(i, r));
      }
      // openVersion(v) shows the map as it was just before the commit that ended version v.
      if (roundVersions != null) {
        roundVersions[r] = store.getCurrentVersion();
      }
      store.commit();
    }
    return map;
  }

  /**
   * Writes round 0 of every key into a store through its facade, in batches of {@value #LOAD_BATCH}
   * puts sent without waiting for each other, and waits for all of them.
   *
   * @param store the store to load; its limits must admit 16-byte keys and 100-byte values
   */
  void loadStore(ZVerseStore store) {
    List<CompletableFuture<Long>> loads = new ArrayList<>();
    for (int from = 0; from < keys.length; from += LOAD_BATCH) {
      WriteBatch.Builder batch = WriteBatch.builder();
      for (int i = from, to = Math.min(from + LOAD_BATCH, keys.length); i < to; i++) {
        batch.put(keys[i], value(i, 0));
      }
      loads.add(store.write(batch.build()).toCompletableFuture());
    }
    loads.forEach(CompletableFuture::join);
  }
}
