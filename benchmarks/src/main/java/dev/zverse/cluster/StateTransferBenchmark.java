package dev.zverse.cluster;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CorruptSnapshotException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SnapshotExport;
import dev.zverse.engine.SnapshotImport;
import dev.zverse.engine.WriteBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * State transfer (issue 16, capability 3): a store of 1,000,000 random 16-byte keys with 100-byte
 * values, one version each, sent by {@link StateTransfer} from one ActorSystem to another, joined
 * in one cluster on 127.0.0.1 in this JVM (Artery over TCP on loopback, no {@code
 * serialize-messages}): seconds per transfer. Beside it, in the same run, the two halves alone on
 * one thread: {@code EXPORT} writes every chunk of the same snapshot ({@link SnapshotExport}) and
 * drops it; {@code IMPORT} builds the snapshot from chunks exported beforehand ({@link
 * SnapshotImport}). MB/s is the snapshot's bytes (printed in the setup) over the time.
 *
 * <p>In package {@code dev.zverse.cluster} because state transfer is package-private there: the
 * benchmarks run on the class path, where the package's classes meet.
 *
 * <p>Run: {@code taskset -c 1 java -jar benchmarks/target/benchmarks.jar StateTransferBenchmark -rf
 * json -rff benchmarks/results/state-transfer.json}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class StateTransferBenchmark {
  static final int KEYS = 1_000_000;
  static final int KEY_BYTES = 16;
  static final int VALUE_BYTES = 100;

  /** Puts per write while the store is loaded. */
  static final int LOAD_BATCH = 10_000;

  /** The seed of the keys and values. */
  static final long SEED = 16;

  /** What is timed: the whole transfer between the nodes, or one half alone. */
  @Param({"TRANSFER", "EXPORT", "IMPORT"})
  String phase;

  private ClusterFixture cluster;
  private ActorSystem<Void> receiver;
  private ActorSystem<Void> sender;
  private ZVerseStore store;
  private ActorRef<StateTransfer.Request> server;
  private ActorRef<StateTransfer.Request> local;
  private ActorRef<Void> receiverSeenBySender;
  private TransferSettings settings;
  private Snapshot snapshot;
  private List<byte[]> chunks;

  /** Starts both nodes, loads the store on the sender and exports it once. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    cluster = ClusterFixture.start(2, "");
    receiver = cluster.node(0);
    sender = cluster.node(1);
    settings = TransferSettings.create(receiver);
    store = ZVerseStore.open(sender, "bench", StoreSettings.create(sender, "bench"));
    load(KEYS, store::write);
    snapshot = store.snapshot();
    local = sender.systemActorOf(StateTransfer.server(store, settings), "transfer", Props.empty());
    server = ClusterFixture.remoteIn(receiver, sender, local);
    receiverSeenBySender = ClusterFixture.remoteIn(sender, receiver, receiver);
    chunks = new ArrayList<>();
    SnapshotExport.of(snapshot, settings.chunkBytes()).forEachRemaining(chunks::add);
    long bytes = 0;
    for (byte[] c : chunks) {
      bytes += c.length;
    }
    System.out.printf(
        "%nsnapshot: %,d keys, version %d, %,d bytes in %,d chunks of %,d bytes%n",
        snapshot.size(), snapshot.version(), bytes, chunks.size(), settings.chunkBytes());
  }

  /**
   * Loads the store this benchmark transfers, or its first {@code keys} keys, through {@code
   * write}: {@link #LOAD_BATCH} puts per write, each awaited before the next is sent; the puts are
   * those of {@link #nextPut} from a random of {@link #SEED}. {@link SeparateJvmTransferBenchmark}
   * loads its writer the same way, so both transfer the same bytes.
   *
   * @param keys how many keys, at least 0
   * @param write sends one write and gives its version
   * @return the version of the last write, 0 if none
   * @throws Exception if a write fails or is not answered within {@link ClusterFixture#WAIT}
   */
  static long load(int keys, Function<WriteBatch, CompletionStage<Long>> write) throws Exception {
    SplittableRandom random = new SplittableRandom(SEED);
    long version = 0;
    for (int from = 0; from < keys; from += LOAD_BATCH) {
      WriteBatch.Builder b = WriteBatch.builder();
      for (int i = from, to = Math.min(keys, from + LOAD_BATCH); i < to; i++) {
        byte[][] put = nextPut(random);
        b.put(put[0], put[1]);
      }
      version =
          write
              .apply(b.build())
              .toCompletableFuture()
              .get(ClusterFixture.WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    return version;
  }

  /**
   * The next put of the loaded store: a random {@value #KEY_BYTES}-byte key, then a random {@value
   * #VALUE_BYTES}-byte value, drawn in that order from {@code random}.
   *
   * @param random a random of {@link #SEED}, advanced by the puts before this one
   * @return the key at index 0 and the value at index 1, fresh arrays
   */
  static byte[][] nextPut(SplittableRandom random) {
    byte[] key = new byte[KEY_BYTES];
    byte[] value = new byte[VALUE_BYTES];
    random.nextBytes(key);
    random.nextBytes(value);
    return new byte[][] {key, value};
  }

  /** Terminates both nodes. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    store.close().toCompletableFuture().get();
    cluster.close();
  }

  /** One whole transfer, or one half of it alone. */
  @Benchmark
  public long run() throws Exception {
    return switch (phase) {
      case "TRANSFER" -> transfer();
      case "EXPORT" -> exportOnly();
      default -> importOnly();
    };
  }

  private long transfer() throws Exception {
    Snapshot got =
        StateTransfer.receive(receiver, server, "bench", Snapshot.empty(), settings)
            .toCompletableFuture()
            .get();
    // As a replica would, once it follows: the source's pin on the version may go.
    StateTransfer.followed(local, receiverSeenBySender, got.version() + 1);
    return got.size();
  }

  private long exportOnly() {
    SnapshotExport export = SnapshotExport.of(snapshot, settings.chunkBytes());
    long sum = 0;
    while (export.hasNext()) {
      sum += ByteBuffer.wrap(export.next()).getInt(8);
    }
    return sum;
  }

  private long importOnly() throws CorruptSnapshotException {
    SnapshotImport in = SnapshotImport.into(snapshot);
    for (byte[] c : chunks) {
      in.accept(c);
    }
    return in.finish().size();
  }
}
