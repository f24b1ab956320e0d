package dev.zverse.examples;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.zverse.persistence.ZVerseDurableStateStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SpawnProtocol;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.persistence.query.UpdatedDurableState;
import org.apache.pekko.persistence.state.DurableStateStoreRegistry;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.state.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.state.javadsl.DurableStateBehavior;
import org.apache.pekko.persistence.typed.state.javadsl.Effect;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.LoggerFactory;

/**
 * Example 7, Pekko Persistence durable state: {@code DurableStateBehavior} actors keep their state
 * in a durable ZVerse store through the plug-in of the {@code persistence} module.
 *
 * <p>The example runs the application twice on one data directory (a temporary one, deleted at the
 * end). The first run starts two {@link Account} actors and deposits into them; each deposit is an
 * upsert of the account's state at its next revision, on the disk before the actor replies. The
 * second run, in a new actor system as after a restart, starts the same accounts: they recover
 * their balances and go on. Then it queries the plug-in: {@code currentChanges} by tag (the latest
 * state of each account), {@code changes} from the first offset (every revision, with the store
 * version as the offset), and an account's state at an older version, read through ZVerse (time
 * travel).
 *
 * <p>The state is a record with a serializer of its own ({@link BalanceSerializer}), bound in the
 * configuration as any Pekko serializer is; the plug-in stores its serializer id and manifest.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.DurableStateExample}
 */
public final class DurableStateExample {
  private DurableStateExample() {}

  /**
   * An account's state.
   *
   * @param cents the balance, in cents
   * @param deposits how many deposits made it
   */
  public record Balance(long cents, int deposits) {}

  /** An account: a durable state actor tagged {@code accounts}. */
  public static final class Account extends DurableStateBehavior<Account.Command, Balance> {
    /** What an account does. */
    public interface Command {}

    /**
     * Adds {@code cents} and replies with the new balance once it is stored.
     *
     * @param cents the amount, in cents
     * @param replyTo who hears the new balance
     */
    public record Deposit(long cents, ActorRef<Balance> replyTo) implements Command {}

    /**
     * Replies with the balance.
     *
     * @param replyTo who hears it
     */
    public record GetBalance(ActorRef<Balance> replyTo) implements Command {}

    /**
     * The account {@code id}, persistence id {@code Account|<id>}.
     *
     * @param id the account's id
     * @return its behavior
     */
    public static Behavior<Command> create(String id) {
      return new Account(PersistenceId.of("Account", id));
    }

    private Account(PersistenceId persistenceId) {
      super(persistenceId);
    }

    @Override
    public Balance emptyState() {
      return new Balance(0, 0);
    }

    @Override
    public String tag() {
      return "accounts";
    }

    @Override
    public CommandHandler<Command, Balance> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(Deposit.class, this::onDeposit)
          .onCommand(GetBalance.class, (state, c) -> Effect().reply(c.replyTo(), state))
          .build();
    }

