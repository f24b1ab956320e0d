package dev.zverse.examples;

import dev.zverse.actors.EpochStats;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.WriteBatch;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.LoggerFactory;

/**
 * Example 2, 8 reader threads and 4 writer threads on one store at once. Readers never wait: each
 * read is one load of the latest snapshot. Writes are serialized: one that finds the writer idle
 * runs on its own thread, the others go to the store's one WriterActor, which commits the writes
 * that arrive together as one group; each writer waits for its put, so its puts commit in the order
 * it sent them.
 *
 * <p>Each reader gets the 1,000 preloaded keys {@code key-0} to {@code key-999} and, as many times,
 * a key the writers are writing, and goes on until the writers are done; it reports what it found
 * and the versions it saw, which never go backwards. Each writer puts 100 keys {@code
 * writer-<i>-key-<j>} and reports the versions they got.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.ConcurrentOperations}
 */
public final class ConcurrentOperations {
  /** Reader threads. */
  public static final int READERS = 8;

  /** Writer threads. */
  public static final int WRITERS = 4;

  /** Keys loaded before the threads start. */
  public static final int PRELOADED = 1_000;

  private ConcurrentOperations() {}

  /**
   * What one reader saw.
   *
   * @param reader the reader's number, from 0
   * @param gets gets of preloaded keys: the number asked for, or more if the writers were still
   *     writing
   * @param found of those, how many found their value
   * @param writerKeyGets gets of keys the writers write
   * @param writerKeysFound of those, how many found a value already committed
   * @param firstVersion the store's version when the reader began
   * @param lastVersion the store's version when it ended
   * @param wentBackwards whether a version read was ever older than one read before it (never)
   */
  public record ReaderReport(
      int reader,
      int gets,
      int found,
      int writerKeyGets,
      int writerKeysFound,
      long firstVersion,
      long lastVersion,
      boolean wentBackwards) {}

  /**
   * What one writer did.
   *
   * @param writer the writer's number, from 0
   * @param versions the version each of its puts committed as, in the order it sent them
   */
  public record WriterReport(int writer, List<Long> versions) {}

  /**
   * The whole run.
   *
   * @param readers each reader's report
   * @param writers each writer's report
   * @param finalVersion the store's version after every thread finished
   * @param keys live keys in the store then
   * @param publishes snapshots the writer published (fewer than commits when groups formed)
   */
  public record Report(
      List<ReaderReport> readers,
      List<WriterReport> writers,
      long finalVersion,
      long keys,
      long publishes) {}

