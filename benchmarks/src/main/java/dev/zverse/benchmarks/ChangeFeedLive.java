package dev.zverse.benchmarks;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.WriteBatch;
import dev.zverse.streams.ChangeFeed;
import dev.zverse.streams.ChangeFeedOptions;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * A harness (not JMH: it measures two threads' interplay over seconds, and latencies) for live
 * change feeds.
 *
 * <ol>
 *   <li><b>Live throughput.</b> A feed from now into a counting {@code Sink.foreach}, while one
 *       writer thread commits pre-built batches of {@code batch} puts (1, 100 and 1,000) flat out,
 *       with up to 64 writes in flight. Reports changes committed and changes delivered per second
 *       over the measured window (after a warm-up), and the feed's lag at the end.
 *   <li><b>Commit-to-delivery latency.</b> One writer thread commits single puts at a steady rate
 *       (1,000, 10,000 and 50,000 commits/s), each value stamped with the {@code System.nanoTime()}
 *       at which the put was <em>due</em> (so a stalled writer counts against the latency: no
 *       coordinated omission). The feed's consumer records now minus the stamp in an HdrHistogram:
 *       the time from asking for the write to the feed delivering it, which includes the write's
 *       group commit, so it bounds commit-to-delivery from above. Reports p50, p99, p99.9, max.
 * </ol>
 *
 * <p>Keys: 10,000 distinct 16-byte keys; values 100 bytes. One store with default settings
 * (retention 1,000 versions), in its own actor system; the feed's lag limit is {@value #MAX_LAG}
 * versions, so its pin holds whatever it has not read (by default a feed holds nothing past
 * retention).
 *
 * <p>Run: {@code java -Xms2g -Xmx2g -cp benchmarks/target/benchmarks.jar
 * dev.zverse.benchmarks.ChangeFeedLive [seconds per measurement, default 10]}.
 */
public final class ChangeFeedLive {
  private static final int KEYS = 10_000;
  private static final int WINDOW = 64;

  /**
   * The feeds' lag limit: far above what a run commits, so a lagging feed is measured, not failed.
   */
  private static final long MAX_LAG = 100_000_000;

  private ChangeFeedLive() {}

  /**
   * Runs the measurements and prints their results.
   *
   * @param args optional: seconds per measurement
   */
  public static void main(String[] args) {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    System.out.printf(
        "cores: %d, measured window: %d s per case%n",
        Runtime.getRuntime().availableProcessors(), seconds);
    Dataset data = Dataset.create(KEYS);
    for (int batch : new int[] {1, 100, 1_000}) {
      liveThroughput(data, batch, seconds);
    }
    for (int rate : new int[] {1_000, 10_000, 50_000}) {
      latency(data, rate, seconds);
    }
    System.exit(0);
  }

  private static ActorSystem<Void> system() {
    return ActorSystem.create(Behaviors.empty(), "live");
  }

  private static void liveThroughput(Dataset data, int batch, int seconds) {
    ActorSystem<Void> system = system();
    ZVerseStore store =
        ZVerseStore.open(
            system, "live", StoreSettings.create(system, "live").withMaxPendingWrites(100_000));
    AtomicLong delivered = new AtomicLong();
    CompletableFuture<Done> done =
        ChangeFeed.commits(store, ChangeFeedOptions.fromNow().withMaxLag(MAX_LAG))
            .runWith(Sink.foreach(c -> delivered.addAndGet(c.size())), system)
            .toCompletableFuture();
    ArrayDeque<CompletableFuture<Long>> window = new ArrayDeque<>();
    long committed = 0;
    long committedAtStart = -1;
    long deliveredAtStart = -1;
    // Batches built before the clock starts: the writer thread only sends.
    WriteBatch[] batches = new WriteBatch[Math.max(1, KEYS / batch)];
    for (int n = 0, k = 0; n < batches.length; n++) {
      WriteBatch.Builder b = WriteBatch.builder();
      for (int i = 0; i < batch; i++, k++) {
        int key = k % KEYS;
        b.put(data.key(key), data.value(key, k));
      }
      batches[n] = b.build();
    }
    long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    long end = warmupEnd + TimeUnit.SECONDS.toNanos(seconds);
    for (int n = 0; ; n++) {
      long now = System.nanoTime();
      if (committedAtStart < 0 && now >= warmupEnd) {
        committedAtStart = committed;
        deliveredAtStart = delivered.get();
      }
      if (now >= end) {
        break;
      }
      window.add(store.write(batches[n % batches.length]).toCompletableFuture());
      if (window.size() >= WINDOW) {
        window.poll().join();
        committed += batch;
      }
    }
    long deliveredAtEnd = delivered.get();
    long version = store.version();
    double secs = seconds;
    System.out.printf(
        "live, %3d puts/commit: committed %,12.0f changes/s, delivered %,12.0f changes/s (%.2fx), feed lag at end %,d versions%n",
        batch,
        (committed - committedAtStart) / secs,
        (deliveredAtEnd - deliveredAtStart) / secs,
        (double) (deliveredAtEnd - deliveredAtStart) / Math.max(1, committed - committedAtStart),
        version - (deliveredAtEnd / batch));
    window.forEach(CompletableFuture::join);
    store.close().toCompletableFuture().join();
    done.join();
    system.terminate();
  }

  private static void latency(Dataset data, int rate, int seconds) {
    ActorSystem<Void> system = system();
    ZVerseStore store =
        ZVerseStore.open(system, "latency", StoreSettings.create(system, "latency"));
    Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    CompletableFuture<Done> done =
        ChangeFeed.commits(store, ChangeFeedOptions.fromNow().withMaxLag(MAX_LAG))
            .runWith(
                Sink.foreach(
                    (CommitRecord c) -> {
                      long now = System.nanoTime();
                      for (Change ch : c.changes()) {
                        ByteBuffer value = ch.valueBuffer();
                        if (value == null) {
                          continue; // the writers only put: no delete to time
                        }
                        long due = value.getLong(0);
                        if (due >= warmupEnd) {
                          histogram.recordValue(Math.max(0, now - due));
                        }
                      }
                    }),
                system)
            .toCompletableFuture();
    long interval = TimeUnit.SECONDS.toNanos(1) / rate;
    long start = System.nanoTime();
    long end = warmupEnd + TimeUnit.SECONDS.toNanos(seconds);
    ArrayDeque<CompletableFuture<Long>> window = new ArrayDeque<>();
    byte[] value = data.value(0, 0);
    for (long i = 0; ; i++) {
      long due = start + i * interval;
      if (due >= end) {
        break;
      }
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        if (wait > 50_000) {
          LockSupport.parkNanos(wait - 20_000);
        } else {
          Thread.onSpinWait();
        }
      }
      byte[] v = value.clone();
      ByteBuffer.wrap(v).putLong(0, due);
      window.add(store.put(data.key((int) (i % KEYS)), v).toCompletableFuture());
      while (window.size() > WINDOW || (!window.isEmpty() && window.peek().isDone())) {
        window.poll().join();
      }
    }
    window.forEach(CompletableFuture::join);
    store.close().toCompletableFuture().join();
    done.join();
    system.terminate();
    System.out.printf(
        "latency at %,6d commits/s: %,d samples, p50 %7.1f us, p99 %8.1f us, p99.9 %8.1f us, max %9.1f us%n",
        rate,
        histogram.getTotalCount(),
        histogram.getValueAtPercentile(50) / 1e3,
        histogram.getValueAtPercentile(99) / 1e3,
        histogram.getValueAtPercentile(99.9) / 1e3,
        histogram.getMaxValue() / 1e3);
  }
}
