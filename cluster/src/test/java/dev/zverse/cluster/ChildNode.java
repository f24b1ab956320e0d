package dev.zverse.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.StoreSettings;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One cluster node in a child JVM of a test ({@link ChildCluster} starts it): joins the cluster
 * through the seed nodes in its configuration, opens the {@link ClusterStore} named in its
 * arguments, prints {@code @ready} once its replica follows the writer, then answers line commands
 * from stdin on stdout, one line each, {@code @ok ...} or {@code @err <message>}. Stdout carries
 * nothing else (logs go to stderr), and the parent skips lines without the {@code @} anyway.
 *
 * <ul>
 *   <li>{@code put <key> <value>}: one write through the cluster store; answers its version;
 *   <li>{@code writes <n> <prefix> <inFlight>}: {@code n} puts of keys {@code <prefix><i % 100>},
 *       at most {@code inFlight} unanswered at a time; answers the highest version;
 *   <li>{@code await <version>}: waits for the replica to reach it; answers the version it shows;
 *   <li>{@code digest <version>}: waits for it, then answers a SHA-256 of the replica's state at
 *       that version ({@link #digest});
 *   <li>{@code status}: the replica's {@link ReplicaStatus}, as {@code applied writer lag
 *       catchingUp writerReachable};
 *   <li>{@code exit}: terminates the actor system and exits; so does the end of stdin, so a child
 *       never outlives its parent.
 * </ul>
 *
 * <p>Arguments: the store's name, then optionally a data directory for durable settings.
 */
public final class ChildNode {
  static final String SYSTEM_NAME = "zverse-child";

  /** How long one command waits for the cluster: beyond it the command answers an error. */
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(100);

  private final ClusterStore store;
  private final PrintStream out;

  private ChildNode(ClusterStore store, PrintStream out) {
    this.store = store;
    this.out = out;
  }

  /**
   * Runs a node until stdin ends or says {@code exit}.
   *
   * @param args the store's name, then optionally a data directory
   * @throws Exception if the node cannot start; the parent sees the process end
   */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    // Whatever else writes to System.out (a library's banner) goes to stderr: stdout is answers.
    System.setOut(System.err);
    Config config = ConfigFactory.load();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
    int code = 0;
    try {
      CompletableFuture<Void> up = new CompletableFuture<>();
      org.apache.pekko.cluster.Cluster.get(system.classicSystem())
          .registerOnMemberUp(() -> up.complete(null));
      up.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      StoreSettings settings = StoreSettings.create(system, args[0]);
      if (args.length > 1) {
        settings = settings.withDataDirectory(Path.of(args[1]));
      }
      ClusterStore store =
          ClusterStore.open(
              system,
              args[0],
              settings,
              ClusterSettings.create(system).withWriteTimeout(COMMAND_TIMEOUT));
      store
          .following()
          .toCompletableFuture()
          .get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      out.println("@ready");
      new ChildNode(store, out).serve(new BufferedReader(new InputStreamReader(System.in)));
    } catch (Exception | Error e) {
      e.printStackTrace();
      code = 1;
    } finally {
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        code = code == 0 ? 2 : code;
      }
      // Halt: a thread left behind must not keep a child alive once its parent is gone.
      Runtime.getRuntime().halt(code);
    }
  }

  private void serve(BufferedReader in) throws IOException {
    for (String line; (line = in.readLine()) != null; ) {
      String[] words = line.trim().split(" ");
      if (words[0].equals("exit")) {
        out.println("@ok bye");
        return;
      }
      try {
        out.println("@ok " + answer(words));
      } catch (Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        out.println("@err " + String.valueOf(cause).replace('\n', ' '));
      }
    }
  }

  private String answer(String[] w) throws Exception {
    return switch (w[0]) {
      case "put" -> String.valueOf(get(store.write(WriteBatch.ofPut(w[1], w[2]))));
      case "writes" -> String.valueOf(writes(Integer.parseInt(w[1]), w[2], Integer.parseInt(w[3])));
      case "await" -> String.valueOf(awaitVersion(Long.parseLong(w[1])).version());
      case "digest" -> {
        long v = Long.parseLong(w[1]);
        yield digest(awaitVersion(v), v);
      }
      case "status" -> {
        ReplicaStatus s = store.status();
        yield s.appliedVersion()
            + " "
            + s.writerVersion()
            + " "
            + s.lagVersions()
            + " "
            + s.catchingUp()
            + " "
            + s.writerReachable();
      }
      default -> throw new IllegalArgumentException("unknown command: " + String.join(" ", w));
    };
  }

  private long writes(int n, String prefix, int inFlight) throws Exception {
    List<CompletionStage<Long>> pending = new ArrayList<>();
    long last = 0;
    for (int i = 0; i < n; i++) {
      pending.add(store.write(WriteBatch.ofPut(prefix + (i % 100), prefix + "=" + i)));
      if (pending.size() == inFlight || i == n - 1) {
        for (CompletionStage<Long> p : pending) {
          last = Math.max(last, get(p));
        }
        pending.clear();
      }
    }
    return last;
  }

  private Snapshot awaitVersion(long version) throws Exception {
    return get(store.awaitVersion(version, COMMAND_TIMEOUT));
  }

  private static <T> T get(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * A SHA-256 over every entry of {@code s} at {@code version}, in key order, each as its key's and
   * value's lengths and bytes: two replicas with the same state at a version have the same digest.
   */
  static String digest(Snapshot s, long version) throws NoSuchAlgorithmException {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    ByteBuffer lengths = ByteBuffer.allocate(8);
    for (Entry e : s.scan(KeyRange.all(), version)) {
      byte[] k = e.key();
      byte[] v = e.value();
      lengths.clear();
      lengths.putInt(k.length).putInt(v.length);
      sha.update(lengths.array());
      sha.update(k);
      sha.update(v);
    }
    return HexFormat.of().formatHex(sha.digest());
  }
}
