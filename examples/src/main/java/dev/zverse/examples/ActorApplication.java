package dev.zverse.examples;

import dev.zverse.actors.ReadTransaction;
import dev.zverse.actors.WriteReply;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.WriteBatch;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Example 3, a Pekko typed application: a shop whose clerk actors reserve stock in a store.
 *
 * <p>The guardian ({@link Shop}) opens the store {@code inventory} through its actor system's
 * {@link ZVerse} registry, writes the initial stock through the store's actor protocol ({@link
 * ZVerseStore#write(WriteBatch, ActorRef)}, one {@link WriteReply} per write, no ask), then hands
 * the orders to three {@link Clerk}s. A clerk reads the stock directly from the latest snapshot (no
 * message), and writes the reservation as one batch that requires the stock entry to be unchanged
 * since it read it. When two clerks race for the same item, the writer commits one batch and
 * refuses the other with a {@link ConditionFailedException}; the refused clerk reads again and
 * retries. No stock is ever sold twice, and nothing is locked.
 *
 * <p>Run: {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.ActorApplication}
 */
public final class ActorApplication {
  /** The stock the shop opens with. */
  public static final Map<String, Integer> STOCK = stock();

  /** The orders the clerks serve. */
  public static final List<Order> ORDERS = orders();

  private ActorApplication() {}

  /**
   * One order: reserve {@code quantity} of {@code item}.
   *
   * @param item the item's name
   * @param quantity how many, at least 1
   */
  public record Order(String item, int quantity) {
    /**
     * @throws NullPointerException if {@code item} is null
     * @throws IllegalArgumentException if {@code quantity} is below 1
     */
    public Order {
      Objects.requireNonNull(item, "item");
      if (quantity < 1) {
        throw new IllegalArgumentException("quantity must be at least 1, was " + quantity);
      }
    }
  }

  /**
   * What the shop ended with.
   *
   * @param outcomes every order's outcome, in the order they were answered
   * @param finalStock each item's stock at the end, read from one snapshot
   * @param reservations reservation entries in the store at the end
   * @param version the version of that snapshot
   */
  public record Report(
      List<Clerk.Outcome> outcomes,
      Map<String, Integer> finalStock,
      long reservations,
      long version) {}

  /**
   * Runs the shop on {@link #STOCK} and {@link #ORDERS}.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    LoggerFactory
        .getILoggerFactory(); // logging set up on this thread first, before Pekko's threads log
    run(System.out, STOCK, ORDERS);
  }

  /**
   * Starts an actor system whose guardian is a {@link Shop}, waits for it to serve every order, and
   * terminates the actor system.
   *
   * @param out where the shop prints
   * @param stock each item's initial stock, at least 0
   * @param orders the orders to serve
   * @return what the shop ended with
   * @throws IllegalStateException if the shop failed or took longer than 30 seconds
   */
  public static Report run(PrintStream out, Map<String, Integer> stock, List<Order> orders) {
    CompletableFuture<Report> done = new CompletableFuture<>();
    ActorSystem<Shop.Command> system =
        ActorSystem.create(
            Shop.create(Map.copyOf(stock), List.copyOf(orders), out, done), "actor-application");
    try {
      return done.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the shop was serving", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the shop did not finish: " + e, e);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  // ---------------------------------------------------------------- the guardian

  /**
   * The guardian: opens the store, writes the initial stock, spawns the clerks, hands out the
   * orders, and reports once every order is answered. It then stops, which terminates the actor
   * system; the actor system's coordinated shutdown closes the store.
   */
  public static final class Shop extends AbstractBehavior<Shop.Command> {
    private static final int CLERKS = 3;

    /** The shop's protocol: only its own adapters send to it. */
    public interface Command {}

    private record Stocked(WriteReply reply) implements Shop.Command {}

    private record Served(Clerk.Outcome outcome) implements Shop.Command {}

    private final ZVerseStore store;
    private final List<Order> orders;
    private final PrintStream out;
    private final CompletableFuture<Report> done;
    private final List<Clerk.Outcome> outcomes = new ArrayList<>();

    private Shop(
        ActorContext<Shop.Command> context,
        Map<String, Integer> stock,
        List<Order> orders,
        PrintStream out,
        CompletableFuture<Report> done) {
      super(context);
      this.orders = orders;
      this.out = out;
      this.done = done;
      this.store = ZVerse.get(context.getSystem()).open("inventory");
      WriteBatch.Builder initial = WriteBatch.builder();
      stock.forEach((item, count) -> initial.put(stockKey(item), Integer.toString(count)));
      store.write(initial.build(), context.messageAdapter(WriteReply.class, Stocked::new));
    }

    /**
     * The guardian's behaviour.
     *
     * @param stock each item's initial stock
     * @param orders the orders to serve
     * @param out where the shop prints
     * @param done completed with the report once every order is answered, or exceptionally if the
     *     initial stock could not be written
     * @return the behaviour
     */
    public static Behavior<Shop.Command> create(
        Map<String, Integer> stock,
        List<Order> orders,
        PrintStream out,
        CompletableFuture<Report> done) {
      return Behaviors.setup(context -> new Shop(context, stock, orders, out, done));
    }

    @Override
    public Receive<Shop.Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Stocked.class, this::onStocked)
          .onMessage(Served.class, this::onServed)
          .build();
    }

