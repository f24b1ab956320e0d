package dev.zverse.actors;

import com.typesafe.config.ConfigFactory;
import dev.zverse.engine.Change;
import dev.zverse.engine.WriteBatch;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The child process of {@link DurableStoreCrashTest}: an actor system with a durable {@link
 * ZVerseStore} over the data directory, and several threads writing multi-key transactions until
 * the parent kills it. Each thread keeps a few writes in flight and prints {@code ack <run>
 * <thread> <n> <version>} for each write whose stage completed, in its own order; the parent checks
 * the recovered store against them. What a transaction writes depends only on its identity ({@link
 * #expected}), so the parent can check every recovered version, acknowledged or not.
 */
public final class CrashStore {
  static final int SEGMENT_BYTES = 16384;
  static final int WINDOW = 4;

  private CrashStore() {}

  static String value(int run, int thread, long n) {
    return "r" + run + "t" + thread + "n" + n;
  }

  /**
   * The changes of transaction (run, thread, n) committed as {@code version}, in key order (ASCII
   * keys: string order is byte order), each as {@link #describe}.
   */
  static List<String> expected(int run, int thread, long n, long version) {
    String value = value(run, thread, n);
    List<String> out = new ArrayList<>();
    out.add("w" + thread + "/a@" + version + "=" + value);
    out.add("w" + thread + "/b@" + version + "=" + value);
    out.add(dKey(run, thread, n) + "@" + version + "=" + value);
    if (n > 0) {
      out.add(dKey(run, thread, n - 1) + "@" + version + " deleted");
    }
    out.add("s" + (n % 5) + "@" + version + "=" + value);
    out.sort(null);
    return out;
  }

  /** A change as {@code key@version=value}, or {@code key@version deleted}. */
  static String describe(Change c) {
    return c.keyUtf8() + "@" + c.version() + (c.isDelete() ? " deleted" : "=" + c.valueUtf8());
  }

  /**
   * A key each transaction puts and the thread's next one deletes (a delete of an absent key is no
   * change).
   */
  private static String dKey(int run, int thread, long n) {
    return "d" + run + "." + thread + "." + (n % 3);
  }

  static WriteBatch batch(int run, int thread, long n) {
    String value = value(run, thread, n);
    WriteBatch.Builder b =
        WriteBatch.builder()
            .put("w" + thread + "/a", value)
            .put("w" + thread + "/b", value)
            .put(dKey(run, thread, n), value)
            .put("s" + (n % 5), value);
    if (n > 0) {
      b.delete(dKey(run, thread, n - 1));
    }
    return b.build();
  }

  /** Arguments: data directory, run number, writer threads. */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int run = Integer.parseInt(args[1]);
    int threads = Integer.parseInt(args[2]);
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    // The parent holds this process's stdin open until it kills it: an end of input means the
    // parent is gone (its test JVM died or was stopped), and this process must not outlive it.
    Thread orphanGuard =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // Nothing is ever sent; reading only waits for the end of input.
                }
              } catch (java.io.IOException e) {
                // As good as an end of input.
              }
              Runtime.getRuntime().halt(4);
            },
            "crash-orphan-guard");
    orphanGuard.setDaemon(true);
    orphanGuard.start();
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "crash",
            ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.log-dead-letters = off")
                .withFallback(ConfigFactory.load()));
    StoreSettings settings =
        StoreSettings.create(system, "crash")
            .withDataDirectory(dir)
            .withRetentionVersions(Long.MAX_VALUE)
            .withDurability(
                d ->
                    d.withSegmentBytes(SEGMENT_BYTES)
                        .withCheckpointEveryVersions(300)
                        .withCheckpointInterval(Duration.ZERO));
    ZVerseStore store;
    try {
      store = ZVerseStore.open(system, "crash", settings);
    } catch (IllegalStateException e) {
      out.println("refused " + e.getMessage());
      out.flush();
      System.exit(3);
      return;
    }
    synchronized (out) {
      out.println("open " + store.version());
      out.flush();
    }
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread writer =
          new Thread(
              () -> {
                ArrayDeque<CompletableFuture<Long>> window = new ArrayDeque<>();
                long acked = 0;
                for (long n = 0; ; n++) {
                  window.addLast(store.write(batch(run, thread, n)).toCompletableFuture());
                  if (window.size() == WINDOW) {
                    long version = window.removeFirst().join();
                    synchronized (out) {
                      out.println("ack " + run + " " + thread + " " + acked++ + " " + version);
                      out.flush();
                    }
                  }
                }
              },
              "crash-writer-" + t);
      writer.start();
    }
  }
}
