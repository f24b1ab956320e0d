package dev.zverse.cluster;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.CorruptSnapshotException;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SnapshotExport;
import dev.zverse.engine.SnapshotImport;
import dev.zverse.engine.WriteBatch;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The state-transfer commands of a {@link LagNode}, for {@link SeparateJvmTransferBenchmark}: on
 * the writer's node, loading the store and describing the writer's state; on a node that joined
 * late, when its replica caught up, and whether it holds exactly the writer's state.
 *
 * <ul>
 *   <li>{@code load <keys>}: on the writer's node, loads {@code keys} keys of {@link
 *       StateTransferBenchmark}'s data through the node's {@link ClusterStore} ({@link
 *       StateTransferBenchmark#load}), then writes the first key again with its own value until the
 *       writer's watermark is at least 1, so that a replica that starts from version 1 must catch
 *       up by state transfer (a condition, not a wait for time: the writer prunes on its epoch's
 *       tick); answers the writer's version and watermark;
 *   <li>{@code state}: on the writer's node, the writer store's latest snapshot: its version,
 *       watermark, keys, {@linkplain #digest digest}, and the bytes and chunks of its export with
 *       the node's {@code zverse.cluster.transfer.chunk-bytes} (what a transfer of it sends),
 *       timed: the export alone, on the source's JVM;
 *   <li>{@code rewrite <n>}: on the writer's node, {@code n} writes one at a time, each of one of
 *       the first {@code n} keys with its own value (the state's keys and values stay the same, its
 *       version moves on); answers the last version;
 *   <li>{@code caught}: on a node whose configuration names {@code zverse.bench.catch-up-to}, when
 *       its replica served that version and when it followed the writer, in nanoseconds from the
 *       replica's first request ({@link ClusterStore#open}, which asks the writer to follow), the
 *       JVM's start to that request in milliseconds, and the replica's status after, then the CPU
 *       time this process used from the request to serving, in nanoseconds, and when its status
 *       first said it catches up (the writer's answer came), in nanoseconds from the request, -1 if
 *       it was never seen;
 *   <li>{@code cpu}: the CPU time this process used so far, in nanoseconds;
 *   <li>{@code digest <version>}: this node's replica: version, keys and digest, refused unless the
 *       replica is at exactly {@code version};
 *   <li>{@code check <keys> <every>}: looks up every {@code every}-th key of the data of {@code
 *       keys} keys, a fresh copy of each, on this node's replica, and compares the value; answers
 *       the number checked, refused naming the first key that differs;
 *   <li>{@code reach <version>}: waits until this node's replica has the version (following live);
 *   <li>{@code import}: exports this node's replica's snapshot into chunks, then times building a
 *       snapshot from them ({@link SnapshotImport}): the import alone, on the receiver's JVM.
 * </ul>
 *
 * <p>Not thread-safe: the node's command thread uses it; the two completion times are written once
 * by the stages' callbacks and read through those stages.
 */
final class TransferNode {
  /** The configuration key of the version a late joiner's replica is timed to. */
  static final String CATCH_UP_TO = "zverse.bench.catch-up-to";

  private static final Duration WAIT = ClusterFixture.WAIT;

  private final ClusterStore store;
  private final Supplier<@Nullable ZVerseStore> writer;
  private final TransferSettings settings;
  private final long requestedAt;
  private final long cpuAtRequest;
  private final long startToRequestMillis;
  private final @Nullable CompletableFuture<long[]> served;
  private final CompletableFuture<Long> following;
  private final AtomicLong catchingUpSeen = new AtomicLong(-1);

  /**
   * Starts timing {@code store}'s catch-up, right after it was opened.
   *
   * @param store the node's cluster store, just opened
   * @param writer the writer's local store, if the writer runs on this node
   * @param settings this node's transfer settings
   * @param requestedAt {@link System#nanoTime} just before {@code store} was opened
   * @param cpuAtRequest {@link #cpuNanos} at that moment
   * @param startToRequestMillis milliseconds from the JVM's start to that moment
   * @param catchUpTo the version to time the replica to, or -1 for none
   */
  TransferNode(
      ClusterStore store,
      Supplier<@Nullable ZVerseStore> writer,
      TransferSettings settings,
      long requestedAt,
      long cpuAtRequest,
      long startToRequestMillis,
      long catchUpTo) {
    this.store = store;
    this.writer = writer;
    this.settings = settings;
    this.requestedAt = requestedAt;
    this.cpuAtRequest = cpuAtRequest;
    this.startToRequestMillis = startToRequestMillis;
    // Both registered right after the open: the writer's first answer needs a round trip over the
    // wire, a transfer seconds more, so neither stage can have completed before the callbacks are
    // on (if one had, its time would only be later than the truth).
    this.served =
        catchUpTo < 0
            ? null
            : store
                .awaitVersion(catchUpTo, WAIT)
                .thenApply(s -> new long[] {System.nanoTime(), cpuNanos()})
                .toCompletableFuture();
    this.following = store.following().thenApply(v -> System.nanoTime()).toCompletableFuture();
    if (catchUpTo >= 0) {
      watchCatchingUp();
    }
  }

  /**
   * Samples the replica's status every 10 ms until it follows, to see when the writer's answer
   * (catch up by state transfer) arrived: the status has no time of its own for it. A sample, not a
   * wait: nothing waits on it, and the figures come from the stages.
   */
  private void watchCatchingUp() {
    ScheduledExecutorService sampler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "catching-up-sampler");
              t.setDaemon(true);
              return t;
            });
    ScheduledFuture<?> unused =
        sampler.scheduleAtFixedRate(
            () -> {
              if (store.status().catchingUp()) {
                catchingUpSeen.compareAndSet(-1, System.nanoTime() - requestedAt);
              }
              if (following.isDone()) {
                // The catch-up is over: the sampler's thread stops.
                sampler.shutdown();
              }
            },
            0,
            10,
            TimeUnit.MILLISECONDS);
  }

  /**
   * The answer to a transfer command, or null if {@code w} is none.
   *
   * @param w the command's words
   * @throws Exception if the command fails: the parent gets an error answer
   */
  @Nullable String answer(String[] w) throws Exception {
    return switch (w[0]) {
      case "load" -> load(Integer.parseInt(w[1]));
      case "state" -> state();
      case "rewrite" -> String.valueOf(rewrite(Integer.parseInt(w[1])));
      case "caught" -> caught();
      case "cpu" -> String.valueOf(cpuNanos());
      case "digest" -> digest(Long.parseLong(w[1]));
      case "check" -> String.valueOf(check(Integer.parseInt(w[1]), Integer.parseInt(w[2])));
      case "reach" -> {
        long v = Long.parseLong(w[1]);
        yield String.valueOf(
            store
                .awaitVersion(v, WAIT)
                .toCompletableFuture()
                .get(WAIT.toSeconds(), TimeUnit.SECONDS)
                .version());
      }
      case "import" -> importAlone();
      default -> null;
    };
  }

  /** The CPU time this process used so far, every thread's, in nanoseconds. */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private ZVerseStore writerStore() {
    ZVerseStore w = writer.get();
    if (w == null) {
      throw new IllegalStateException("the writer does not run on this node");
    }
    return w;
  }

  private String load(int keys) throws Exception {
    ZVerseStore w = writerStore();
    StateTransferBenchmark.load(keys, store::write);
    byte[][] first =
        StateTransferBenchmark.nextPut(new SplittableRandom(StateTransferBenchmark.SEED));
    long writes = 0;
    while (w.snapshot().watermark() < 1) {
      await(store.write(WriteBatch.ofPut(first[0], first[1])).toCompletableFuture());
      writes++;
    }
    Snapshot s = w.snapshot();
    return s.version() + " " + s.watermark() + " " + writes;
  }

  private static long await(CompletableFuture<Long> write) throws Exception {
    return write.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private String state() throws Exception {
    Snapshot s = writerStore().snapshot();
    long start = System.nanoTime();
    SnapshotExport export = SnapshotExport.of(s, settings.chunkBytes());
    long bytes = 0;
    int chunks = 0;
    while (export.hasNext()) {
      bytes += export.next().length;
      chunks++;
    }
    long exportNanos = System.nanoTime() - start;
    return s.version()
        + " "
        + s.watermark()
        + " "
        + s.size()
        + " "
        + digest(s)
        + " "
        + bytes
        + " "
        + chunks
        + " "
        + exportNanos;
  }

  private long rewrite(int n) throws Exception {
    SplittableRandom random = new SplittableRandom(StateTransferBenchmark.SEED);
    long last = 0;
    for (int i = 0; i < n; i++) {
      byte[][] put = StateTransferBenchmark.nextPut(random);
      last = await(store.write(WriteBatch.ofPut(put[0], put[1])).toCompletableFuture());
    }
    return last;
  }

  private String caught() throws Exception {
    CompletableFuture<long[]> s = served;
    if (s == null) {
      throw new IllegalStateException("no " + CATCH_UP_TO + " in this node's configuration");
    }
    long[] servedAt = s.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    long followingAt = following.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    ReplicaStatus status = store.status();
    boolean ready =
        store.readiness().get().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    return (servedAt[0] - requestedAt)
        + " "
        + (followingAt - requestedAt)
        + " "
        + startToRequestMillis
        + " "
        + status.appliedVersion()
        + " "
        + status.catchingUp()
        + " "
        + ready
        + " "
        + status.failure().orElse("-").replace(' ', '_')
        + " "
        + (servedAt[1] - cpuAtRequest)
        + " "
        + catchingUpSeen.get();
  }

  private String digest(long version) throws NoSuchAlgorithmException {
    Snapshot s = store.snapshot();
    if (s.version() != version) {
      throw new IllegalStateException(
          "the replica is at version " + s.version() + ", not " + version);
    }
    return s.version() + " " + s.size() + " " + digest(s);
  }

  /**
   * SHA-256 of {@code s}'s live entries at its version in ascending key order, each as its key's
   * length, the key, its value's length and the value: equal digests, equal states.
   */
  static String digest(Snapshot s) throws NoSuchAlgorithmException {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    ByteBuffer lengths = ByteBuffer.allocate(4);
    for (Iterator<Entry> it = s.iterator(KeyRange.all(), Direction.FORWARD); it.hasNext(); ) {
      Entry e = it.next();
      sha.update(lengths.clear().putInt(e.key().length).array());
      sha.update(e.key());
      sha.update(lengths.clear().putInt(e.value().length).array());
      sha.update(e.value());
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private int check(int keys, int every) {
    if (every < 1) {
      throw new IllegalArgumentException("every must be at least 1, was " + every);
    }
    Snapshot s = store.snapshot();
    if (s.size() != keys) {
      throw new IllegalStateException("the replica holds " + s.size() + " keys, not " + keys);
    }
    SplittableRandom random = new SplittableRandom(StateTransferBenchmark.SEED);
    int checked = 0;
    for (int i = 0; i < keys; i++) {
      byte[][] put = StateTransferBenchmark.nextPut(random);
      if (i % every == 0) {
        // nextPut's arrays are fresh: the lookup key is a copy of the stored one, never the same.
        byte[] got = s.get(put[0]);
        if (got == null || !Arrays.equals(got, put[1])) {
          throw new IllegalStateException(
              "key "
                  + i
                  + " ("
                  + HexFormat.of().formatHex(put[0])
                  + ") holds "
                  + (got == null ? "nothing" : HexFormat.of().formatHex(got))
                  + " at version "
                  + s.version());
        }
        checked++;
      }
    }
    return checked;
  }

  private String importAlone() throws CorruptSnapshotException {
    Snapshot s = store.snapshot();
    List<byte[]> chunks = new ArrayList<>();
    SnapshotExport.of(s, settings.chunkBytes()).forEachRemaining(chunks::add);
    long start = System.nanoTime();
    SnapshotImport in = SnapshotImport.into(s);
    for (byte[] c : chunks) {
      in.accept(c);
    }
    Snapshot built = in.finish();
    long importNanos = System.nanoTime() - start;
    if (built.size() != s.size() || built.version() != s.version()) {
      throw new IllegalStateException(
          "the import built "
              + built.size()
              + " keys at version "
              + built.version()
              + " from "
              + s.size()
              + " at "
              + s.version());
    }
    long bytes = 0;
    for (byte[] c : chunks) {
      bytes += c.length;
    }
    return bytes + " " + chunks.size() + " " + importNanos;
  }
}
