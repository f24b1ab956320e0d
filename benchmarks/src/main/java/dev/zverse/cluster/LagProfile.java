package dev.zverse.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;
import org.jspecify.annotations.Nullable;

/**
 * Where a replica-lag run's CPU goes: a summary of JFR recordings of {@link ReplicaLagBenchmark} or
 * {@link SeparateJvmLagBenchmark}'s nodes, over the recorded window the run printed. Each execution
 * sample ({@code jdk.ExecutionSample}, every 10 ms per running thread with JFR's {@code profile}
 * settings) is put in a thread group (by the thread's name, its digits dropped) and in a part of
 * the work, by the innermost frame of its stack that belongs to a known part:
 *
 * <ul>
 *   <li>serialization: the wire serializer, the commit record codec, Pekko's serialization;
 *   <li>engine: the tree, batches, snapshots (the writer's commit and a replica's apply);
 *   <li>store actors: the store's writer and epoch actors and its publish (listeners included);
 *   <li>cluster store: the writer singleton, the replica, followers, acknowledgements;
 *   <li>benchmark: the paced sender and the stamps;
 *   <li>ref resolution: turning an actor path from the wire into a reference (Artery's recipient
 *       and the references inside messages), through Pekko's cache of them;
 *   <li>Artery: Pekko's remoting (envelopes, lanes, its stream stages' logic);
 *   <li>streams, TCP: Pekko Streams' interpreter and TCP stages, the JDK's socket channels;
 *   <li>membership: Pekko Cluster's gossip and failure detection;
 *   <li>actor runtime: mailboxes, dispatchers, the fork-join pool, scheduling;
 *   <li>other: a stack with none of these (JDK or Scala code alone).
 * </ul>
 *
 * <p>Besides, the machine's and this JVM's CPU load (averages of {@code jdk.CPULoad}), each thread
 * group's CPU ({@code jdk.ThreadCPULoad}), the time the JIT spent compiling and the collections'
 * pauses in the window. A plain main, not run by any test:
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.zverse.cluster.LagProfile \
 *     <from epoch ms> <to epoch ms> node0.jfr [node1.jfr ...]
 * }</pre>
 */
public final class LagProfile {
  /**
   * Class-name prefixes and their part, innermost first wins; order matters between them. An empty
   * part is a helper (Pekko's hashing, say) whose work belongs to its caller's part.
   */
  private static final List<String[]> PARTS =
      List.of(
          new String[] {"dev.zverse.cluster.WireSerializer", "serialization"},
          new String[] {"dev.zverse.engine.CommitRecordCodec", "serialization"},
          new String[] {"org.apache.pekko.serialization", "serialization"},
          new String[] {"com.fasterxml.jackson", "serialization"},
          new String[] {"dev.zverse.cluster.LagRun", "benchmark"},
          new String[] {"dev.zverse.cluster.LagNode", "benchmark"},
          new String[] {"dev.zverse.cluster.ReplicaLagBenchmark", "benchmark"},
          new String[] {"dev.zverse.engine", "engine"},
          new String[] {"dev.zverse.actors", "store actors"},
          new String[] {"dev.zverse.cluster", "cluster store"},
          new String[] {
            "org.apache.pekko.remote.serialization.AbstractActorRefResolveCache", "ref resolution"
          },
          new String[] {"org.apache.pekko.remote", "Artery"},
          new String[] {"org.apache.pekko.stream", "streams, TCP"},
          new String[] {"org.apache.pekko.io", "streams, TCP"},
          new String[] {"sun.nio.ch", "streams, TCP"},
          new String[] {"org.apache.pekko.cluster", "membership"},
          new String[] {"org.apache.pekko.util", ""},
          new String[] {"org.apache.pekko.japi", ""},
          new String[] {"org.apache.pekko", "actor runtime"},
          new String[] {"java.util.concurrent.ForkJoin", "actor runtime"});

  private LagProfile() {}

  /**
   * Prints the summary of each recording, over the window.
   *
   * @param args the window's start and end (epoch ms), then the JFR files
   * @throws IOException if a recording cannot be read
   */
  public static void main(String[] args) throws IOException {
    Instant from = Instant.ofEpochMilli(Long.parseLong(args[0]));
    Instant to = Instant.ofEpochMilli(Long.parseLong(args[1]));
    for (int i = 2; i < args.length; i++) {
      summarise(Path.of(args[i]), from, to);
    }
  }

