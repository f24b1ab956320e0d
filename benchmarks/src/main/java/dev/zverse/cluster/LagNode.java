package dev.zverse.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.WriteBatch;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.jspecify.annotations.Nullable;

/**
 * One node of {@link SeparateJvmLagBenchmark} or {@link SeparateJvmTransferBenchmark}, in a process
 * of its own ({@link NodeProcess}): an ActorSystem that joins the cluster through the seed nodes of
 * its configuration, the cluster store {@code lag} opened on it, and a replica-lag run's or a state
 * transfer's part on this node, driven by its parent over stdin and stdout.
 *
 * <p>Each command is one line, each answer one line starting with {@code @} (everything else this
 * process prints goes to stderr):
 *
 * <ul>
 *   <li>{@code clock}: this process's {@link System#nanoTime};
 *   <li>{@code listen <first> <total>}: stamps the publishes of this node's replica (and on the
 *       writer's node, of the writer's local store) of versions {@code first} on, {@code -} for the
 *       writer's next version; answers the first version;
 *   <li>{@code send <rate> <batch> <seconds> <warmup> <first>}: on the writer's node, the paced
 *       open loop of {@link LagRun#send}; answers the last version, the recorded window and the
 *       failures;
 *   <li>{@code await <version>}: waits until the replica published it, then stops stamping;
 *   <li>{@code dump <file>}: on the writer's node, writes the writer's stamps and the sender's
 *       intended and answer times (see {@link LagRun#write});
 *   <li>{@code figures <from> <last> <file>}: this replica's {@link LagRun.Figures} against the
 *       stamps in {@code file}, encoded;
 *   <li>{@code put1 <n>}: {@code n} writes of one put through this node's {@link ClusterStore}, one
 *       at a time; answers their latencies (microseconds) as an encoded histogram;
 *   <li>{@code threads}: the live threads of this JVM;
 *   <li>the state transfer's commands ({@link TransferNode});
 *   <li>{@code exit}, or the end of stdin: closes the store and the ActorSystem, and exits.
 * </ul>
 *
 * <p>Arguments: the configuration file (HOCON, over {@link ReplicaLagBenchmark#CONFIG} and {@link
 * ClusterFixture#CONFIG}) with the node's port, the seed nodes and {@code zverse.bench.nodes}, the
 * number of members to wait for, and for a node that joins late to be timed {@value
 * TransferNode#CATCH_UP_TO}. Not thread-safe: one thread reads and answers the commands.
 */
public final class LagNode {
  private static final String STORE = "lag";

  private final ActorSystem<Void> system;
  private final ClusterStore store;
  private final PrintStream out;
  private final TransferNode transfer;
  private LagRun.@Nullable Stamps replicaStamps;
  private LagRun.@Nullable Stamps writerStamps;
  private LagRun.@Nullable Sent sent;

  private LagNode(
      ActorSystem<Void> system, ClusterStore store, PrintStream out, TransferNode transfer) {
    this.system = system;
    this.store = store;
    this.out = out;
    this.transfer = transfer;
  }