    private Effect<Balance> onDeposit(Balance state, Deposit c) {
      Balance next = new Balance(state.cents() + c.cents(), state.deposits() + 1);
      return Effect().persist(next).thenReply(c.replyTo(), stored -> stored);
    }
  }

  /** The state's serializer: 8 bytes of cents, 4 of deposits; manifest {@code balance-v1}. */
  public static final class BalanceSerializer extends SerializerWithStringManifest {
    /** Creates the serializer; Pekko calls this. */
    public BalanceSerializer() {}

    @Override
    public int identifier() {
      return 7301;
    }

    @Override
    public String manifest(Object o) {
      return "balance-v1";
    }

    @Override
    public byte[] toBinary(Object o) {
      Balance b = (Balance) o;
      return ByteBuffer.allocate(12).putLong(b.cents()).putInt(b.deposits()).array();
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) {
      if (!manifest.equals("balance-v1")) {
        throw new IllegalArgumentException("unknown manifest [" + manifest + "] of a Balance");
      }
      ByteBuffer b = ByteBuffer.wrap(bytes);
      return new Balance(b.getLong(), b.getInt());
    }
  }

  /**
   * What the runs saw.
   *
   * @param firstRun the balances the first run's deposits replied with, in order
   * @param recovered the balance of {@code ada} after the restart, before any command
   * @param afterRestart the balance after a deposit in the second run
   * @param latest the latest change of each account, as {@code pid rev=N cents=C @version}
   * @param revisions every change from the first offset, in the same form
   * @param adaAtFirstVersion {@code ada}'s balance at the version of her first deposit
   */
  public record Runs(
      List<Balance> firstRun,
      Balance recovered,
      Balance afterRestart,
      List<String> latest,
      List<String> revisions,
      Balance adaAtFirstVersion) {}

  /**
   * Runs the example in a new temporary directory and deletes it afterwards.
   *
   * @param args ignored
   * @throws IOException if the temporary directory cannot be made or deleted
   */
  public static void main(String[] args) throws IOException {
    // Logging is set up on this thread first, before Pekko's threads log.
    LoggerFactory.getILoggerFactory();
    Path directory = Files.createTempDirectory("zverse-durable-state-example-");
    try {
      run(directory, System.out);
    } finally {
      try (Stream<Path> paths = Files.walk(directory)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  /**
   * The application's configuration: the plug-in selected, its store durable in {@code directory},
   * the state's serializer bound.
   *
   * @param directory the store's data directory
   * @return the configuration, with the defaults as fallback
   */
  static Config config(Path directory) {
    return ConfigFactory.parseString(
            """
            pekko.persistence.state.plugin = "zverse.persistence.state"
            zverse.persistence.state.store = "accounts"
            pekko.actor {
              serializers.balance = "dev.zverse.examples.DurableStateExample$BalanceSerializer"
              serialization-bindings {
                "dev.zverse.examples.DurableStateExample$Balance" = balance
              }
            }
            """)
        .withValue(
            "zverse.stores.accounts.durability.data-directory",
            ConfigValueFactory.fromAnyRef(directory.toString()))
        .withFallback(ConfigFactory.load());
  }

  /**
   * Runs the application twice on {@code directory}, each time in its own actor system.
   *
   * @param directory the data directory, empty or missing; left in place
   * @param out where the example prints
   * @return what the runs saw
   */
  public static Runs run(Path directory, PrintStream out) {
    out.println("the first run, on an empty data directory:");
    List<Balance> firstRun = new ArrayList<>();
    ActorSystem<SpawnProtocol.Command> system =
        ActorSystem.create(SpawnProtocol.create(), "bank", config(directory));
    try {
      ActorRef<Account.Command> ada = spawn(system, "ada");
      ActorRef<Account.Command> alan = spawn(system, "alan");
      firstRun.add(deposit(system, ada, 100_00));
      firstRun.add(deposit(system, alan, 20_00));
      firstRun.add(deposit(system, ada, 50_00));
      out.printf("  deposits replied %s%n", firstRun);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }

    out.println("the second run, in a new actor system, on the same directory:");
    system = ActorSystem.create(SpawnProtocol.create(), "bank", config(directory));
    try {
      ActorRef<Account.Command> ada = spawn(system, "ada");
      Balance recovered =
          join(AskPattern.ask(ada, Account.GetBalance::new, TIMEOUT, system.scheduler()));
      out.printf("  ada recovered %s%n", recovered);
      Balance afterRestart = deposit(system, ada, 25_00);
      out.printf("  a deposit of 25.00 after the restart: %s%n", afterRestart);

      // The plug-in's own store: queries by tag, and reads at older versions.
      @SuppressWarnings("unchecked")
      ZVerseDurableStateStore<Balance> accounts =
          DurableStateStoreRegistry.get(Adapter.toClassic(system))
              .getDurableStateStoreFor(ZVerseDurableStateStore.class, "zverse.persistence.state");
      CompletionStage<List<DurableStateChange<Balance>>> latest =
          accounts.currentChanges("accounts", Offset.noOffset()).runWith(Sink.seq(), system);
      List<String> latestText = join(latest).stream().map(DurableStateExample::describe).toList();
      latestText.forEach(c -> out.printf("  latest: %s%n", c));

      // Every revision: the live query from the first offset, the first four changes of it.
      List<DurableStateChange<Balance>> every =
          join(
              accounts.changes("accounts", Offset.sequence(0)).take(4).runWith(Sink.seq(), system));
      List<String> revisions = every.stream().map(DurableStateExample::describe).toList();
      revisions.forEach(c -> out.printf("  revision: %s%n", c));

      long firstVersion = ((Sequence) every.get(0).offset()).value();
      Balance then = accounts.getObject("Account|ada", firstVersion).value().orElseThrow();
      out.printf("  Account|ada at version %d: %s%n", firstVersion, then);
      return new Runs(firstRun, recovered, afterRestart, latestText, revisions, then);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static ActorRef<Account.Command> spawn(
      ActorSystem<SpawnProtocol.Command> system, String id) {
    return join(
        AskPattern.<SpawnProtocol.Command, ActorRef<Account.Command>>ask(
            system,
            r -> new SpawnProtocol.Spawn<>(Account.create(id), id, Props.empty(), r),
            TIMEOUT,
            system.scheduler()));
  }

  private static Balance deposit(
      ActorSystem<?> system, ActorRef<Account.Command> account, long cents) {
    return join(
        AskPattern.ask(account, r -> new Account.Deposit(cents, r), TIMEOUT, system.scheduler()));
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  private static String describe(DurableStateChange<Balance> c) {
    UpdatedDurableState<Balance> u = (UpdatedDurableState<Balance>) c;
    return u.persistenceId()
        + " rev="
        + u.revision()
        + " cents="
        + u.value().cents()
        + " @"
        + ((Sequence) u.offset()).value();
  }
}
