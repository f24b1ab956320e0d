package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * A batch of puts and deletes, which the engine applies in key order, commits what its mutations
 * applied one by one in batch order commit: the last write to a key wins, a delete undoes a put
 * before it in the batch, and each key is one change of the batch's version. Checked against the
 * reference model on trees of tiny nodes (the engine's tests run with a node capacity of 4), so
 * that a batch splits and merges nodes it already copied; batches go one per snapshot or several
 * through one transient, with prunes between them.
 */
class BatchOrderProperties {
  private static final List<byte[]> KEYS = keyPool();

  /**
   * 48 keys, many sharing their 8-byte prefix (so that key order is decided past it), short ones
   * that are prefixes of longer ones, and the high bytes.
   */
  private static List<byte[]> keyPool() {
    TreeSet<byte[]> keys = new TreeSet<>(Arrays::compareUnsigned);
    byte[] alphabet = {0x00, 0x01, 'a', 0x7F, (byte) 0x80, (byte) 0xFF};
    Random random = new Random(18);
    keys.add(new byte[0]);
    while (keys.size() < 32) {
      byte[] k = new byte[random.nextInt(11)];
      for (int i = 0; i < k.length; i++) {
        k[i] = alphabet[random.nextInt(alphabet.length)];
      }
      keys.add(k);
    }
    for (int i = 0; keys.size() < 48; i++) {
      keys.add(("sensors/eu-west/" + i).getBytes(StandardCharsets.UTF_8));
    }
    return new ArrayList<>(keys);
  }

  /** A put of value {@code value} under key {@code key}, or a delete where {@code value} < 0. */
  record Mutation(int key, int value) {}

  @Provide
  Arbitrary<List<List<Mutation>>> batches() {
    Arbitrary<Mutation> mutation =
        Combinators.combine(
                Arbitraries.integers().between(0, KEYS.size() - 1),
                Arbitraries.integers().between(-3, 9))
            .as(Mutation::new);
    return mutation.list().ofMaxSize(120).list().ofMinSize(1).ofMaxSize(8);
  }

  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void aBatchCommitsWhatItsMutationsDoOneByOne(
      @ForAll("batches") List<List<Mutation>> batches,
      @ForAll boolean oneTransient,
      @ForAll @IntRange(min = 0, max = 3) int pruneEvery) {
    ReferenceModel model = new ReferenceModel();
    Snapshot snap = Snapshot.empty(Limits.defaults(), ZIndexOptions.disabled());
    Transient open = oneTransient ? snap.asTransient() : null;
    int applied = 0;
    for (List<Mutation> mutations : batches) {
      WriteBatch.Builder batch = WriteBatch.builder();
      List<ReferenceModel.Op> ops = new ArrayList<>();
      for (Mutation m : mutations) {
        byte[] key = KEYS.get(m.key());
        if (m.value() < 0) {
          batch.delete(key);
          ops.add(new ReferenceModel.Delete(key));
        } else {
          byte[] value = ("v" + m.value() + "@" + applied).getBytes(StandardCharsets.UTF_8);
          batch.put(key, value);
          ops.add(new ReferenceModel.Put(key, value));
        }
      }
      long expected = model.apply(ops);
      applied++;
      boolean prune = pruneEvery > 0 && applied % pruneEvery == 0;
      if (open != null) {
        assertEquals(expected, open.apply(batch.build()));
        if (prune) {
          open.prune(expected - 1);
        }
      } else {
        snap = snap.apply(batch.build());
        assertEquals(expected, snap.version());
        if (prune) {
          snap = snap.prune(expected - 1);
        }
        TreeInvariants.check(snap);
        SnapshotModelProperties.checkEverything(snap, model);
      }
    }
    if (open != null) {
      snap = open.persistent();
      TreeInvariants.check(snap);
      SnapshotModelProperties.checkEverything(snap, model);
    }
  }
}
