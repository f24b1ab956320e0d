package dev.zverse.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Cluster nodes as child JVM processes on 127.0.0.1, each running {@link ChildNode}: nothing shared
 * but the wire. The parent picks a free port per node once; every node lists every node as a seed,
 * so any of them (the first included) can be killed and restarted on its port and joins whoever is
 * up (Pekko downs the killed incarnation when the new one on the same address joins).
 *
 * <p>A node is killed with SIGKILL ({@link Process#destroyForcibly()}), no shutdown hook runs: a
 * crash. Nothing waits for time to pass: {@link Node#ask} waits for the node's answer line, at most
 * a bound, and a node that ends or does not answer fails the test with its log's tail. Children run
 * the Java that runs the tests with the test class path and a small heap; each reads stdin and
 * exits at its end, so none outlives the parent. Their logs (stderr) go to {@code
 * target/child-logs}.
 *
 * <p>Not thread-safe: one test thread drives it; {@link Node#send} and {@link Node#answer} let it
 * have commands on several nodes under way at once.
 */
final class ChildCluster implements AutoCloseable {
  /**
   * How long a node may take to start, join and follow the writer: seconds on an idle machine, but
   * two minutes were seen on a machine loaded twenty times over its cores.
   */
  static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  /** How long one command may take. */
  static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(120);

  private final String storeName;
  private final Path logDirectory;
  private final String extraConfig;
  private final @Nullable Path dataRoot;
  private final List<Node> nodes = new ArrayList<>();
  private final int[] ports;

  /** Per node, the process standing by to replace it ({@link #standBy}), or null; its port. */
  private final @Nullable Node[] standBy;

  private final int[] standByPorts;

  /** Every node's event lines ({@code !...}), every incarnation's, in the order they came. */
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

  /**
   * An event line of a node (see {@link ChildNode}): {@code line} without its {@code !}.
   *
   * @param node the node's index
   * @param line the line
   */
  record Event(int node, String line) {}

  private ChildCluster(
      String storeName,
      int[] ports,
      Path logDirectory,
      String extraConfig,
      @Nullable Path dataRoot) {
    this.storeName = storeName;
    this.ports = ports;
    this.logDirectory = logDirectory;
    this.extraConfig = extraConfig;
    this.dataRoot = dataRoot;
    this.standBy = new Node[ports.length];
    this.standByPorts = new int[ports.length];
  }

  /**
   * Starts {@code n} child nodes of the cluster store {@code storeName} and waits until each
   * follows the writer (which runs on node 0, the first seed and the oldest).
   *
   * @param n nodes, at least 1
   * @param storeName the cluster store every node opens
   * @param extraConfig HOCON every node gets on top of the defaults (a downing provider, say)
   * @param dataRoot null for memory-only stores; else node {@code i} opens durable settings with
   *     the data directory {@code dataRoot/node<i>}, again after each restart
   * @return the cluster, every node ready
   */
  static ChildCluster start(int n, String storeName, String extraConfig, @Nullable Path dataRoot)
      throws Exception {
    int[] ports = new int[n];
    for (int i = 0; i < n; i++) {
      ports[i] = freePort();
    }
    Path logs = Path.of("target", "child-logs");
    Files.createDirectories(logs);
    ChildCluster cluster = new ChildCluster(storeName, ports, logs, extraConfig, dataRoot);
    try {
      // All at once, to overlap their starts: node 0 is still the oldest, since only the first
      // seed joins itself and the others can join only a cluster it formed.
      for (int i = 0; i < n; i++) {
        cluster.nodes.add(cluster.launch(i, ports[i], cluster.allSeeds(), false));
      }
      for (int i = 0; i < n; i++) {
        cluster.nodes.get(i).awaitReady();
      }
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** Every node as a seed, as HOCON list elements: the first start's seeds. */
  private String allSeeds() {
    StringBuilder seeds = new StringBuilder();
    for (int j = 0; j < ports.length; j++) {
      seeds.append(j == 0 ? "" : ", ").append('"').append(address(j)).append('"');
    }
    return seeds.toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Node {@code i}, as last started. */
  Node node(int i) {
    return nodes.get(i);
  }

  /** The number of nodes. */
  int size() {
    return nodes.size();
  }

  /**
   * Kills node {@code i} with SIGKILL and waits for its process to end.
   *
   * @throws IllegalStateException if it has not ended within {@link #START_TIMEOUT}
   */
  void kill(int i) throws InterruptedException {
    Process p = nodes.get(i).process;
    p.destroyForcibly();
    if (!p.waitFor(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("node " + i + " did not end after SIGKILL");
    }
  }

  /**
   * Starts node {@code i} again on its port (after {@link #kill}), on its data directory if the
   * cluster has them.
   *
   * @return the new node, once it follows the writer
   */
  Node restart(int i) throws Exception {
    Node node = relaunch(i);
    node.awaitReady();
    return node;
  }

  /**
   * Starts node {@code i} again on its port (after {@link #kill}) and returns at once: the caller
   * goes on with the others and waits with {@link Node#awaitReady}.
   *
   * @return the new node, starting
   */
  Node relaunch(int i) throws IOException {
    Node old = nodes.get(i);
    if (old.process.isAlive()) {
      throw new IllegalStateException("node " + i + " is still running: kill it first");
    }
    Node node = launch(i, ports[i], seeds(i), false);
    nodes.set(i, node);
    return node;
  }

  /**
   * Starts a new process for node {@code i} (after {@link #kill}) on a new port, whose actor system
   * starts and then joins nobody until {@link #rejoin}: the start of a JVM and its actor system,
   * seconds on a loaded machine, overlaps the survivors' failure detection and downing of the
   * killed incarnation. A new port, because a new incarnation on the killed one's address would
   * answer the survivors' heartbeats with its new identity and end the old one sooner than the
   * failure detector and the resolver, which are what a kill test exercises.
   */
  void standBy(int i) throws IOException {
    if (nodes.get(i).process.isAlive()) {
      throw new IllegalStateException("node " + i + " is still running: kill it first");
    }
    if (standBy[i] != null) {
      throw new IllegalStateException("node " + i + " already has a process standing by");
    }
    int port = freePort();
    standBy[i] = launch(i, port, "", true);
    standByPorts[i] = port;
  }

  /**
   * Lets the process standing by for node {@code i} ({@link #standBy}) join the cluster through the
   * other nodes and returns at once; it is node {@code i} from now on, on its new port. Not before
   * the killed incarnation was removed: a node joining while the killed one is still a member
   * (unreachable) changes the count the resolver decides on.
   *
   * @return the new node, joining; {@link Node#awaitReady} waits until it follows the writer
   */
  Node rejoin(int i) {
    Node node = standBy[i];
    if (node == null) {
      throw new IllegalStateException("node " + i + " has no process standing by");
    }
    standBy[i] = null;
    ports[i] = standByPorts[i];
    nodes.set(i, node);
    StringBuilder join = new StringBuilder("join");
    for (int j = 0; j < ports.length; j++) {
      if (j != i) {
        join.append(' ').append(address(j));
      }
    }
    node.send(join.toString());
    return node;
  }

  /** The next event line of any node if one is queued, else null. */
  @Nullable Event pollEvent() {
    return events.poll();
  }

  /** Node {@code i}'s address, as its cluster's members show it. */
  String address(int i) {
    return "pekko://" + ChildNode.SYSTEM_NAME + "@127.0.0.1:" + ports[i];
  }

  /**
   * The next event line of any node, waiting at most {@code timeout}.
   *
   * @throws AssertionError if none came in time
   */
  Event nextEvent(Duration timeout) throws InterruptedException {
    Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (e == null) {
      throw new AssertionError("no event from any node in " + timeout);
    }
    return e;
  }

  /**
   * The seed nodes of node {@code i}'s restart, as HOCON list elements: only the other nodes. A
   * restarted first seed that lists itself first joins itself when the others do not answer within
   * the seed-node timeout (a loaded machine), and forms a cluster of its own (seen: a restarted
   * node 0 alone with its own writer of term 1).
   */
  private String seeds(int i) {
    StringBuilder seeds = new StringBuilder();
    for (int j = 0; j < ports.length; j++) {
      if (j != i) {
        seeds.append(seeds.length() == 0 ? "" : ", ").append('"').append(address(j)).append('"');
      }
    }
    return seeds.toString();
  }

  /**
   * Starts node {@code i}'s process on {@code port} with {@code seeds} (HOCON list elements); one
   * {@code standingBy} waits for a {@code join} line before it joins (see {@link ChildNode}).
   */
  private Node launch(int i, int port, String seeds, boolean standingBy) throws IOException {
    String config =
        """
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = %d
        pekko.cluster.seed-nodes = [%s]
        pekko.actor.allow-java-serialization = off
        pekko.loglevel = WARNING
        # Binding the port is part of the actor system's start: 3 s by default, which a JVM
        # starting beside five others on a loaded machine can miss (seen at load 32).
        pekko.remote.artery.bind.bind-timeout = 30s
        # Test machines run several builds at once: a node starved of CPU for seconds is slow,
        # not gone (a killed node is found by its restart on the same address, not by this).
        pekko.cluster.failure-detector.acceptable-heartbeat-pause = 10s
        # ClusterStore refuses to open without a downing provider (failover needs one).
        pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
        pekko.cluster.split-brain-resolver.stable-after = 2s
        zverse.child.stand-by = %s
        """
                .formatted(port, seeds, standingBy ? "on" : "off")
            + extraConfig;
    Path configFile = logDirectory.resolve(storeName + "-node" + i + ".conf");
    Files.writeString(configFile, config);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    // Short-lived processes: the C1 compiler only, to start faster.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Dconfig.file=" + configFile.toAbsolutePath());
    command.add("-Dlogback.configurationFile=logback-child.xml");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ChildNode.class.getName());
    command.add(storeName);
    if (dataRoot != null) {
      command.add(dataRoot.resolve("node" + i).toAbsolutePath().toString());
    }
    Path log = logDirectory.resolve(storeName + "-node" + i + ".log");
    Process process =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new Node(i, process, log, events);
  }

  /** Ends every node: stdin closed, then SIGKILL for any not gone in a few seconds. */
  @Override
  public void close() throws IOException, InterruptedException {
    for (Node n : standBy) {
      if (n != null) {
        nodes.add(n);
      }
    }
    for (Node n : nodes) {
      n.process.getOutputStream().close();
    }
    for (Node n : nodes) {
      if (!n.process.waitFor(10, TimeUnit.SECONDS)) {
        n.process.destroyForcibly();
        n.process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** One child process: its commands and answers. */
  static final class Node {
    private final int index;
    private final Process process;
    private final Path log;
    private final PrintStream in;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final BlockingQueue<Event> events;

    private Node(int index, Process process, Path log, BlockingQueue<Event> events) {
      this.index = index;
      this.process = process;
      this.log = log;
      this.events = events;
      this.in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
      Thread reader = new Thread(this::readAnswers, "child-node-" + index + "-stdout");
      reader.setDaemon(true);
      reader.start();
    }

    /** Queues every answer line; an end marker when the process's stdout ends. */
    private void readAnswers() {
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith("@")) {
            answers.add(line.substring(1));
          } else if (line.startsWith("!")) {
            events.add(new Event(index, line.substring(1)));
          }
        }
      } catch (IOException e) {
        // The stream of a killed process may end with an error instead of its end: the same end.
      }
      answers.add(END);
    }

    private static final String END = "\u0000end";

    /**
     * Waits until the node follows the writer.
     *
     * @throws AssertionError if it answered otherwise, ended, or was not ready in {@link
     *     #START_TIMEOUT}
     */
    void awaitReady() throws InterruptedException {
      String a = next(START_TIMEOUT, "start");
      if (!a.equals("ready")) {
        throw new AssertionError("node " + index + " answered " + a + " instead of ready" + tail());
      }
    }

    /** Sends {@code command} without waiting; its answer comes from {@link #answer()}. */
    void send(String command) {
      in.println(command);
      if (in.checkError()) {
        throw new UncheckedIOException(
            new IOException("node " + index + " does not take commands" + tail()));
      }
    }

    /**
     * The answer to the oldest command sent and not yet answered.
     *
     * @return what followed {@code ok}
     * @throws AssertionError if it answered an error, ended, or gave no answer in time
     */
    String answer() throws InterruptedException {
      String a = next(ANSWER_TIMEOUT, "an answer");
      if (!a.startsWith("ok ")) {
        throw new AssertionError("node " + index + " answered " + a + tail());
      }
      return a.substring(3);
    }

    /** Sends {@code command} and returns its answer, as {@link #answer()}. */
    String ask(String command) throws InterruptedException {
      send(command);
      return answer();
    }

    /** {@link #ask} for a command answering a number. */
    long askLong(String command) throws InterruptedException {
      return Long.parseLong(ask(command));
    }

    private String next(Duration timeout, String what) throws InterruptedException {
      String a = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (a == null) {
        throw new AssertionError("node " + index + " gave no " + what + " in " + timeout + tail());
      }
      if (a.equals(END)) {
        answers.add(END);
        throw new AssertionError("node " + index + " ended before " + what + tail());
      }
      return a;
    }

    /** The last lines of the node's log, for a failure's message. */
    private String tail() {
      try {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return "; its log "
            + log
            + " ends:\n"
            + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
      } catch (IOException e) {
        return "; its log " + log + " is unreadable: " + e;
      }
    }

    /** The process, e.g. to see whether it is alive. */
    Process process() {
      return process;
    }
  }
}