  private static void summarise(Path file, Instant from, Instant to) throws IOException {
    Map<String, Map<String, Integer>> byGroup = new TreeMap<>();
    Map<String, Integer> byPart = new TreeMap<>();
    Map<String, Double> cpuByGroup = new TreeMap<>();
    int samples = 0;
    double machine = 0;
    double jvm = 0;
    int loads = 0;
    long jitNanos = 0;
    long gcNanos = 0;
    int gcs = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      if (e.getStartTime().isBefore(from) || e.getStartTime().isAfter(to)) {
        continue;
      }
      switch (e.getEventType().getName()) {
        case "jdk.ExecutionSample" -> {
          String group = group(e.getThread("sampledThread"));
          String part = part(e.getStackTrace());
          byGroup.computeIfAbsent(group, g -> new TreeMap<>()).merge(part, 1, Integer::sum);
          byPart.merge(part, 1, Integer::sum);
          samples++;
        }
        case "jdk.CPULoad" -> {
          machine += e.getFloat("machineTotal");
          jvm += e.getFloat("jvmUser") + e.getFloat("jvmSystem");
          loads++;
        }
        case "jdk.ThreadCPULoad" -> {
          double load = e.getFloat("user") + e.getFloat("system");
          cpuByGroup.merge(group(e.getThread("eventThread")), load, Double::sum);
        }
        case "jdk.Compilation" -> jitNanos += e.getDuration().toNanos();
        case "jdk.GarbageCollection" -> {
          gcNanos += e.getDuration().toNanos();
          gcs++;
        }
        default -> {}
      }
    }
    double seconds = (to.toEpochMilli() - from.toEpochMilli()) / 1000.0;
    System.out.printf(
        "%n%s: %.1f s window, CPU load machine %.0f %%, this JVM %.0f %% (of all cores);"
            + " JIT %.2f s; %d collections, %.3f s%n",
        file.getFileName(),
        seconds,
        loads == 0 ? Double.NaN : 100 * machine / loads,
        loads == 0 ? Double.NaN : 100 * jvm / loads,
        jitNanos / 1e9,
        gcs,
        gcNanos / 1e9);
    System.out.printf("  %d samples (10 ms each while running) by part:%n", samples);
    print(byPart, samples, "    ");
    System.out.println(
        "  CPU by thread group (jdk.ThreadCPULoad, every 10 s: share of all cores, summed over the"
            + " group's threads and the window's readings):");
    cpuByGroup.entrySet().stream()
        .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .limit(10)
        .forEach(g -> System.out.printf("    %-60s %6.1f %%%n", g.getKey(), 100 * g.getValue()));
    System.out.println("  by thread group (samples, then the parts):");
    byGroup.entrySet().stream()
        .sorted((a, b) -> Integer.compare(total(b.getValue()), total(a.getValue())))
        .limit(12)
        .forEach(
            g -> {
              System.out.printf("    %-60s %6d:", g.getKey(), total(g.getValue()));
              g.getValue().entrySet().stream()
                  .sorted((a, b) -> Integer.compare(b.getValue(), a.getValue()))
                  .forEach(p -> System.out.printf(" %s %d,", p.getKey(), p.getValue()));
              System.out.println();
            });
  }

  /** A thread's name with its digits dropped: the threads of one pool in one group. */
  private static String group(@Nullable RecordedThread t) {
    String name = t == null ? null : t.getJavaName();
    return name == null ? "?" : name.replaceAll("[0-9]+", "#");
  }

  private static int total(Map<String, Integer> counts) {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }

  private static void print(Map<String, Integer> counts, int all, String indent) {
    counts.entrySet().stream()
        .sorted((a, b) -> Integer.compare(b.getValue(), a.getValue()))
        .forEach(
            p ->
                System.out.printf(
                    "%s%-16s %6d  %5.1f %%%n",
                    indent, p.getKey(), p.getValue(), 100.0 * p.getValue() / Math.max(1, all)));
  }

  /** The part of the innermost frame that has one, else "other". */
  private static String part(@Nullable RecordedStackTrace stack) {
    if (stack == null) {
      return "other";
    }
    for (RecordedFrame f : stack.getFrames()) {
      if (f.getMethod() == null || f.getMethod().getType() == null) {
        continue;
      }
      String type = f.getMethod().getType().getName();
      for (String[] p : PARTS) {
        if (type.startsWith(p[0])) {
          if (p[1].isEmpty()) {
            break;
          }
          return p[1];
        }
      }
    }
    return "other";
  }
}
