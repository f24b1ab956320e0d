package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.ZIndexStats;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The figures of one store an operator watches: what the JMX bean ({@link StoreMBean}) and the
 * Micrometer binder ({@code dev.zverse.metrics}) expose, read from here.
 *
 * <h2>Design</h2>
 *
 * Two kinds of figure. <em>Gauges</em> are read when asked, from the state the store keeps anyway
 * (the published snapshot, the pins, the write gate, the publish listeners): they cost the write
 * path nothing. <em>Recorded</em> figures (counters and {@link Histogram}s) are added to where the
 * event happens: the writer once per published group, a caller once per refused write, the log
 * thread once per logged group, the checkpoint thread once per checkpoint. Recording takes no lock
 * and allocates nothing. Each figure recorded on those paths has one recording thread at a time
 * (the WriterActor, whose messages order its records; the log thread; the checkpoint thread), so a
 * record is a plain read and an opaque write of a {@code long}, with no atomic read-modify-write:
 * {@code MetricsRecordingBenchmark} measured the atomic version (a {@link LongAdder} per counter,
 * an atomic add per bucket, a CAS for the maximum) at several times the cost. Refusals, counted by
 * whichever thread is refused, and the rare failures keep a {@link LongAdder}.
 *
 * <p>Thread-safe: every method may be called from any thread; a figure read while the store works
 * is a recent value, and two figures read one after the other need not agree.
 */
public final class StoreMetrics {
  /**
   * Whether the store's paths record their figures: on unless the JVM runs with {@code
   * -Dzverse.store.metrics.enabled=false}, read once when this class loads. Off exists to measure
   * what recording costs ({@code StoreBenchmark}'s {@code metrics} parameter): the recorded figures
   * then stay zero (the gauges still read the store, and {@link #answeredWrites()}, which {@link
   * StoreHealth}'s liveness needs, is counted either way).
   */
  static final boolean RECORDING =
      !"false".equalsIgnoreCase(System.getProperty("zverse.store.metrics.enabled"));

  private final String storeName;
  private final StoreSettings settings;
  private final Root root;
  private final Pins pins;
  private final WriteGate gate;

  /** The durable log's figures; null for a memory-only store. */
  private final @Nullable Journal journal;

  StoreMetrics(
      String storeName,
      StoreSettings settings,
      Root root,
      Pins pins,
      WriteGate gate,
      @Nullable Journal journal) {
    this.storeName = storeName;
    this.settings = settings;
    this.root = root;
    this.pins = pins;
    this.gate = gate;
    this.journal = journal;
  }

  /** The store's name. */
  public String storeName() {
    return storeName;
  }

  /** Whether the store is durable: the log, checkpoint and recovery figures are zero if not. */
  public boolean durable() {
    return journal != null;
  }

  // ---------------------------------------------------------------- versions and pins

  /** The version of the latest published snapshot. */
  public long version() {
    return root.snapshotAcquire().version();
  }

  /** The oldest version the latest snapshot can read. */
  public long watermark() {
    return root.snapshotAcquire().watermark();
  }

  /** How many versions the latest snapshot can read: {@code version - watermark + 1}. */
  public long retainedVersions() {
    Snapshot s = root.snapshotAcquire();
    return s.version() - s.watermark() + 1;
  }

  /** Open pins: read transactions and change-feed cursors, one each. */
  public int pins() {
    int n = 0;
    for (Iterator<Pins.Pin> it = pins.iterator(); it.hasNext(); it.next()) {
      n++;
    }
    return n;
  }

  /** How long the oldest open pin has been open, by the store's clock; zero when none is. */
  public Duration oldestPinAge() {
    long now = pins.clockMillis();
    long oldest = Long.MAX_VALUE;
    for (Iterator<Pins.Pin> it = pins.iterator(); it.hasNext(); ) {
      oldest = Math.min(oldest, it.next().openedMillis);
    }
    return oldest == Long.MAX_VALUE ? Duration.ZERO : Duration.ofMillis(Math.max(0, now - oldest));
  }