    private Behavior<Shop.Command> onStocked(Stocked stocked) {
      if (!stocked.reply().isCommitted()) {
        done.completeExceptionally(stocked.reply().failure());
        return Behaviors.stopped();
      }
      out.printf("stock written at version %d: %s%n", stocked.reply().version(), readStock());
      if (orders.isEmpty()) {
        return finish();
      }
      List<ActorRef<Clerk.Command>> clerks = new ArrayList<>();
      for (int i = 1; i <= CLERKS; i++) {
        clerks.add(getContext().spawn(Clerk.create("clerk-" + i, store), "clerk-" + i));
      }
      ActorRef<Clerk.Outcome> served =
          getContext().messageAdapter(Clerk.Outcome.class, Served::new);
      for (int i = 0; i < orders.size(); i++) {
        Order order = orders.get(i);
        clerks.get(i % CLERKS).tell(new Clerk.Reserve(order.item(), order.quantity(), served));
      }
      return this;
    }

    private Behavior<Shop.Command> onServed(Served served) {
      Clerk.Outcome o = served.outcome();
      outcomes.add(o);
      out.printf(
          "%s: %s %d x %s: %s%s%n",
          o.clerk(),
          o.reserved() ? "reserved" : "refused",
          o.quantity(),
          o.item(),
          o.detail(),
          o.attempts() > 1
              ? " (after " + (o.attempts() - 1) + " retry" + (o.attempts() > 2 ? "s" : "") + ")"
              : "");
      return outcomes.size() == orders.size() ? finish() : this;
    }

    private Behavior<Shop.Command> finish() {
      // One read transaction: the stock and the reservations at the same version.
      try (ReadTransaction tx = store.readTransaction()) {
        Map<String, Integer> finalStock = new LinkedHashMap<>();
        for (Entry e : tx.snapshot().scan(KeyRange.prefix("stock/"))) {
          finalStock.put(e.keyUtf8().substring("stock/".length()), Integer.parseInt(e.valueUtf8()));
        }
        long reservations = tx.snapshot().count(KeyRange.prefix("reservations/"));
        out.printf(
            "at version %d: stock %s, %d reservations recorded%n",
            tx.version(), finalStock, reservations);
        done.complete(new Report(List.copyOf(outcomes), finalStock, reservations, tx.version()));
      }
      return Behaviors.stopped();
    }

