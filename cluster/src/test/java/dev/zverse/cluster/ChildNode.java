package dev.zverse.cluster;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
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
import java.util.concurrent.Phaser;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

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
 *   <li>{@code dump <version>}: waits for it, then answers the replica's history at the version it
 *       shows, as {@link FailoverChecker#dump};
 *   <li>{@code stream <prefix> <inFlight>}: starts writing puts of keys {@code <prefix>-<i>} (value
 *       {@code v<prefix>-<i>}) in the background, at most {@code inFlight} unanswered, until {@code
 *       stop}, and one at least every 100 ms even with the window full; answers at once. Each
 *       outcome is an event line: {@code !ack <millis> <version> <key> <value>} or {@code !fail
 *       <millis> <key> <exception class> <message>};
 *   <li>{@code stop}: stops the stream sending; answers how many it sent. Its writes in flight go
 *       on and still print their outcomes;
 *   <li>{@code settle}: after {@code stop}, waits until every write the stream sent has ended;
 *   <li>{@code exit}: terminates the actor system and exits; so does the end of stdin, so a child
 *       never outlives its parent.
 * </ul>
 *
 * <p>Besides answers, stdout carries event lines starting with {@code !}, each with the wall
 * clock's epoch milliseconds (one clock for every process on the machine): {@code !event <millis>
 * unreachable|reachable|up|removed <address>} for the cluster's membership as this node sees it,
 * and {@code !log <millis> <logger> <message>} for each line logged under {@code dev.zverse} at
 * INFO or above. {@link ChildJvmFailoverTest} times a failover's parts with them.
 *
 * <p>With {@code zverse.child.stand-by = on} in its configuration (and no seed nodes) the node
 * starts its actor system and waits, before anything else, for a line {@code join <address>...}
 * naming the seed nodes to join: {@link ChildCluster#standBy} starts a replacement this way while
 * the survivors are still detecting a kill.
 *
 * <p>Arguments: the store's name, then optionally a data directory for durable settings. The
 * configuration's {@code zverse.child.write-timeout}, when present, is the store's write timeout
 * (the stream's writes to a killed writer end by it); otherwise a command's timeout.
 */
public final class ChildNode {
  static final String SYSTEM_NAME = "zverse-child";

  /** How long one command waits for the cluster: beyond it the command answers an error. */
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(100);

  private final ClusterStore store;
  private final PrintStream out;
  private final Stream stream;

  private ChildNode(ClusterStore store, PrintStream out) {
    this.store = store;
    this.out = out;
    this.stream = new Stream(store, out);
  }

  /** Echoes every line logged under {@code dev.zverse} at INFO or above to {@code out}. */
  private static void echoLogs(PrintStream out) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    AppenderBase<ILoggingEvent> echo =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent e) {
            if (e.getLevel().isGreaterOrEqual(Level.INFO)) {
              out.println(
                  "!log "
                      + e.getTimeStamp()
                      + " "
                      + e.getLoggerName()
                      + " "
                      + e.getFormattedMessage().replace('\n', ' '));
            }
          }
        };
    echo.setContext(context);
    echo.start();
    context.getLogger("dev.zverse").addAppender(echo);
  }

  /** Prints this node's view of membership changes as {@code !event} lines. */
  private static Behavior<ClusterEvent.ClusterDomainEvent> membershipEvents(PrintStream out) {
    return Behaviors.setup(
        context -> {
          Cluster.get(context.getSystem())
              .subscriptions()
              .tell(Subscribe.create(context.getSelf(), ClusterEvent.ClusterDomainEvent.class));
          return Behaviors.receiveMessage(
              e -> {
                @Nullable String what = null;
                if (e instanceof ClusterEvent.UnreachableMember u) {
                  what = "unreachable " + u.member().address();
                } else if (e instanceof ClusterEvent.ReachableMember r) {
                  what = "reachable " + r.member().address();
                } else if (e instanceof ClusterEvent.MemberUp u) {
                  what = "up " + u.member().address();
                } else if (e instanceof ClusterEvent.MemberRemoved r) {
                  what = "removed " + r.member().address();
                }
                if (what != null) {
                  out.println("!event " + System.currentTimeMillis() + " " + what);
                }
                return Behaviors.same();
              });
        });
  }

  /**
   * Background writes of the {@code stream} command: each put's outcome printed as an event line,
   * at most a window of them unanswered, except that a write goes out at least every {@link
   * #PROBE_INTERVAL} even with the window full. A write in flight to a killed writer ends only by
   * its timeout: without the probes the window would fill with them and hide for seconds when the
   * new writer starts answering. Driven by the command thread ({@link #start}, {@link #stop}), the
   * stream's thread and the store's completion threads.
   */
  private static final class Stream {
    private static final Duration PROBE_INTERVAL = Duration.ofMillis(100);

    private final ClusterStore store;
    private final PrintStream out;
    private @Nullable Thread thread;
    private volatile boolean stopping;
    private final AtomicInteger sent = new AtomicInteger();
    private Phaser inFlight = new Phaser(1);

    Stream(ClusterStore store, PrintStream out) {
      this.store = store;
      this.out = out;
    }

    void start(String prefix, int window) {
      if (thread != null) {
        throw new IllegalStateException("a stream is already running: stop it first");
      }
      stopping = false;
      sent.set(0);
      inFlight = new Phaser(1);
      Phaser writes = inFlight;
      Semaphore w = new Semaphore(window);
      Thread t = new Thread(() -> run(prefix, w, writes), "stream-" + prefix);
      t.setDaemon(true);
      thread = t;
      t.start();
    }

    private void run(String prefix, Semaphore w, Phaser writes) {
      try {
        for (int i = 0; !stopping; i++) {
          boolean permit = w.tryAcquire(PROBE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
          String key = prefix + "-" + i;
          String value = "v" + key;
          sent.incrementAndGet();
          writes.register();
          store
              .write(WriteBatch.ofPut(key, value))
              .whenComplete(
                  (version, failure) -> {
                    long now = System.currentTimeMillis();
                    if (failure == null) {
                      out.println("!ack " + now + " " + version + " " + key + " " + value);
                    } else {
                      Throwable c = failure.getCause() != null ? failure.getCause() : failure;
                      out.println(
                          "!fail "
                              + now
                              + " "
                              + key
                              + " "
                              + c.getClass().getName()
                              + " "
                              + String.valueOf(c.getMessage()).replace('\n', ' '));
                    }
                    if (permit) {
                      w.release();
                    }
                    writes.arriveAndDeregister();
                  });
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /**
     * Stops the stream's sending and returns how many it sent; its writes in flight go on (a write
     * lost with a killed writer ends only by its timeout): {@link #settle} waits for them.
     */
    int stop() throws InterruptedException {
      Thread t = thread;
      if (t == null) {
        return 0;
      }
      stopping = true;
      t.join();
      thread = null;
      return sent.get();
    }

    /** Waits until every write the stopped stream sent has ended; returns how many it sent. */
    int settle() throws InterruptedException {
      if (thread != null) {
        throw new IllegalStateException("the stream is still running: stop it first");
      }
      try {
        inFlight.awaitAdvanceInterruptibly(
            inFlight.arrive(), COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new IllegalStateException("writes still in flight after " + COMMAND_TIMEOUT, e);
      }
      return sent.get();
    }
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
    echoLogs(out);
    Config config = ConfigFactory.load();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
    system.systemActorOf(membershipEvents(out), "membership-events", Props.empty());
    int code = 0;
    try {
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      CompletableFuture<Void> up = new CompletableFuture<>();
      org.apache.pekko.cluster.Cluster cluster =
          org.apache.pekko.cluster.Cluster.get(system.classicSystem());
      cluster.registerOnMemberUp(() -> up.complete(null));
      if (config.getBoolean("zverse.child.stand-by")) {
        cluster.joinSeedNodes(awaitJoin(in));
      }
      up.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      StoreSettings settings = StoreSettings.create(system, args[0]);
      if (args.length > 1) {
        settings = settings.withDataDirectory(Path.of(args[1]));
      }
      Duration writeTimeout =
          config.hasPath("zverse.child.write-timeout")
              ? config.getDuration("zverse.child.write-timeout")
              : COMMAND_TIMEOUT;
      ClusterStore store =
          ClusterStore.open(
              system,
              args[0],
              settings,
              ClusterSettings.create(system).withWriteTimeout(writeTimeout));
      store
          .following()
          .toCompletableFuture()
          .get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      out.println("@ready");
      new ChildNode(store, out).serve(in);
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

  /**
   * Waits for the {@code join <address>...} line of a node standing by and returns its seed nodes.
   *
   * @throws IOException if stdin ends first or the line is another command
   */
  private static List<Address> awaitJoin(BufferedReader in) throws IOException {
    String line = in.readLine();
    if (line == null) {
      throw new IOException("stdin ended while standing by");
    }
    String[] words = line.trim().split(" ");
    if (!words[0].equals("join") || words.length < 2) {
      throw new IOException("standing by for join <address>..., got: " + line);
    }
    List<Address> seeds = new ArrayList<>();
    for (int i = 1; i < words.length; i++) {
      seeds.add(AddressFromURIString.parse(words[i]));
    }
    return seeds;
  }

  private void serve(BufferedReader in) throws IOException, InterruptedException {
    for (String line; (line = in.readLine()) != null; ) {
      String[] words = line.trim().split(" ");
      if (words[0].equals("exit")) {
        stream.stop();
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
      case "dump" -> FailoverChecker.dump(awaitVersion(Long.parseLong(w[1])));
      case "stream" -> {
        stream.start(w[1], Integer.parseInt(w[2]));
        yield "streaming";
      }
      case "stop" -> String.valueOf(stream.stop());
      case "settle" -> String.valueOf(stream.settle());
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
