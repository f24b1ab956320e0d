package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * {@link Snapshot#get(byte[])}, the latest-value read, against a {@link TreeMap} model: keys that
 * share their 8-byte prefix (so the leaf's search passes equal prefixes and stops at a larger key),
 * keys that are prefixes of each other, deletes that leave tombstones, trees several levels deep
 * (the engine's tests run with 4-entry nodes). The answer is a copy: writing into it changes no
 * later read.
 */
class LatestValueProperties {
  @Property(tries = 200)
  void getAnswersTheModelAndHandsOutACopy(@ForAll long seed) {
    Random random = new Random(seed);
    byte[][] pool = keyPool(random);
    TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
    Snapshot s = Snapshot.empty();
    for (int b = 0, batches = 1 + random.nextInt(12); b < batches; b++) {
      WriteBatch.Builder batch = WriteBatch.builder();
      for (int i = 0, n = 1 + random.nextInt(40); i < n; i++) {
        byte[] key = pool[random.nextInt(pool.length)];
        if (random.nextInt(5) == 0) {
          batch.delete(key);
          model.remove(key);
        } else {
          byte[] value = new byte[1 + random.nextInt(20)];
          random.nextBytes(value);
          batch.put(key, value);
          model.put(key, value.clone());
        }
      }
      s = s.apply(batch.build());
    }
    for (byte[] key : pool) {
      byte[] probe = key.clone();
      byte[] expected = model.get(key);
      byte[] got = s.get(probe);
      assertArrayEquals(expected, got, () -> "first read of " + Bytes.describe(key));
      if (got != null) {
        Arrays.fill(got, (byte) 0x5A);
        assertArrayEquals(expected, s.get(probe), () -> "read after writing into the answer");
      }
    }
  }

  /** 60 keys: most share one 8-byte prefix and differ after it, some are prefixes of others. */
  private static byte[][] keyPool(Random random) {
    byte[] prefix = new byte[8];
    random.nextBytes(prefix);
    byte[][] pool = new byte[60][];
    for (int i = 0; i < pool.length; i++) {
      int kind = random.nextInt(4);
      byte[] k;
      if (kind == 0) {
        k = new byte[random.nextInt(10)];
        random.nextBytes(k);
      } else {
        k = Arrays.copyOf(prefix, 8 + random.nextInt(3));
        for (int j = 8; j < k.length; j++) {
          k[j] = (byte) random.nextInt(3);
        }
      }
      pool[i] = k;
    }
    return pool;
  }
}