    private String readStock() {
      Map<String, Integer> stock = new LinkedHashMap<>();
      for (Entry e : store.snapshot().scan(KeyRange.prefix("stock/"))) {
        stock.put(e.keyUtf8().substring("stock/".length()), Integer.parseInt(e.valueUtf8()));
      }
      return stock.toString();
    }
  }

  // ---------------------------------------------------------------- a clerk

  /**
   * Serves reservations one at a time, stashing the ones that arrive meanwhile. Reads the stock
   * from the latest snapshot directly; writes a conditional batch through the store's actor
   * protocol, and retries when another clerk changed the stock between its read and its write.
   */
  public static final class Clerk extends AbstractBehavior<Clerk.Command> {
    private static final int STASH = 10_000;

    /** A clerk's protocol. */
    public interface Command {}

    /**
     * Reserve {@code quantity} of {@code item} if that many are in stock.
     *
     * @param item the item
     * @param quantity how many
     * @param replyTo receives the outcome
     */
    public record Reserve(String item, int quantity, ActorRef<Outcome> replyTo)
        implements Clerk.Command {}

    private record Written(WriteReply reply) implements Clerk.Command {}

    /**
     * How a reservation ended.
     *
     * @param clerk the clerk who served it
     * @param item the item
     * @param quantity how many were asked for
     * @param reserved whether they were reserved
     * @param version the version that committed the reservation; 0 if refused
     * @param attempts how many batches the clerk sent (more than 1 when another clerk got in
     *     between)
     * @param detail the stock before and after, or why it was refused
     */
    public record Outcome(
        String clerk,
        String item,
        int quantity,
        boolean reserved,
        long version,
        int attempts,
        String detail) {}

    /** The reservation being served: its request, attempt number and the stock read for it. */
    private record Pending(Reserve request, int attempt, int stockRead) {}

    private final StashBuffer<Clerk.Command> stash;
    private final String name;
    private final ZVerseStore store;
    private final ActorRef<WriteReply> written;
    private @Nullable Pending pending;
    private int sequence;

    private Clerk(
        ActorContext<Clerk.Command> context,
        StashBuffer<Clerk.Command> stash,
        String name,
        ZVerseStore store) {
      super(context);
      this.stash = stash;
      this.name = name;
      this.store = store;
      // tag::actor-adapter[]
      this.written = context.messageAdapter(WriteReply.class, Written::new); // no cast
      // end::actor-adapter[]
    }

    /**
     * A clerk's behaviour.
     *
     * @param name the clerk's name, used in reservation keys
     * @param store the store holding the stock
     * @return the behaviour
     */
    public static Behavior<Clerk.Command> create(String name, ZVerseStore store) {
      return Behaviors.withStash(
          STASH, stash -> Behaviors.setup(context -> new Clerk(context, stash, name, store)));
    }

    @Override
    public Receive<Clerk.Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Reserve.class, this::onReserve)
          .onMessage(Written.class, this::onWritten)
          .build();
    }

    private Behavior<Clerk.Command> onReserve(Reserve reserve) {
      if (pending != null) {
        stash.stash(reserve);
        return this;
      }
      return attempt(reserve, 1);
    }

    private Behavior<Clerk.Command> attempt(Reserve r, int attempt) {
      String key = stockKey(r.item());
      // tag::actor-read[]
      Entry stock = store.snapshot().entry(key); // a direct read: no message, no lock
      // end::actor-read[]
      int left = stock == null ? 0 : Integer.parseInt(stock.valueUtf8());
      if (stock == null || left < r.quantity()) {
        r.replyTo()
            .tell(
                new Outcome(
                    name, r.item(), r.quantity(), false, 0, attempt, "only " + left + " left"));
        return next();
      }
      // spotless:off (the README quotes this region verbatim, laid out for reading)
      // tag::actor-write[]
      WriteBatch reservation =
          WriteBatch.builder()
              .requireModVersion(key, stock.modVersion()) // nobody changed the stock since this read
              .put(key, Integer.toString(left - r.quantity()))
              .put(String.format("reservations/%s/%04d", name, ++sequence), r.quantity() + " x " + r.item())
              .build();
      store.write(reservation, written); // one message to the writer, one WriteReply back
      // end::actor-write[]
      // spotless:on
      pending = new Pending(r, attempt, left);
      return this;
    }

    private Behavior<Clerk.Command> onWritten(Written w) {
      // Only the write this actor sent answers with Written, and it set pending before sending.
      Pending p = Objects.requireNonNull(pending, "pending");
      pending = null;
      Reserve r = p.request();
      // spotless:off (the README quotes this region verbatim, laid out for reading)
      // tag::actor-reply[]
      if (w.reply().isCommitted()) {
        r.replyTo().tell(new Outcome(name, r.item(), r.quantity(), true, w.reply().version(), p.attempt(),
            "stock " + p.stockRead() + " -> " + (p.stockRead() - r.quantity()) + " at version " + w.reply().version()));
        return next();
      }
      Throwable failure = w.reply().failure();
      if (failure instanceof ConditionFailedException) {
        getContext().getLog().debug("[{}] stock of [{}] changed under it, retrying", name, r.item());
        return attempt(r, p.attempt() + 1);
      }
      // end::actor-reply[]
      // spotless:on
      r.replyTo()
          .tell(
              new Outcome(
                  name, r.item(), r.quantity(), false, 0, p.attempt(), "write failed: " + failure));
      return next();
    }

    /** Idle again: take the oldest stashed reservation, if any. */
    private Behavior<Clerk.Command> next() {
      return stash.isEmpty() ? this : stash.unstash(this, 1, Function.identity());
    }
  }

  private static String stockKey(String item) {
    return "stock/" + item;
  }

  private static Map<String, Integer> stock() {
    Map<String, Integer> stock = new LinkedHashMap<>();
    stock.put("chair", 6);
    stock.put("desk", 3);
    stock.put("lamp", 10);
    return Collections.unmodifiableMap(stock);
  }

  private static List<Order> orders() {
    return List.of(
        new Order("lamp", 2),
        new Order("lamp", 3),
        new Order("lamp", 1),
        new Order("chair", 2),
        new Order("chair", 2),
        new Order("chair", 1),
        new Order("desk", 1),
        new Order("desk", 1),
        new Order("desk", 2),
        new Order("lamp", 3),
        new Order("chair", 2),
        new Order("lamp", 2));
  }
}
