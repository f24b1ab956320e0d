package dev.zverse.examples;

import dev.zverse.actors.StoreHealth;
import dev.zverse.actors.StoreMetrics;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.metrics.StoreMeterBinder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Example 8, watching a store: its figures through Micrometer and JMX, and the health checks a
 * Pekko Management application registers.
 *
 * <p>The example opens the store {@code orders}, binds its meters to a Micrometer registry, commits
 * a few writes, and prints what the registry, the JMX bean and the store's own {@link StoreMetrics}
 * say, then the readiness and liveness checks, before and after the store closes.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.Monitoring}
 */
public final class Monitoring {
  private Monitoring() {}

  /**
   * What the example saw.
   *
   * @param meteredVersion the version the Micrometer gauge read after the writes
   * @param meteredWrites the writes the Micrometer counter read
   * @param jmxWrites the writes the JMX bean read
   * @param readyWhileOpen readiness while the store was open
   * @param liveWhileOpen liveness while the store was open
   * @param readyAfterClose readiness after the store closed
   */
  public record Seen(
      double meteredVersion,
      double meteredWrites,
      long jmxWrites,
      boolean readyWhileOpen,
      boolean liveWhileOpen,
      boolean readyAfterClose) {}

  /**
   * Runs the example, printing to standard output.
   *
   * @param args ignored
   * @throws Exception if a step fails
   */
  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  /**
   * Runs the example.
   *
   * @param out where to print
   * @return what it saw
   * @throws Exception if a step fails
   */
  public static Seen run(PrintStream out) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "monitoring");
    try {
      // tag::metrics-micrometer[]
      ZVerseStore store = ZVerseStore.open(system, "orders");
      MeterRegistry registry = new SimpleMeterRegistry(); // your application's registry
      new StoreMeterBinder(store).bindTo(registry);
      // end::metrics-micrometer[]
      for (int i = 1; i <= 3; i++) {
        store.put("orders/" + i, "open").toCompletableFuture().join();
      }
      double version = registry.get("zverse.store.version").tag("store", "orders").gauge().value();
      double writes = registry.get("zverse.store.writes").functionCounter().count();
      out.println("micrometer: version " + version + ", writes " + writes);

      // tag::metrics-jmx[]
      MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
      ObjectName bean = new ObjectName("dev.zverse:type=Store,name=orders");
      long jmxWrites = (Long) jmx.getAttribute(bean, "Writes");
      // end::metrics-jmx[]
      out.println("jmx: writes " + jmxWrites);

      // tag::metrics-direct[]
      StoreMetrics metrics = store.metrics();
      out.println(
          "version "
              + metrics.version()
              + ", writes "
              + metrics.writes()
              + ", commit latency p99 <= "
              + metrics.commitNanos().quantileUpperBound(0.99)
              + " ns");
      // end::metrics-direct[]

      // tag::health[]
      Supplier<CompletionStage<Boolean>> ready = StoreHealth.readiness(system, "orders");
      Supplier<CompletionStage<Boolean>> live = StoreHealth.liveness(store, Duration.ofSeconds(10));
      // end::health[]
      boolean readyOpen = ready.get().toCompletableFuture().join();
      boolean liveOpen = live.get().toCompletableFuture().join();
      out.println("ready " + readyOpen + ", live " + liveOpen);
      store.close().toCompletableFuture().join();
      boolean readyClosed = ready.get().toCompletableFuture().join();
      out.println("after close: ready " + readyClosed);
      return new Seen(version, writes, jmxWrites, readyOpen, liveOpen, readyClosed);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }
}
