package dev.zverse.cluster;

import dev.zverse.actors.PublishListener;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a replica-lag run does on the writer's node and on each replica, whether the three nodes
 * share one JVM ({@link ReplicaLagBenchmark}) or run one per process ({@link
 * SeparateJvmLagBenchmark}, {@link LagNode}): the loads, the publish stamps, the paced open-loop
 * sender, and the lag histograms (HdrHistogram, microseconds, 3 significant digits).
 *
 * <p>Every array here is indexed by {@code version - first}, {@code first} being the first version
 * of the run; a 0 means "not stamped".
 */
final class LagRun {
  /** Distinct keys the sender writes over. */
  static final int KEYS = 100_000;

  private LagRun() {}

  /**
   * One load.
   *
   * @param rate commits per second, at least 1
   * @param batch puts per commit, at least 1
   * @param seconds seconds recorded
   * @param warmup seconds sent before them, not recorded
   */
  record Load(int rate, int batch, int seconds, int warmup) {
    /** The commits the load sends. */
    int total() {
      return rate * (seconds + warmup);
    }

    /** The issue's three loads: 1,000 and 10,000 single-put commits/s, 1,000/s of 100 puts. */
    static List<Load> issue() {
      return List.of(
          new Load(1_000, 1, 20, 5), new Load(10_000, 1, 20, 5), new Load(1_000, 100, 20, 5));
    }

    /**
     * One load from {@code --rate R --batch B --seconds S --warmup W} (each optional: 1,000, 1, 20,
     * 5).
     *
     * @throws IllegalArgumentException naming an unknown option
     */
    static Load parse(List<String> args) {
      int rate = 1_000;
      int batch = 1;
      int seconds = 20;
      int warmup = 5;
      for (int i = 0; i + 1 < args.size(); i += 2) {
        int value = Integer.parseInt(args.get(i + 1));
        switch (args.get(i)) {
          case "--rate" -> rate = value;
          case "--batch" -> batch = value;
          case "--seconds" -> seconds = value;
          case "--warmup" -> warmup = value;
          default -> throw new IllegalArgumentException("unknown option " + args.get(i));
        }
      }
      return new Load(rate, batch, seconds, warmup);
    }

    /** The first version recorded, of a run whose first version is {@code first}. */
    long recordedFrom(long first) {
      return first + (long) rate * warmup;
    }
  }

  /** Stamps, for each version from a first one on, when a store published it. */
  static final class Stamps implements PublishListener {
    final long first;
    final AtomicLongArray nanos;
    private long last;

    Stamps(long first, int versions) {
      this.first = first;
      this.nanos = new AtomicLongArray(versions);
      this.last = first - 1;
    }

    @Override
    public void published(Snapshot snapshot) {
      long now = System.nanoTime();
      long v = snapshot.version();
      // Called by the store's writer only, in version order; a group commit's versions share its
      // time.
      for (long u = Math.max(last + 1, first); u <= v && u - first < nanos.length(); u++) {
        nanos.lazySet((int) (u - first), now);
      }
      last = Math.max(last, v);
    }

    @Override
    public void stopped(Snapshot last) {}

    /**
     * Waits until version {@code v} is stamped: the listener runs on the store's writer, so a
     * publish that {@code awaitVersion} already saw may still be stamping.
     */
    void awaitStamped(long v) {
      while (nanos.get((int) (v - first)) == 0) {
        Thread.onSpinWait();
      }
    }
  }

  /**
   * What the sender saw of its writes, by version: when each was meant to be sent and when its
   * answer came.
   */
  static final class Sent {
    final AtomicLongArray intended;
    final AtomicLongArray answered;
    final AtomicLong failures = new AtomicLong();
    final Map<String, Integer> kinds = new ConcurrentHashMap<>();
    long lastVersion;

    /** The wall clock (epoch ms) at the first recorded commit's send, and once all answered. */
    long recordedMillis;

    long endMillis;

    /** The hiccups of the sender's JVM in the recorded window: see {@link Hiccups}. */
    Histogram hiccups = new Histogram(3);

    Sent(int total, long first) {
      intended = new AtomicLongArray(total);
      answered = new AtomicLongArray(total);
      lastVersion = first - 1;
    }

    /**
     * The recorded window (epoch ms, to match a profile's samples with) and the failures, counted
     * by exception type.
     */
    String summary() {
      return "recorded "
          + recordedMillis
          + " to "
          + endMillis
          + " (epoch ms); hiccups p50 / p99 / p99.9 / max "
          + hiccups.getValueAtPercentile(50)
          + " / "
          + hiccups.getValueAtPercentile(99)
          + " / "
          + hiccups.getValueAtPercentile(99.9)
          + " / "
          + hiccups.getMaxValue()
          + " us; failed writes: "
          + failures.get()
          + " "
          + kinds;
    }
  }