  /**
   * Starts an actor system, runs the example on it, and terminates it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    LoggerFactory
        .getILoggerFactory(); // logging set up on this thread first, before Pekko's threads log
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "concurrent-operations");
    try {
      run(system, System.out, 1_000, 100);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /**
   * Opens a store named {@code concurrent} in {@code system}, preloads it, runs the readers and
   * writers, prints what each saw, and closes the store.
   *
   * @param system the actor system that runs the store; it stays up
   * @param out where the example prints
   * @param readsPerReader the least number of gets of preloaded keys per reader (and as many of
   *     writer keys), at least 1; readers go on until the writers are done
   * @param putsPerWriter puts per writer, at least 1
   * @return what the threads saw
   * @throws IllegalArgumentException if a count is below 1
   */
  public static Report run(
      ActorSystem<?> system, PrintStream out, int readsPerReader, int putsPerWriter) {
    if (readsPerReader < 1 || putsPerWriter < 1) {
      throw new IllegalArgumentException(
          "readsPerReader and putsPerWriter must be at least 1, were "
              + readsPerReader
              + " and "
              + putsPerWriter);
    }
    ZVerseStore store = ZVerseStore.open(system, "concurrent");
    WriteBatch.Builder preload = WriteBatch.builder();
    for (int j = 0; j < PRELOADED; j++) {
      preload.put("key-" + j, "value-" + j);
    }
    long loaded = store.write(preload.build()).toCompletableFuture().join();
    out.printf(
        "preloaded %,d keys at version %d; starting %d readers and %d writers%n",
        PRELOADED, loaded, READERS, WRITERS);

    CountDownLatch start = new CountDownLatch(1);
    List<ReaderReport> readerReports = new ArrayList<>();
    List<WriterReport> writerReports = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    CountDownLatch writing = new CountDownLatch(WRITERS);
    CompletableFuture<Void> writersDone = new CompletableFuture<>();
    for (int i = 0; i < READERS; i++) {
      int reader = i;
      threads.add(
          new Thread(
              () -> {
                ReaderReport r =
                    read(store, start, writersDone, reader, readsPerReader, putsPerWriter);
                synchronized (readerReports) {
                  readerReports.add(r);
                }
              },
              "reader-" + i));
    }
    for (int i = 0; i < WRITERS; i++) {
      int writer = i;
      threads.add(
          new Thread(
              () -> {
                try {
                  WriterReport w = write(store, start, writer, putsPerWriter);
                  synchronized (writerReports) {
                    writerReports.add(w);
                  }
                } finally {
                  writing.countDown();
                  if (writing.getCount() == 0) {
                    writersDone.complete(null);
                  }
                }
              },
              "writer-" + i));
    }
    threads.forEach(Thread::start);
    start.countDown();
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + t.getName(), e);
      }
    }
    readerReports.sort((a, b) -> Integer.compare(a.reader(), b.reader()));
    writerReports.sort((a, b) -> Integer.compare(a.writer(), b.writer()));

    for (ReaderReport r : readerReports) {
      out.printf(
          "reader %d: %,d of %,d preloaded keys found; %,d of %,d writer keys already there;"
              + " versions seen %d to %d, %s%n",
          r.reader(),
          r.found(),
          r.gets(),
          r.writerKeysFound(),
          r.writerKeyGets(),
          r.firstVersion(),
          r.lastVersion(),
          r.wentBackwards() ? "WENT BACKWARDS" : "never backwards");
    }
    for (WriterReport w : writerReports) {
      List<Long> v = w.versions();
      out.printf(
          "writer %d: %d puts committed at versions %d to %d, %s%n",
          w.writer(),
          v.size(),
          v.get(0),
          v.get(v.size() - 1),
          increasing(v) ? "in the order sent" : "OUT OF ORDER");
    }
    long finalVersion = store.version();
    long keys = store.snapshot().count(KeyRange.all(), finalVersion);
    EpochStats stats = store.epochStats().toCompletableFuture().join();
    out.printf(
        "store: version %d, %,d keys (%,d preloaded + %,d written);"
            + " %,d commits published in %,d snapshots (group commit)%n",
        finalVersion,
        keys,
        PRELOADED,
        (long) WRITERS * putsPerWriter,
        finalVersion,
        stats.publishes());
    store.close().toCompletableFuture().join();
    return new Report(
        List.copyOf(readerReports),
        List.copyOf(writerReports),
        finalVersion,
        keys,
        stats.publishes());
  }

  private static ReaderReport read(
      ZVerseStore store,
      CountDownLatch start,
      CompletableFuture<Void> writersDone,
      int reader,
      int reads,
      int putsPerWriter) {
    await(start);
    long first = store.version();
    long last = first;
    boolean backwards = false;
    int gets = 0;
    int found = 0;
    int writerFound = 0;
    // At least `reads` gets, and on until the writers are done, to watch their keys appear.
    for (int j = 0; j < reads || !writersDone.isDone(); j++) {
      gets++;
      if (store.get("key-" + (j % PRELOADED)) != null) {
        found++;
      }
      // A key some writer writes; whether it is there yet depends on how far the writers got.
      if (store.get("writer-" + ((reader + j) % WRITERS) + "-key-" + (j % putsPerWriter)) != null) {
        writerFound++;
      }
      long v = store.version();
      backwards |= v < last;
      last = v;
    }
    return new ReaderReport(reader, gets, found, gets, writerFound, first, last, backwards);
  }

  private static WriterReport write(ZVerseStore store, CountDownLatch start, int writer, int puts) {
    await(start);
    List<Long> versions = new ArrayList<>(puts);
    for (int j = 0; j < puts; j++) {
      // Waiting for each put keeps this writer's puts in order; the store still groups the puts
      // that the four writers have in flight at the same moment.
      versions.add(
          store.put("writer-" + writer + "-key-" + j, "value-" + j).toCompletableFuture().join());
    }
    return new WriterReport(writer, List.copyOf(versions));
  }

  private static boolean increasing(List<Long> versions) {
    for (int i = 1; i < versions.size(); i++) {
      if (versions.get(i) <= versions.get(i - 1)) {
        return false;
      }
    }
    return true;
  }

  private static void await(CountDownLatch start) {
    try {
      start.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted before starting", e);
    }
  }
}