  /**
   * Runs the node until stdin ends or says {@code exit}.
   *
   * @param args the configuration file
   * @throws Exception if the node cannot start: the parent sees the process end
   */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    // Only answers on stdout: anything else written to System.out (a banner) goes to stderr.
    System.setOut(System.err);
    Config config =
        ConfigFactory.parseFile(new File(args[0]))
            .withFallback(ConfigFactory.parseString(ReplicaLagBenchmark.CONFIG))
            .withFallback(ConfigFactory.parseString(ClusterFixture.CONFIG))
            .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "zverse-bench", config);
    int code = 0;
    try {
      ClusterFixture.awaitUp(system, config.getInt("zverse.bench.nodes"));
      long requestedAt = System.nanoTime();
      long cpuAtRequest = TransferNode.cpuNanos();
      long startToRequest =
          System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
      ClusterStore store =
          ClusterStore.open(
              system, STORE, StoreSettings.create(system, STORE), ClusterFixture.patient(system));
      TransferNode transfer =
          new TransferNode(
              store,
              () -> writer(system),
              TransferSettings.create(system),
              requestedAt,
              cpuAtRequest,
              startToRequest,
              config.hasPath(TransferNode.CATCH_UP_TO)
                  ? config.getLong(TransferNode.CATCH_UP_TO)
                  : -1);
      store
          .following()
          .toCompletableFuture()
          .get(ClusterFixture.WAIT.toSeconds(), TimeUnit.SECONDS);
      out.println(
          "@ready "
              + Runtime.getRuntime().availableProcessors()
              + " "
              + store.settings().minAcks());
      new LagNode(system, store, out, transfer).serve();
    } catch (Exception | Error e) {
      e.printStackTrace();
      code = 1;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      // Exit, not halt: a flight recording is written by a shutdown hook; no thread left behind
      // keeps a node alive, and the parent ends one that does not end.
      System.exit(code);
    }
  }

  private void serve() throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] w = line.trim().split(" ");
      if (w[0].equals("exit")) {
        break;
      }
      try {
        out.println("@" + answer(w));
      } catch (Exception e) {
        out.println("@error " + String.valueOf(e).replace('\n', ' '));
      }
    }
    store.close().toCompletableFuture().get(ClusterFixture.WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private String answer(String[] w) throws Exception {
    return switch (w[0]) {
      case "clock" -> String.valueOf(System.nanoTime());
      case "threads" -> String.valueOf(ManagementFactory.getThreadMXBean().getThreadCount());
      case "put1" -> LagRun.Figures.encode(put1(Integer.parseInt(w[1])));
      case "listen" -> String.valueOf(listen(w[1], Integer.parseInt(w[2])));
      case "send" -> {
        LagRun.Load load =
            new LagRun.Load(
                Integer.parseInt(w[1]),
                Integer.parseInt(w[2]),
                Integer.parseInt(w[3]),
                Integer.parseInt(w[4]));
        LagRun.Sent s = LagRun.send(load, store, Long.parseLong(w[5]));
        sent = s;
        yield s.lastVersion + " " + s.summary();
      }
      case "await" -> {
        long v = Long.parseLong(w[1]);
        store.awaitVersion(v, Duration.ofSeconds(60)).toCompletableFuture().get();
        stopListening(v);
        yield "ok";
      }
      case "dump" -> {
        LagRun.Stamps ws = require(writerStamps, "writer stamps");
        LagRun.Sent s = require(sent, "a send");
        LagRun.write(
            Path.of(w[1]),
            LagRun.toArray(ws.nanos),
            LagRun.toArray(s.intended),
            LagRun.toArray(s.answered));
        yield "ok";
      }
      case "figures" -> {
        LagRun.Stamps rs = require(replicaStamps, "replica stamps");
        long[][] stamps = LagRun.read(Path.of(w[3]));
        yield LagRun.Figures.of(
                rs.first,
                Long.parseLong(w[1]),
                Long.parseLong(w[2]),
                stamps[0],
                stamps[1],
                stamps[2],
                LagRun.toArray(rs.nanos))
            .encode();
      }
      default -> {
        String a = transfer.answer(w);
        if (a == null) {
          throw new IllegalArgumentException("unknown command: " + String.join(" ", w));
        }
        yield a;
      }
    };
  }

  /** {@code n} single-put writes, one at a time, over {@link LagRun#KEYS} keys: their latencies. */
  private Histogram put1(int n) throws Exception {
    Histogram h = new Histogram(3);
    SplittableRandom random = new SplittableRandom(1);
    byte[] value = new byte[100];
    random.nextBytes(value);
    byte[] key = new byte[16];
    for (int i = 0; i < n; i++) {
      random.nextBytes(key);
      long start = System.nanoTime();
      store
          .write(WriteBatch.ofPut(key.clone(), value))
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
      h.recordValue((System.nanoTime() - start) / 1000);
    }
    return h;
  }

  private static <T> T require(@Nullable T value, String what) {
    if (value == null) {
      throw new IllegalStateException("no " + what + " on this node");
    }
    return value;
  }

  /** The writer's local store, if the writer singleton runs on this node. */
  private @Nullable ZVerseStore writer() {
    return writer(system);
  }

  private static @Nullable ZVerseStore writer(ActorSystem<?> system) {
    return ZVerse.get(system).store(WriterSingleton.writerStoreName(STORE)).orElse(null);
  }

  private long listen(String firstArg, int total) {
    ZVerseStore writer = writer();
    long first;
    if (firstArg.equals("-")) {
      first = require(writer, "writer").snapshot().version() + 1;
    } else {
      first = Long.parseLong(firstArg);
    }
    if (writer != null) {
      LagRun.Stamps ws = new LagRun.Stamps(first, total);
      writer.advanced().addPublishListener(ws);
      writerStamps = ws;
    }
    LagRun.Stamps rs = new LagRun.Stamps(first, total);
    store.replica().advanced().addPublishListener(rs);
    replicaStamps = rs;
    return first;
  }

  private void stopListening(long last) {
    LagRun.Stamps rs = require(replicaStamps, "replica stamps");
    rs.awaitStamped(last);
    store.replica().advanced().removePublishListener(rs);
    ZVerseStore writer = writer();
    LagRun.Stamps ws = writerStamps;
    if (writer != null && ws != null) {
      ws.awaitStamped(last);
      writer.advanced().removePublishListener(ws);
    }
  }

  /** The configuration lines of node {@code index}: its port, the seeds, the members to await. */
  static String config(int port, List<Integer> seedPorts, int nodes) {
    StringBuilder seeds = new StringBuilder();
    for (int p : seedPorts) {
      seeds.append(seeds.length() == 0 ? "" : ", ");
      seeds.append("\"pekko://zverse-bench@127.0.0.1:").append(p).append('"');
    }
    return "pekko.remote.artery.canonical.port = "
        + port
        + "\npekko.cluster.seed-nodes = ["
        + seeds
        + "]\nzverse.bench.nodes = "
        + nodes
        + "\n";
  }
}
