package dev.zverse.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A child JVM running one {@link LagNode}, as the separate-JVM benchmarks start it ({@link
 * SeparateJvmLagBenchmark}, {@link SeparateJvmTransferBenchmark}): this process's Java and class
 * path, the given JVM options, and every system property of this process whose name starts with
 * {@code zverse.} or {@code pekko.}; its configuration file and its log ({@code node<i>.conf},
 * {@code node<i>.log}) in a working directory. The parent sends it one command per line on its
 * stdin and reads one answer per command from its stdout (see {@link LagNode}).
 *
 * <p>Not thread-safe: one thread of the parent drives each child (a daemon thread of its own reads
 * the answers).
 */
final class NodeProcess {
  /** The heap and pre-touch options of the lag benchmark's children. */
  static final List<String> SMALL_HEAP = List.of("-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch");

  private static final long ANSWER_SECONDS = 300;

  final int index;
  final Process process;
  private final PrintStream in;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

  private NodeProcess(int index, Process process) {
    this.index = index;
    this.process = process;
    this.in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
    Thread reader = new Thread(this::readAnswers, "lag-node-" + index);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts node {@code index}.
   *
   * @param index the node's number: names its files and its messages
   * @param work the directory of the node's configuration file and log
   * @param config the node's configuration (HOCON), see {@link LagNode#config}
   * @param jvmOptions the child's JVM options before the system properties passed on (its heap)
   * @param jfr the directory to record the child with JFR's {@code profile} settings into, as
   *     {@code node<i>.jfr}; null for none
   * @return the started child; {@link #await} its {@code ready} answer first
   * @throws IOException if the configuration cannot be written or the process not started
   */
  static NodeProcess start(
      int index, Path work, String config, List<String> jvmOptions, @Nullable Path jfr)
      throws IOException {
    Path file = work.resolve("node" + index + ".conf");
    Files.writeString(file, config);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    if (jfr != null) {
      command.add(
          "-XX:StartFlightRecording=settings=profile,filename="
              + jfr.resolve("node" + index + ".jfr"));
    }
    for (Map.Entry<Object, Object> p : System.getProperties().entrySet()) {
      String key = String.valueOf(p.getKey());
      if (key.startsWith("zverse.") || key.startsWith("pekko.")) {
        command.add("-D" + key + "=" + p.getValue());
      }
    }
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            LagNode.class.getName(),
            file.toString()));
    Process p =
        new ProcessBuilder(command)
            .redirectError(
                ProcessBuilder.Redirect.appendTo(work.resolve("node" + index + ".log").toFile()))
            .start();
    return new NodeProcess(index, p);
  }

  /**
   * A TCP port of the loopback interface that was free a moment ago, for a node to bind.
   *
   * @throws IOException if no port can be had
   */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private void readAnswers() {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("@")) {
          answers.add(line.substring(1));
        }
      }
    } catch (IOException e) {
      // A process that died: await sees no answer and says so.
    }
  }

  /**
   * The next answer line.
   *
   * @throws IllegalStateException if none comes within 300 s, or the answer is an error
   */
  String await() throws InterruptedException {
    String a = answers.poll(ANSWER_SECONDS, TimeUnit.SECONDS);
    if (a == null) {
      throw new IllegalStateException(
          "node "
              + index
              + " gave no answer in "
              + ANSWER_SECONDS
              + " s (alive: "
              + process.isAlive()
              + "); see its node"
              + index
              + ".log");
    }
    if (a.startsWith("error ")) {
      throw new IllegalStateException("node " + index + ": " + a);
    }
    return a;
  }

  /** Sends {@code command} and returns its answer. */
  String ask(String command) throws InterruptedException {
    in.println(command);
    return await();
  }

  /** Tells the node to exit and waits for it: 60 s, then it is killed. */
  void close() throws InterruptedException {
    in.println("exit");
    in.close();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
