package dev.zverse.examples;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.WriteBatch;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * The demo that the README's first command runs: the benchmark table of the seed (the Rust design
 * document ZVerse started from) measured on this store, printed beside the seed's own figures.
 *
 * <p>It opens a {@link ZVerseStore} in an actor system, as an application would, loads it with
 * {@value #DEFAULT_KEYS} keys of 12 bytes with 100-byte values, warms up, and then measures each
 * row of the seed's table for a fixed time: single-threaded gets and puts, the time of a get of an
 * existing and of a missing key, 8 reader threads, 4 writer threads, 8 readers and 4 writers at
 * once, and the heap per entry. Gets read the latest snapshot without any message or lock; each put
 * waits until it is committed (the seed's puts return once committed too): on its own thread when
 * the writer is idle ({@code writer.caller-runs}, the default), else by the WriterActor's group
 * commit. It prints a progress line per step and finishes in about 25 seconds.
 *
 * <p>The figures are a quick indication from one short run on whatever machine runs it, not a
 * benchmark: {@code benchmarks/README.md} describes the JMH benchmarks, which race the store
 * against its peers in the same run.
 *
 * <p>One class, because it is one script a reader follows top to bottom: its options, the
 * measurement of each row of the seed's table, and the table it prints.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec}, with {@code
 * -Dzverse.args="--keys 1000000 --seconds 5"} to change the data set or the time per row.
 */
public final class Demo {
  /** Keys loaded by default. */
  public static final int DEFAULT_KEYS = 100_000;

  /** Bytes of each value. */
  public static final int VALUE_BYTES = 100;

  private static final int KEY_BYTES = 12; // "key-%08d"
  private static final int PROBES = 1 << 16;
  private static final int VALUES = 1 << 10;
  private static final int LOAD_BATCH = 1_000;
  private static final int READERS = 8;
  private static final int WRITERS = 4;

  /** Keeps results of reads alive, so the JIT cannot drop the reads. */
  private static final AtomicLong SINK = new AtomicLong();

  private Demo() {}

  /**
   * What to measure.
   *
   * @param keys keys loaded before measuring, in [1,000, 10,000,000]
   * @param phase how long each row is measured, at least 10 ms
   * @param warmup how long the store is exercised before measuring, at least 0
   */
  public record Options(int keys, Duration phase, Duration warmup) {
    /**
     * @throws NullPointerException if a duration is null
     * @throws IllegalArgumentException if a value is out of its bounds
     */
    public Options {
      if (keys < 1_000 || keys > 10_000_000) {
        throw new IllegalArgumentException("keys must be in [1000, 10000000], was " + keys);
      }
      Objects.requireNonNull(phase, "phase");
      Objects.requireNonNull(warmup, "warmup");
      if (phase.toMillis() < 10) {
        throw new IllegalArgumentException("phase must be at least 10 ms, was " + phase);
      }
      if (warmup.isNegative()) {
        throw new IllegalArgumentException("warmup must not be negative, was " + warmup);
      }
    }

    /** The defaults: {@value #DEFAULT_KEYS} keys, 2 seconds per row, 3 seconds of warm-up. */
    public static Options defaults() {
      return new Options(DEFAULT_KEYS, Duration.ofSeconds(2), Duration.ofSeconds(3));
    }

    /**
     * Options from command-line arguments: {@code --keys N}, {@code --seconds S} (per row; the
     * warm-up takes 1.5 times as long), each optional.
     *
     * @param args the arguments
     * @return the options
     * @throws IllegalArgumentException naming an unknown or malformed argument
     */
    public static Options parse(String... args) {
      Options o = defaults();
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (i + 1 >= args.length || !(arg.equals("--keys") || arg.equals("--seconds"))) {
          throw new IllegalArgumentException(
              "arguments are --keys N and --seconds S (per row), was \""
                  + String.join(" ", args)
                  + "\"");
        }
        String value = args[++i];
        try {
          if (arg.equals("--keys")) {
            o = new Options(Integer.parseInt(value), o.phase(), o.warmup());
          } else {
            Duration phase = Duration.ofMillis(Math.round(Double.parseDouble(value) * 1_000));
            o = new Options(o.keys(), phase, phase.multipliedBy(3).dividedBy(2));
          }
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(arg + " takes a number, was \"" + value + "\"", e);
        }
      }
      return o;
    }
  }

  /**
   * One row of the table.
   *
   * @param operation what was measured
   * @param unit the unit of both figures
   * @param seed the seed's figure
   * @param zverse this store's figure
   * @param higherIsBetter whether a higher figure is better (throughput) or worse (time, bytes)
   */
  public record Row(
      String operation, String unit, double seed, double zverse, boolean higherIsBetter) {
    /** How many times better ZVerse's figure is than the seed's: above 1 better, below 1 worse. */
    public double ratio() {
      return higherIsBetter ? zverse / seed : seed / zverse;
    }
  }

  // The seed's figures ("Benchmark Results (Release Mode)" and "Memory Usage").
  private static final double SEED_READS = 54_715;
  private static final double SEED_WRITES = 5_514;
  private static final double SEED_GET_EXISTING_MICROS = 48;
  private static final double SEED_GET_MISSING_MICROS = 35;
  private static final double SEED_READERS = 319_086;
  private static final double SEED_WRITERS = 1_986;
  private static final double SEED_MIXED = 4_139;
  private static final double SEED_BYTES_PER_ENTRY = 150;

  /**
   * Runs the demo with the options of the command line (see {@link Options#parse}).
   *
   * @param args {@code --keys N}, {@code --seconds S}, each optional
   */
  public static void main(String[] args) {
    LoggerFactory
        .getILoggerFactory(); // logging set up on this thread first, before Pekko's threads log
    run(System.out, Options.parse(args));
  }

  /**
   * Measures every row, printing progress and then the table, in an actor system of its own that it
   * terminates at the end.
   *
   * @param out where the demo prints
   * @param options what to measure
   * @return the rows of the table
   */
  public static List<Row> run(PrintStream out, Options options) {
    Runtime rt = Runtime.getRuntime();
    out.println("ZVerse demo: the seed's benchmark table, measured on this store");
    out.printf(
        Locale.ROOT,
        "machine: %d cores, Java %s (%s), max heap %s%n",
        rt.availableProcessors(),
        Runtime.version(),
        System.getProperty("java.vm.name"),
        mib(rt.maxMemory()));
    out.printf(
        Locale.ROOT,
        "store: a ZVerseStore with default settings in an ActorSystem, %,d keys of %d bytes"
            + " with %d-byte values; %s per row%n%n",
        options.keys(),
        KEY_BYTES,
        VALUE_BYTES,
        seconds(options.phase()));

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "zverse-demo");
    try {
      ZVerseStore store = ZVerseStore.open(system, "demo");
      List<Row> rows = measure(out, store, options);
      store.close().toCompletableFuture().join();
      printTable(out, rows, options);
      return rows;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private static List<Row> measure(PrintStream out, ZVerseStore store, Options options) {
    Data data = new Data(options.keys());
    Duration phase = options.phase();
    List<Row> rows = new ArrayList<>();
    int steps = 9;

    step(out, 1, steps, "loading %,d keys in batches of %,d", options.keys(), LOAD_BATCH);
    long before = usedHeapAfterGc();
    long start = System.nanoTime();
    load(store, data);
    awaitIndex(store);
    double loadSeconds = (System.nanoTime() - start) / 1e9;
    long after = usedHeapAfterGc();
    done(out, "%.1f s, version %d", loadSeconds, store.version());
    double perEntry = (double) (after - before) / options.keys() - KEY_BYTES - VALUE_BYTES;

    step(out, 2, steps, "warming up for %s", seconds(options.warmup()));
    long until = System.nanoTime() + options.warmup().toNanos();
    Counter warm = new Counter(0);
    while (System.nanoTime() < until) {
      for (int i = 0; i < 1_000; i++) {
        SINK.addAndGet(length(store.get(data.existing(i + warm.next()))));
        store.get(data.missing(i));
      }
      store.put(data.existing(warm.next()), data.value(warm.next())).toCompletableFuture().join();
    }
    done(out, "done");

    step(out, 3, steps, "single-threaded reads");
    double reads = threads(phase, 1, 0, data, store).total();
    rows.add(done(out, new Row("single-threaded reads", "ops/s", SEED_READS, reads, true)));

    step(out, 4, steps, "single-threaded writes, each waiting for its commit");
    double writes = threads(phase, 0, 1, data, store).total();
    rows.add(done(out, new Row("single-threaded writes", "ops/s", SEED_WRITES, writes, true)));

    step(out, 5, steps, "get of an existing key");
    double existing = 1e6 / threads(phase, 1, 0, data, store).total();
    rows.add(
        done(out, new Row("get, existing key", "µs", SEED_GET_EXISTING_MICROS, existing, false)));

    step(out, 6, steps, "get of a missing key");
    double missing = 1e6 / timeMissing(phase, data, store);
    rows.add(done(out, new Row("get, missing key", "µs", SEED_GET_MISSING_MICROS, missing, false)));

    step(out, 7, steps, "%d reader threads", READERS);
    double readers = threads(phase, READERS, 0, data, store).total();
    rows.add(
        done(out, new Row(READERS + " concurrent readers", "ops/s", SEED_READERS, readers, true)));

    step(out, 8, steps, "%d writer threads", WRITERS);
    double writers = threads(phase, 0, WRITERS, data, store).total();
    rows.add(
        done(out, new Row(WRITERS + " concurrent writers", "ops/s", SEED_WRITERS, writers, true)));

    step(out, 9, steps, "mixed: %d readers and %d writers at once", READERS, WRITERS);
    Rates mixed = threads(phase, READERS, WRITERS, data, store);
    out.printf(
        Locale.ROOT, "(%s reads/s + %s writes/s) ", count(mixed.reads()), count(mixed.writes()));
    rows.add(done(out, new Row("mixed workload", "ops/s", SEED_MIXED, mixed.total(), true)));

    rows.add(new Row("memory per entry", "bytes", SEED_BYTES_PER_ENTRY, perEntry, false));
    out.println();
    return rows;
  }

  // ---------------------------------------------------------------- workloads

  /** Operations per second of a phase, reads and writes apart. */
  private record Rates(double reads, double writes) {
    double total() {
      return reads + writes;
    }
  }

  /**
   * Runs {@code readers} threads getting existing keys and {@code writers} threads putting existing
   * keys (each put awaited) for {@code phase}, all at once, and returns their rates.
   */
  private static Rates threads(
      Duration phase, int readers, int writers, Data data, ZVerseStore store) {
    AtomicLong reads = new AtomicLong();
    AtomicLong writes = new AtomicLong();
    CountDownLatch ready = new CountDownLatch(readers + writers);
    CountDownLatch go = new CountDownLatch(1);
    StopFlag stop = new StopFlag();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < readers + writers; t++) {
      boolean writer = t >= readers;
      Counter c = new Counter(t * (PROBES / 16));
      threads.add(
          new Thread(
              () -> {
                ready.countDown();
                awaitQuietly(go);
                long ops = 0;
                long sink = 0;
                if (writer) {
                  while (!stop.stopped) {
                    store
                        .put(data.existing(c.next()), data.value(c.next()))
                        .toCompletableFuture()
                        .join();
                    ops++;
                  }
                  writes.addAndGet(ops);
                } else {
                  while (!stop.stopped) {
                    sink += length(store.get(data.existing(c.next())));
                    ops++;
                  }
                  reads.addAndGet(ops);
                }
                SINK.addAndGet(sink);
              },
              writer ? "demo-writer-" + t : "demo-reader-" + t));
    }
    threads.forEach(Thread::start);
    awaitQuietly(ready);
    long start = System.nanoTime();
    go.countDown();
    sleepQuietly(phase);
    stop.stopped = true;
    long elapsed = System.nanoTime() - start;
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping " + t.getName(), e);
      }
    }
    double seconds = elapsed / 1e9;
    return new Rates(reads.get() / seconds, writes.get() / seconds);
  }

  /** Gets of missing keys per second, on this thread. */
  private static double timeMissing(Duration phase, Data data, ZVerseStore store) {
    long until = System.nanoTime() + phase.toNanos();
    long start = System.nanoTime();
    long ops = 0;
    int found = 0;
    Counter c = new Counter(0);
    long now;
    do {
      for (int i = 0; i < 256; i++) {
        if (store.get(data.missing(c.next())) != null) {
          found++;
        }
      }
      ops += 256;
      now = System.nanoTime();
    } while (now < until);
    if (found != 0) {
      throw new IllegalStateException(found + " missing keys were found");
    }
    return ops / ((now - start) / 1e9);
  }

  private static void load(ZVerseStore store, Data data) {
    List<CompletableFuture<Long>> loads = new ArrayList<>();
    for (int from = 0; from < data.keys.length; from += LOAD_BATCH) {
      WriteBatch.Builder batch = WriteBatch.builder();
      for (int i = from, to = Math.min(from + LOAD_BATCH, data.keys.length); i < to; i++) {
        batch.put(data.keys[i], data.values[i & (VALUES - 1)]);
      }
      loads.add(store.write(batch.build()).toCompletableFuture());
    }
    loads.forEach(CompletableFuture::join);
  }

  /** Waits, at most 10 seconds, for the Z-index to finish sealing what the load wrote. */
  private static void awaitIndex(ZVerseStore store) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (store.snapshot().indexStats().building() && System.nanoTime() < deadline) {
      sleepQuietly(Duration.ofMillis(10));
    }
  }

  /** Heap in use after full collections: the live data, give or take a few kilobytes. */
  private static long usedHeapAfterGc() {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      sleepQuietly(Duration.ofMillis(50));
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  /** The keys, the probes into them, and the values, made before measuring. */
  private static final class Data {
    final byte[][] keys;
    final byte[][] existing;
    final byte[][] missing;
    final byte[][] values;

    Data(int n) {
      SplittableRandom random = new SplittableRandom(42);
      keys = new byte[n][];
      for (int i = 0; i < n; i++) {
        keys[i] = ascii(String.format(Locale.ROOT, "key-%08d", i));
      }
      existing = new byte[PROBES][];
      missing = new byte[PROBES][];
      for (int i = 0; i < PROBES; i++) {
        int k = random.nextInt(n);
        existing[i] = keys[k].clone(); // a copy, so no lookup can win by identity
        missing[i] = ascii(String.format(Locale.ROOT, "key-%08d~", k)); // between two stored keys
      }
      values = new byte[VALUES][];
      for (int i = 0; i < VALUES; i++) {
        values[i] = new byte[VALUE_BYTES];
        random.nextBytes(values[i]);
      }
    }

    byte[] existing(int i) {
      return existing[i & (PROBES - 1)];
    }

    byte[] missing(int i) {
      return missing[i & (PROBES - 1)];
    }

    byte[] value(int i) {
      return values[i & (VALUES - 1)];
    }

    private static byte[] ascii(String s) {
      return s.getBytes(StandardCharsets.US_ASCII);
    }
  }

  /** A thread's position in the probes. */
  private static final class Counter {
    private int next;

    Counter(int start) {
      next = start;
    }

    int next() {
      return next++;
    }
  }

  /** Tells the threads of a phase to stop; a plain volatile, read once per operation. */
  private static final class StopFlag {
    volatile boolean stopped;
  }

  // ---------------------------------------------------------------- output

  private static void printTable(PrintStream out, List<Row> rows, Options options) {
    String[] header = {"operation", "seed", "ZVerse", "ZVerse vs seed"};
    List<String[]> cells = new ArrayList<>();
    for (Row r : rows) {
      cells.add(
          new String[] {
            r.operation(), figure(r.seed(), r.unit()), figure(r.zverse(), r.unit()), versus(r)
          });
    }
    int[] width = new int[header.length];
    for (int c = 0; c < header.length; c++) {
      width[c] = header[c].length();
      for (String[] row : cells) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    printRow(out, header, width);
    StringBuilder rule = new StringBuilder();
    for (int c = 0; c < width.length; c++) {
      rule.append(c == 0 ? "" : "-+-").append("-".repeat(width[c]));
    }
    out.println(rule);
    for (String[] row : cells) {
      printRow(out, row, width);
    }
    Runtime rt = Runtime.getRuntime();
    out.println();
    out.printf(
        Locale.ROOT,
        "ZVerse: %s per row on %d cores (Java %s): %d reader threads and %d writer threads"
            + " share them.%n",
        seconds(options.phase()),
        rt.availableProcessors(),
        Runtime.version().feature(),
        READERS,
        WRITERS);
    out.println(
        "Gets read the latest snapshot with no message and no lock; each put waits for its commit: run on");
    out.println(
        "its own thread when the writer is idle, else by the WriterActor's group commit. Mixed: the reader");
    out.println(
        "and writer threads at once (the seed does not say what its mix was, so compare that row with");
    out.println(
        "care). Memory: heap per entry beyond its key and value bytes, in a full collection's live data,");
    out.println("Z-index included.");
    out.println(
        "Seed: the figures published with the Rust design this project started from (machine not stated).");
    out.println();
    out.println(
        "These figures are a quick indication from one short run, not a benchmark. The JMH benchmarks,");
    out.println(
        "which race the store against its peers in the same run, are described in benchmarks/README.md:");
    out.println("  ./mvnw -B -q -pl benchmarks -am package -DskipTests");
    out.println(
        "  java -jar benchmarks/target/benchmarks.jar StoreBenchmark -f 1 -wi 1 -w 2s -i 3 -r 2s");
  }

  private static void printRow(PrintStream out, String[] row, int[] width) {
    StringBuilder line = new StringBuilder();
    for (int c = 0; c < row.length; c++) {
      String cell = row[c];
      String pad = " ".repeat(width[c] - cell.length());
      line.append(c == 0 ? "" : " | ").append(c == 0 || c == 3 ? cell + pad : pad + cell);
    }
    out.println(line.toString().stripTrailing());
  }

  private static String versus(Row r) {
    double ratio = r.ratio();
    String better = r.unit().equals("bytes") ? "smaller" : "faster";
    String worse = r.unit().equals("bytes") ? "larger" : "slower";
    return ratio >= 1 ? times(ratio) + " " + better : times(1 / ratio) + " " + worse;
  }

  private static String times(double x) {
    return String.format(Locale.ROOT, x >= 100 ? "%,.0f×" : x >= 10 ? "%.0f×" : "%.1f×", x);
  }

  private static String figure(double value, String unit) {
    return switch (unit) {
      case "ops/s" -> count(value) + " ops/s";
      case "µs" ->
          String.format(
              Locale.ROOT, value >= 10 ? "%.0f µs" : value >= 0.1 ? "%.2f µs" : "%.3f µs", value);
      default -> String.format(Locale.ROOT, "%.0f %s", value, unit);
    };
  }

  /** The length of a value read, 0 if the key had none. */
  private static int length(byte @Nullable [] value) {
    return value == null ? 0 : value.length;
  }

  private static String count(double value) {
    return String.format(Locale.ROOT, "%,.0f", value);
  }

  private static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1e3);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%,d MiB", bytes >> 20);
  }

  private static void step(PrintStream out, int step, int steps, String what, Object... args) {
    out.printf(Locale.ROOT, "[%d/%d] %s ... ", step, steps, String.format(Locale.ROOT, what, args));
    out.flush();
  }

  private static void done(PrintStream out, String what, Object... args) {
    out.println(String.format(Locale.ROOT, what, args));
  }

  private static Row done(PrintStream out, Row row) {
    out.println(figure(row.zverse(), row.unit()));
    return row;
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void sleepQuietly(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