  /**
   * How many versions the furthest-behind pin lags the latest: {@code version} minus the oldest
   * pinned version; zero when nothing is pinned. A change feed pins its cursor, so this is the lag
   * of the slowest feed (or of the oldest read transaction).
   */
  public long oldestPinLag() {
    long oldest = Long.MAX_VALUE;
    for (Iterator<Pins.Pin> it = pins.iterator(); it.hasNext(); ) {
      oldest = Math.min(oldest, it.next().version);
    }
    return oldest == Long.MAX_VALUE ? 0 : Math.max(0, version() - oldest);
  }

  /** Change feeds (and other publish listeners) registered with the store now. */
  public int changeFeeds() {
    return root.listeners().size();
  }

  // ---------------------------------------------------------------- writes

  /** Writes committed since the store opened (each batch once, in groups of one publish). */
  public long writes() {
    return gate.metrics().writes.sum();
  }

  /** Writes applied on their caller's thread (caller-runs), for tests. */
  long callerRunWrites() {
    return gate.metrics().callerRuns.sum();
  }

  /** Times a caller handed the writer's state to the waiting WriterActor, for tests. */
  long handOvers() {
    return gate.metrics().handOvers.sum();
  }

  /** Writes answered since the store opened, committed or not: the writer's progress. */
  public long answeredWrites() {
    return gate.metrics().answered.sum();
  }

  /** Groups published since the store opened: each is one publish (and one log record). */
  public long groups() {
    return gate.metrics().groupWrites.count();
  }

  /** Writes per published group: how well group commit batches. */
  public Histogram groupWrites() {
    return gate.metrics().groupWrites;
  }

  /**
   * Commit latency per published group, in nanoseconds: from the writer taking the group's first
   * write to answering the group (its log record forced, if durable). Every write of the group
   * waited inside the writer at most that long.
   */
  public Histogram commitNanos() {
    return gate.metrics().commitNanos;
  }

  /** Writes sent and not yet answered, at this moment. */
  public int pendingWrites() {
    return gate.pending();
  }

  /** The bound on {@link #pendingWrites()}: {@code writer.max-pending-writes}. */
  public int maxPendingWrites() {
    return settings.maxPendingWrites();
  }

  /** Writes refused with {@link StoreOverloadedException} since the store opened. */
  public long overloadRefusals() {
    return gate.metrics().overloads.sum();
  }

  // ---------------------------------------------------------------- durability

  /**
   * Append-and-force time per logged group, in nanoseconds (the fsync, under {@code sync =
   * every-commit}); empty for a memory-only store.
   */
  public Histogram logNanos() {
    return journal == null ? Histogram.EMPTY : journal.metrics().logNanos;
  }

  /** Failed appends and forces of the log: the first one fails the store. */
  public long logFailures() {
    return journal == null ? 0 : journal.metrics().logFailures.sum();
  }

  /** Checkpoint time, in nanoseconds, per checkpoint written; empty for a memory-only store. */
  public Histogram checkpointNanos() {
    return journal == null ? Histogram.EMPTY : journal.metrics().checkpointNanos;
  }

  /** Checkpoints that failed (the log stays usable); zero for a memory-only store. */
  public long checkpointFailures() {
    return journal == null ? 0 : journal.metrics().checkpointFailures.sum();
  }

  /** The size of the last checkpoint written, in bytes; zero before the first. */
  public long lastCheckpointBytes() {
    return journal == null ? 0 : journal.metrics().lastCheckpointBytes.get();
  }

  /** How long opening took to recover the data directory; zero for a memory-only store. */
  public Duration recoveryTime() {
    return journal == null ? Duration.ZERO : Duration.ofNanos(journal.metrics().recoveryNanos);
  }

