package dev.zverse.benchmarks;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.ZIndexOptions;
import java.util.Locale;
import org.h2.mvstore.MVStore;
import org.openjdk.jol.info.GraphLayout;
import org.openjdk.jol.vm.VM;

/**
 * Heap retained per key-version beyond the key and value bytes, measured with JOL: ZVerse holding
 * several versions of every key, and for context the peers holding one version (and MVStore holding
 * as many as ZVerse).
 *
 * <p>The measure is {@code (total - key bytes - value bytes) / key-versions}, where {@code total}
 * is {@link GraphLayout#totalSize()} of everything reachable from the store, key bytes count each
 * key's 16 bytes once, and value bytes count each stored version's 100 bytes once. Everything else
 * (array headers, padding, nodes, version-chain links, the commit log, a peer's key wrappers) is
 * overhead. Target for ZVerse: at most 64 bytes per key-version, for the tree, its chains and the
 * commit log (Z-index off, chains packed as the store packs them); a second line measures the same
 * store with its chains left unpacked ({@code ZIndexOptions.withPackedChains(false)}), a third with
 * its Z-index built (inline, so that no pool thread is reachable from it).
 *
 * <p>Workload: {@code --keys} random 16-byte keys (default {@value Dataset#DEFAULT_KEYS}), {@code
 * --versions} rounds (default 10) each writing every key once with a new 100-byte value, loaded as
 * in the JMH benchmarks: one {@link dev.zverse.engine.Transient} per round applying batches of
 * {@code --batch} puts (default {@value Dataset#LOAD_BATCH}). Each store is measured alone and
 * dropped before the next is built.
 *
 * <p>Run (JOL needs {@code -Djdk.attach.allowAttachSelf} on Java 17 to load its agent for exact
 * object sizes; the walk itself needs roughly as much heap again as the store, and the heap must
 * stay under 32 GiB so that oops stay compressed):
 *
 * <pre>
 * java -Djdk.attach.allowAttachSelf -Xmx16g -cp benchmarks/target/benchmarks.jar \
 *     dev.zverse.benchmarks.MemoryFootprint --keys 1000000 --versions 10
 * </pre>
 */
public final class MemoryFootprint {
  private final Dataset data;
  private final int batch;

  private MemoryFootprint(Dataset data, int batch) {
    this.data = data;
    this.batch = batch;
  }

  /**
   * Measures and prints.
   *
   * @param args {@code [--keys N] [--versions V] [--batch B] [--histogram]}
   * @throws IllegalArgumentException if an argument is unknown or out of range
   */
  public static void main(String[] args) {
    int keys = Dataset.DEFAULT_KEYS;
    int versions = 10;
    int batch = Dataset.LOAD_BATCH;
    boolean histogram = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--keys" -> keys = positive(args, ++i);
        case "--versions" -> versions = positive(args, ++i);
        case "--batch" -> batch = positive(args, ++i);
        case "--histogram" -> histogram = true;
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; usage: [--keys N] [--versions V] [--batch B] [--histogram]");
      }
    }
    System.out.println(VM.current().details());
    MemoryFootprint footprint = new MemoryFootprint(Dataset.create(keys), batch);
    footprint.zverse(versions, histogram, false, true);
    footprint.zverse(versions, false, false, false);
    footprint.zverse(versions, false, true, true);
    if (versions > 1) {
      footprint.zverse(1, false, false, true);
    }
    footprint.measure("ConcurrentSkipListMap", 1, footprint.data.loadSkipList(), histogram);
    footprint.measure("ConcurrentHashMap", 1, footprint.data.loadHashMap(), histogram);
    footprint.mvStore(versions, histogram);
  }

  private static int positive(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    int n = Integer.parseInt(args[i]);
    if (n < 1) {
      throw new IllegalArgumentException(args[i - 1] + " must be >= 1, was " + n);
    }
    return n;
  }

  private void zverse(int rounds, boolean histogram, boolean index, boolean pack) {
    // The index is built and the chains are packed inline: with the default executor, everything
    // the common pool's threads reach would count too, and the packing would race the measure.
    ZIndexOptions options =
        (index ? ZIndexOptions.defaults() : ZIndexOptions.disabled())
            .withExecutor(Runnable::run)
            .withPackedChains(pack);
    Snapshot snapshot = data.loadZVerse(rounds, batch, options, null);
    String name =
        "ZVerse (batches of "
            + batch
            + " puts, Z-index "
            + (index ? "built" : "off")
            + (pack ? ", chains packed)" : ", chains unpacked)");
    long total = measure(name, rounds, snapshot, histogram);
    System.out.printf(
        Locale.ROOT,
        "  engine's Stats.approximateBytes: %,d (%+.1f%% of measured)%n",
        snapshot.stats().approximateBytes(),
        100.0 * (snapshot.stats().approximateBytes() - total) / total);
  }

  private void mvStore(int rounds, boolean histogram) {
    MVStore store = new MVStore.Builder().open();
    store.setVersionsToKeep(Integer.MAX_VALUE);
    data.loadMVStore(store, rounds, null);
    measure("MVStore (in memory, every version kept)", rounds, store, histogram);
    store.close();
  }

  /** Prints and returns the total size of everything reachable from {@code root}. */
  private long measure(String name, int rounds, Object root, boolean histogram) {
    GraphLayout layout = GraphLayout.parseInstance(root);
    long total = layout.totalSize();
    long keys = data.size();
    long keyVersions = keys * rounds;
    long payload = keys * Dataset.KEY_BYTES + keyVersions * Dataset.VALUE_BYTES;
    System.out.printf(
        Locale.ROOT,
        "%s, %,d keys x %d version(s): %,d bytes in %,d objects; %.1f bytes per key-version beyond"
            + " key and value bytes%n",
        name,
        keys,
        rounds,
        total,
        layout.totalCount(),
        (double) (total - payload) / keyVersions);
    if (histogram) {
      System.out.println(layout.toFootprint());
    }
    return total;
  }
}
