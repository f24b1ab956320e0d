package dev.zverse.examples;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Change;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Example 6, a durable store: a store with a data directory keeps what it committed across a
 * restart of the application.
 *
 * <p>The example runs the application twice on one data directory (a temporary one, deleted at the
 * end). The first run opens the store {@code ledger} with {@link StoreSettings#withDataDirectory},
 * commits three versions (each group commit is in the write-ahead log, forced to the disk, before
 * its writer hears of it), shows that a second store cannot open the directory while the first
 * holds it, and closes (which writes a final checkpoint). The second run, in a new actor system as
 * after a restart, opens the same directory: {@link ZVerseStore#recoveryReport()} says what was
 * found, every version is readable again (the state, reads at old versions, a key's history), and
 * the next write takes the next version.
 *
 * <p>In an application the directory usually comes from the configuration: {@code
 * zverse.stores.ledger.durability.data-directory = "/var/lib/my-app/ledger"}.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.DurableStore}
 */
public final class DurableStore {
  private DurableStore() {}

  /**
   * What the two runs saw.
   *
   * @param firstReport the recovery report of the first open (an empty directory)
   * @param written the versions the first run committed
   * @param refusal why a second store could not open the directory while the first held it
   * @param files the files in the directory after the first run
   * @param secondReport the recovery report after the restart
   * @param adaNow the value of {@code accounts/ada} after the restart
   * @param adaAtFirstVersion the value of {@code accounts/ada} at the first version, after the
   *     restart
   * @param history the history of {@code accounts/ada} after the restart
   * @param nextVersion the version of the first write after the restart
   */
  public record Runs(
      String firstReport,
      List<Long> written,
      @Nullable IllegalStateException refusal,
      List<String> files,
      String secondReport,
      @Nullable String adaNow,
      @Nullable String adaAtFirstVersion,
      List<Change> history,
      long nextVersion) {}

  /**
   * Runs the example in a new temporary directory and deletes it afterwards.
   *
   * @param args ignored
   * @throws IOException if the temporary directory cannot be made or deleted
   */
  public static void main(String[] args) throws IOException {
    LoggerFactory
        .getILoggerFactory(); // logging set up on this thread first, before Pekko's threads log
    Path directory = Files.createTempDirectory("zverse-durable-example-");
    try {
      run(directory, System.out);
    } finally {
      deleteRecursively(directory);
    }
  }

  /**
   * Runs the application twice on {@code directory}, each time in its own actor system, printing
   * what it finds.
   *
   * @param directory the data directory, empty or missing; left in place
   * @param out where the example prints
   * @return what the two runs saw
   */
  public static Runs run(Path directory, PrintStream out) {
    out.println("the first run, on an empty data directory:");
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ledger-app");
    String firstReport;
    List<Long> written = new ArrayList<>();
    IllegalStateException refusal = null;
    try {
      StoreSettings settings = StoreSettings.create(system, "ledger").withDataDirectory(directory);
      ZVerseStore ledger = ZVerseStore.open(system, "ledger", settings);
      firstReport = ledger.recoveryReport().orElseThrow();
      out.printf("  opened: %s%n", firstReport);

      // Each version is on the disk (sync = every-commit) before its stage completes.
      written.add(ledger.put("accounts/ada", "100").toCompletableFuture().join());
      written.add(ledger.put("accounts/alan", "50").toCompletableFuture().join());
      written.add(
          ledger
              .write(
                  WriteBatch.builder() // a transfer of 30: both accounts or neither
                      .requireValue("accounts/ada", "100")
                      .put("accounts/ada", "70")
                      .put("accounts/alan", "80")
                      .build())
              .toCompletableFuture()
              .join());
      out.printf(
          "  committed versions %s: ada 100, alan 50, then a transfer of 30 from ada to alan%n",
          written);

      try {
        ZVerseStore.open(
            system, "ledger-copy", settings); // the same directory, while the first holds it
        out.println("  a second store opened the same directory: THE LOCK DID NOT HOLD");
      } catch (IllegalStateException e) {
        refusal = e;
        out.printf(
            "  a second store on the directory is refused: %s%n",
            String.valueOf(e.getMessage()).replace(directory.toString(), "<data directory>"));
      }

      ledger.close().toCompletableFuture().join(); // a final checkpoint, then the lock is released
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
    List<String> files = list(directory);
    out.printf("  closed; the data directory holds %s%n", files);

    out.println("the second run, in a new actor system, on the same directory:");
    system = ActorSystem.create(Behaviors.empty(), "ledger-app");
    try {
      ZVerseStore ledger =
          ZVerseStore.open(
              system,
              "ledger",
              StoreSettings.create(system, "ledger").withDataDirectory(directory));
      String secondReport = ledger.recoveryReport().orElseThrow();
      out.printf("  opened: %s%n", secondReport);
      String adaNow = ledger.get("accounts/ada");
      String adaAtFirstVersion = ledger.snapshot().get("accounts/ada", written.get(0));
      out.printf(
          "  version %d; accounts/ada = %s, alan = %s; at version %d ada was %s%n",
          ledger.version(), adaNow, ledger.get("accounts/alan"), written.get(0), adaAtFirstVersion);
      List<Change> history = ledger.snapshot().history("accounts/ada", 0, ledger.version());
      for (Change c : history) {
        out.printf("  history of accounts/ada: v%d = %s%n", c.version(), c.valueUtf8());
      }
      long next = ledger.put("accounts/grace", "10").toCompletableFuture().join();
      out.printf(
          "  the next write takes version %d: versions continue where the first run stopped%n",
          next);
      ledger.close().toCompletableFuture().join();
      return new Runs(
          firstReport,
          written,
          refusal,
          files,
          secondReport,
          adaNow,
          adaAtFirstVersion,
          history,
          next);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private static List<String> list(Path directory) {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path directory) throws IOException {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