  /**
   * Sends {@code load} through {@code on} as a paced open loop, then awaits every answer: the k-th
   * commit's intended send time is {@code start + k / rate}; the sender never waits for answers,
   * and when it falls behind it sends at once, so a stall shows in the end-to-end figures
   * (coordinated omission does not hide it). Keys are 16 bytes over {@link #KEYS}, values 100
   * bytes.
   *
   * @param load the load
   * @param on the cluster store whose {@code write} it calls (the writer's node's)
   * @param first the version the first write is expected to get
   * @return the intended and answer times by version, the failures, the highest version answered
   * @throws Exception if interrupted, or a write is not answered within 60 s
   */
  static Sent send(Load load, ClusterStore on, long first) throws Exception {
    int total = load.total();
    Sent sent = new Sent(total, first);
    byte[][] keys = new byte[KEYS][];
    SplittableRandom random = new SplittableRandom(16);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = new byte[16];
      random.nextBytes(keys[i]);
    }
    byte[] value = new byte[100];
    random.nextBytes(value);
    long period = TimeUnit.SECONDS.toNanos(1) / load.rate();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
    List<CompletionStage<Long>> stages = new ArrayList<>(total);
    int recorded = load.rate() * load.warmup();
    Hiccups hiccups = new Hiccups();
    for (int k = 0; k < total; k++) {
      long at = start + k * period;
      for (long now = System.nanoTime(); now < at; now = System.nanoTime()) {
        LockSupport.parkNanos(at - now);
      }
      if (k == recorded) {
        sent.recordedMillis = System.currentTimeMillis();
        hiccups.recorder.reset();
      }
      WriteBatch batch;
      if (load.batch() == 1) {
        batch = WriteBatch.ofPut(keys[(k * 7919) % KEYS], value);
      } else {
        WriteBatch.Builder b = WriteBatch.builder();
        for (int j = 0; j < load.batch(); j++) {
          b.put(keys[(k * load.batch() + j) % KEYS], value);
        }
        batch = b.build();
      }
      long intendedAt = at;
      stages.add(
          on.write(batch)
              .whenComplete(
                  (v, e) -> {
                    long now = System.nanoTime();
                    if (e != null) {
                      sent.failures.incrementAndGet();
                      Throwable cause = e.getCause() != null ? e.getCause() : e;
                      sent.kinds.merge(cause.getClass().getSimpleName(), 1, Integer::sum);
                    } else if (v - first < total && v >= first) {
                      sent.intended.lazySet((int) (v - first), intendedAt);
                      sent.answered.lazySet((int) (v - first), now);
                    }
                  }));
    }
    for (CompletionStage<Long> s : stages) {
      try {
        sent.lastVersion =
            Math.max(sent.lastVersion, s.toCompletableFuture().get(60, TimeUnit.SECONDS));
      } catch (ExecutionException e) {
        // Counted by the stage's own callback above.
      }
    }
    sent.endMillis = System.currentTimeMillis();
    sent.hiccups = hiccups.stop();
    return sent;
  }

  /**
   * A hiccup meter (jHiccup's idea): a thread that asks to sleep 1 ms again and again and records
   * by how much it overslept, in microseconds. What delays it, a collection's pause or a machine
   * whose cores are all busy with other work (the run queue), delays every thread of the run alike,
   * so its percentiles are the floor under the lag's on a loaded machine.
   */
  static final class Hiccups {
    private static final long SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    final Recorder recorder = new Recorder(3);
    private volatile boolean stopping;
    private final Thread thread;

    Hiccups() {
      thread = new Thread(this::run, "hiccups");
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      while (!stopping) {
        long start = System.nanoTime();
        LockSupport.parkNanos(SLEEP_NANOS);
        recorder.recordValue(Math.max(0, System.nanoTime() - start - SLEEP_NANOS) / 1000);
      }
    }

    /** Stops the meter and returns what it recorded since its recorder's last reset. */
    Histogram stop() throws InterruptedException {
      stopping = true;
      thread.join();
      return recorder.getIntervalHistogram();
    }
  }

  /**
   * One replica's figures over versions {@code [from, last]}, in microseconds.
   *
   * @param lag the writer's publish to the replica's publish
   * @param endToEnd the intended send time to the replica's publish
   * @param answer the writer's publish to the write's answer at the sender (the same for every
   *     replica: the commit's trip to {@code min-acks} replicas and their acknowledgements back)
   */
  record Figures(Histogram lag, Histogram endToEnd, Histogram answer) {
    Figures() {
      this(new Histogram(3), new Histogram(3), new Histogram(3));
    }

    /**
     * The figures of a replica's stamps {@code replica} against the writer's {@code writer} and the
     * sender's {@code intended} and {@code answered}, all indexed from {@code first}.
     */
    static Figures of(
        long first,
        long from,
        long last,
        long[] writer,
        long[] intended,
        long[] answered,
        long[] replica) {
      Figures f = new Figures();
      for (long v = from; v <= last; v++) {
        int i = (int) (v - first);
        long published = replica[i];
        long w = writer[i];
        if (published == 0 || w == 0) {
          continue;
        }
        f.lag.recordValue(Math.max(0, published - w) / 1000);
        if (intended[i] != 0) {
          f.endToEnd.recordValue(Math.max(0, published - intended[i]) / 1000);
          f.answer.recordValue(Math.max(0, answered[i] - w) / 1000);
        }
      }
      return f;
    }

    /** Adds {@code other}'s values to these. */
    void add(Figures other) {
      lag.add(other.lag);
      endToEnd.add(other.endToEnd);
      answer.add(other.answer);
    }

    /** The three histograms in HdrHistogram's compressed encoding, Base64, space-separated. */
    String encode() {
      return encode(lag) + " " + encode(endToEnd) + " " + encode(answer);
    }

    /** {@code h} in HdrHistogram's compressed encoding, Base64. */
    static String encode(Histogram h) {
      ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
      int length = h.encodeIntoCompressedByteBuffer(buffer);
      byte[] bytes = new byte[length];
      buffer.flip();
      buffer.get(bytes);
      return Base64.getEncoder().encodeToString(bytes);
    }

    /**
     * The figures {@link #encode} wrote.
     *
     * @throws DataFormatException if a histogram's encoding is damaged
     */
    static Figures decode(String encoded) throws DataFormatException {
      String[] parts = encoded.trim().split(" ");
      if (parts.length != 3) {
        throw new IllegalArgumentException("expected 3 encoded histograms, got " + parts.length);
      }
      return new Figures(decode1(parts[0]), decode1(parts[1]), decode1(parts[2]));
    }

    /**
     * The histogram {@link #encode(Histogram)} wrote.
     *
     * @throws DataFormatException if the encoding is damaged
     */
    static Histogram decode1(String part) throws DataFormatException {
      return Histogram.decodeFromCompressedByteBuffer(
          ByteBuffer.wrap(Base64.getDecoder().decode(part)), 0);
    }
  }

  /** The heading of {@link #print}'s table. */
  static final String HEADING =
      "replica         | lag p50 / p99 / p99.9 / max (us)  | end-to-end p50 / p99 / p99.9 / max"
          + "  | answer p50 / p99";

  /** Prints the heading of a load's table. */
  static void printLoad(Load load, long first, long lastVersion, String summary) {
    System.out.printf(
        "%nload: %,d commits/s of %d put(s), %d s recorded after %d s warmup; versions %d to %d;"
            + " %s%n",
        load.rate(),
        load.batch(),
        load.seconds(),
        load.warmup(),
        load.recordedFrom(first),
        lastVersion,
        summary);
    System.out.println(HEADING);
  }

  /** Prints one row of a load's table. */
  static void print(String who, Figures f) {
    System.out.printf(
        "%s | %,7d / %,7d / %,7d / %,9d | %,7d / %,7d / %,7d / %,9d | %,7d / %,7d  (%d versions)%n",
        who,
        f.lag.getValueAtPercentile(50),
        f.lag.getValueAtPercentile(99),
        f.lag.getValueAtPercentile(99.9),
        f.lag.getMaxValue(),
        f.endToEnd.getValueAtPercentile(50),
        f.endToEnd.getValueAtPercentile(99),
        f.endToEnd.getValueAtPercentile(99.9),
        f.endToEnd.getMaxValue(),
        f.answer.getValueAtPercentile(50),
        f.answer.getValueAtPercentile(99),
        f.lag.getTotalCount());
  }

  /** {@code stamps} as a plain array. */
  static long[] toArray(AtomicLongArray stamps) {
    long[] a = new long[stamps.length()];
    for (int i = 0; i < a.length; i++) {
      a[i] = stamps.get(i);
    }
    return a;
  }

  /** Writes {@code arrays}, each of the same length, to {@code file}: the length, then each. */
  static void write(Path file, long[]... arrays) throws IOException {
    int n = arrays.length == 0 ? 0 : arrays[0].length;
    ByteBuffer b = ByteBuffer.allocate(8 + 8 * n * arrays.length);
    b.putInt(arrays.length).putInt(n);
    for (long[] a : arrays) {
      b.asLongBuffer().put(a);
      b.position(b.position() + 8 * n);
    }
    Files.write(file, b.array());
  }

  /** The arrays {@link #write} wrote to {@code file}. */
  static long[][] read(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
    long[][] arrays = new long[b.getInt()][];
    int n = b.getInt();
    for (int j = 0; j < arrays.length; j++) {
      arrays[j] = new long[n];
      b.asLongBuffer().get(arrays[j]);
      b.position(b.position() + 8 * n);
    }
    return arrays;
  }
}
