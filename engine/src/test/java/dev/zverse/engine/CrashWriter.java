package dev.zverse.engine;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The child process of {@link DurableLogCrashTest}: recovers the data directory, then commits
 * forever, telling the parent each version it acknowledged (after {@link DurableLog#append}
 * returned, so after the force), until the parent kills it. What each version writes depends on the
 * version alone ({@link #expected}), so the parent can check every recovered version.
 */
public final class CrashWriter {
  private CrashWriter() {}

  /** The changes of version {@code v}, in key order: four puts and a put or delete of "toggle". */
  static List<Change> expected(long v) {
    List<Change> out = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      long k = (v * 7 + i * 13) % 50;
      out.add(new Change(key(k), v, ("v" + v + "-" + i).getBytes(StandardCharsets.UTF_8)));
    }
    out.add(
        new Change(
            "toggle".getBytes(StandardCharsets.UTF_8),
            v,
            v % 2 == 1 ? ("on" + v).getBytes(StandardCharsets.UTF_8) : null));
    out.sort((a, b) -> KeyOrder.compare(a.key, b.key));
    return out;
  }

  static byte[] key(long k) {
    return String.format("k%02d", k).getBytes(StandardCharsets.UTF_8);
  }

  static WriteBatch batch(long v) {
    WriteBatch.Builder b = WriteBatch.builder();
    for (Change c : expected(v)) {
      if (c.isDelete()) {
        b.delete(c.key);
      } else {
        b.put(c.key, c.value());
      }
    }
    return b.build();
  }

  /** Arguments: data directory, segment bytes, checkpoint every n versions. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    long segmentBytes = Long.parseLong(args[1]);
    long checkpointEvery = Long.parseLong(args[2]);
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    DurableLog log =
        DurableLog.open(
            DurabilityOptions.in(dir).withSegmentBytes(segmentBytes),
            Limits.defaults(),
            ZIndexOptions.disabled());
    Snapshot published = log.recovered();
    out.println("open " + published.version());
    out.flush();
    ExecutorService checkpointer = Executors.newSingleThreadExecutor();
    while (true) {
      Transient t = published.asTransient();
      int group = 1 + (int) (published.version() % 3);
      for (int i = 0; i < group; i++) {
        t.apply(batch(t.version() + 1));
      }
      Snapshot next = t.persistent();
      log.append(published, next);
      for (long v = published.version() + 1; v <= next.version(); v++) {
        out.println("ack " + v);
      }
      out.flush();
      published = next;
      if (published.version() % checkpointEvery < group) {
        Snapshot s = published;
        checkpointer.execute(
            () -> {
              try {
                log.checkpoint(s);
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
      }
    }
  }
}