  // ---------------------------------------------------------------- memory and index

  /** The engine's estimate of the heap the latest snapshot holds, in bytes. */
  public long heapBytes() {
    return root.snapshotAcquire().stats().approximateBytes();
  }

  /** Sealed Z-index segments of the latest snapshot; zero if the Z-index is off. */
  public int zIndexSegments() {
    return root.snapshotAcquire().indexStats().segments();
  }

  /**
   * The Z-index's sealing lag: changes committed after the last sealed segment, which its queries
   * walk directly; zero if the Z-index is off.
   */
  public long zIndexUnsealedChanges() {
    ZIndexStats z = root.snapshotAcquire().indexStats();
    return z.unsealedChanges();
  }

  @Override
  public String toString() {
    return "StoreMetrics[" + storeName + "]";
  }

  // ---------------------------------------------------------------- recording

  /**
   * A count with one recording thread at a time, each add happening-before the next (an actor's
   * messages, a single-thread executor), read from any thread: an add is a plain read and an opaque
   * write, no atomic read-modify-write. A reader sees a recent value, never a torn one.
   */
  static final class Counter {
    private static final VarHandle VALUE;

    static {
      try {
        VALUE = MethodHandles.lookup().findVarHandle(Counter.class, "value", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    /** Written by the recording thread only (opaque); read opaque by any thread. */
    private long value;

    /** Adds {@code n}. Recording thread only. */
    void add(long n) {
      VALUE.setOpaque(this, value + n);
    }

    /** The count: a recent value. Any thread. */
    long sum() {
      return (long) VALUE.getOpaque(this);
    }
  }

  /** The figures the write path records: owned by the store's {@link WriteGate}. */
  static final class WriteRecorder {
    /** Writer only, as {@link #published} is. */
    final Counter writes = new Counter();

    /**
     * Writes answered, committed or not: the writer's progress, for {@link StoreHealth}. Writer
     * only ({@link WriteGate#answered}).
     */
    final Counter answered = new Counter();

    final LongAdder overloads = new LongAdder();

    /** Writes applied on their caller's thread (caller-runs). Owner of the writer's state only. */
    final Counter callerRuns = new Counter();

    /** Times a caller handed the writer's state to a waiting WriterActor. Any thread. */
    final LongAdder handOvers = new LongAdder();

    final Histogram groupWrites = new Histogram();
    final Histogram commitNanos = new Histogram();

    /** Writer only: a group of {@code n} writes, opened {@code nanos} ago, was published. */
    void published(int n, long nanos) {
      if (!RECORDING) {
        return;
      }
      writes.add(n);
      groupWrites.record(n);
      commitNanos.record(nanos);
    }
  }

  /** The figures the durable log records: owned by the store's {@link Journal}. */
  static final class LogRecorder {
    final Histogram logNanos = new Histogram();
    final LongAdder logFailures = new LongAdder();
    final Histogram checkpointNanos = new Histogram();
    final LongAdder checkpointFailures = new LongAdder();
    final AtomicLong lastCheckpointBytes = new AtomicLong();

    /** Set once, before the store is published to any other thread (a final field holds it). */
    final long recoveryNanos;

    LogRecorder(long recoveryNanos) {
      this.recoveryNanos = recoveryNanos;
    }
  }

  /**
   * A histogram of non-negative longs in 64 power-of-two buckets: bucket {@code i} counts the
   * values in [2^(i-1), 2^i - 1] (bucket 0 counts zeros), so a recorded value is known within a
   * factor of two. Recording takes no lock, no atomic read-modify-write and allocates nothing.
   *
   * <p>One recording thread at a time: each {@link #record} must happen-before the next (the
   * WriterActor's messages, the log thread, the checkpoint thread each record their own
   * histograms). Reading is thread-safe: every field is written and read opaque, so a reading taken
   * while values are recorded sees recent values, never torn ones; it may miss the newest ones, and
   * its count, sum and buckets need not agree exactly.
   */
  public static final class Histogram {
    /** A histogram of a figure the store does not have (the log of a memory-only store). */
    static final Histogram EMPTY = new Histogram();

    /** The number of buckets. */
    public static final int BUCKETS = 64;

    private static final VarHandle BUCKET = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle COUNT;
    private static final VarHandle SUM;
    private static final VarHandle MAX;

    static {
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        COUNT = lookup.findVarHandle(Histogram.class, "count", long.class);
        SUM = lookup.findVarHandle(Histogram.class, "sum", long.class);
        MAX = lookup.findVarHandle(Histogram.class, "max", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    // Written by the recording thread only, with opaque writes; read opaque by any thread. The
    // recording thread reads its own writes plainly: each record happens-before the next.
    private final long[] buckets = new long[BUCKETS];
    private long count;
    private long sum;
    private long max;

    Histogram() {}

    /**
     * Records {@code value}; a negative value (a clock stepped back) counts as zero. Recording
     * thread only.
     */
    void record(long value) {
      if (!RECORDING) {
        return;
      }
      long v = Math.max(0, value);
      int b = bucketOf(v);
      BUCKET.setOpaque(buckets, b, buckets[b] + 1);
      COUNT.setOpaque(this, count + 1);
      SUM.setOpaque(this, sum + v);
      if (v > max) {
        MAX.setOpaque(this, v);
      }
    }

    private long bucketOpaque(int i) {
      return (long) BUCKET.getOpaque(buckets, i);
    }

    private static int bucketOf(long v) {
      return Math.min(BUCKETS - 1, BUCKETS - Long.numberOfLeadingZeros(v));
    }

    /** Values recorded. */
    public long count() {
      return (long) COUNT.getOpaque(this);
    }

    /** The sum of the values recorded. */
    public long sum() {
      return (long) SUM.getOpaque(this);
    }

    /** The largest value recorded; zero if none was. */
    public long max() {
      return (long) MAX.getOpaque(this);
    }

    /** The mean of the values recorded; zero if none was. */
    public double mean() {
      long n = count();
      return n == 0 ? 0 : (double) sum() / n;
    }

    /**
     * Values recorded in bucket {@code i}.
     *
     * @param i a bucket in [0, {@value #BUCKETS}): bucket {@code i} holds [2^(i-1), 2^i - 1]
     * @return the count of bucket {@code i}
     * @throws IllegalArgumentException if {@code i} is out of bounds
     */
    public long bucketCount(int i) {
      if (i < 0 || i >= BUCKETS) {
        throw new IllegalArgumentException("i must be in [0, " + (BUCKETS - 1) + "], was " + i);
      }
      return bucketOpaque(i);
    }

    /**
     * An upper bound of the {@code q}-quantile of the values recorded: the top of the bucket where
     * it falls, capped by the maximum.
     *
     * @param q the quantile, in [0, 1]
     * @return the bound; zero if nothing was recorded
     * @throws IllegalArgumentException if {@code q} is not in [0, 1]
     */
    public long quantileUpperBound(double q) {
      if (!(q >= 0 && q <= 1)) {
        throw new IllegalArgumentException("q must be in [0, 1], was " + q);
      }
      long total = 0;
      for (int i = 0; i < BUCKETS; i++) {
        total += bucketOpaque(i);
      }
      long rank = (long) Math.ceil(q * total);
      long seen = 0;
      for (int i = 0; i < BUCKETS; i++) {
        seen += bucketOpaque(i);
        if (seen >= rank && seen > 0) {
          long top = i == 0 ? 0 : i >= 63 ? Long.MAX_VALUE : (1L << i) - 1;
          return Math.min(top, max());
        }
      }
      return 0;
    }

    @Override
    public String toString() {
      return "Histogram[count=" + count() + ", mean=" + mean() + ", max=" + max() + "]";
    }
  }
}
