package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.ConfigFactory;
import dev.zverse.engine.LogFaults;
import dev.zverse.engine.Snapshot;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.pekko.actor.ActorIdentity;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.AllDeadLetters;
import org.apache.pekko.actor.DeadLetterSuppression;
import org.apache.pekko.actor.Identify;
import org.apache.pekko.actor.SuppressedDeadLetter;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What a store logs, as a Pekko user configures it: every line under {@code dev.zverse}, and no
 * dead letters on close (with {@code pekko.log-dead-letters} on, as it is by default).
 */
@ExtendWith(LogCapturingExtension.class)
class StoreLoggingTest {
  /**
   * The marker published after the store's actors terminated: every earlier dead letter is seen. A
   * suppressed dead letter, so that Pekko does not log it: the log line of a plain one could reach
   * the captured lines after the fence, and be taken for a line of the store's.
   */
  private enum Fence implements DeadLetterSuppression {
    INSTANCE
  }

  private StoreTestKit kit;
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private Logger root;
  private Level rootLevel;

  @BeforeEach
  void start() {
    // Dead letters logged as Pekko does by default; the kit's own default turns them off.
    kit =
        StoreTestKit.create(
            ConfigFactory.parseString("pekko.loglevel = INFO\npekko.log-dead-letters = on"));
    // Captured only after the actor system started: from here on, every line is the store's.
    root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    rootLevel = root.getLevel();
    events.start();
    root.addAppender(events);
    root.setLevel(Level.DEBUG);
  }

  @AfterEach
  void stop() {
    root.detachAppender(events);
    root.setLevel(rootLevel);
    kit.shutdown();
  }

  @Test
  void everyLineOfOpenWriteAndCloseComesFromALoggerUnderDevZverseAndNoneIsADeadLetter(
      @TempDir Path dir) {
    synchronized (events) {
      events.list.clear(); // the test kit's own line that the test started
    }
    TestProbe<AllDeadLetters> deadLetters = kit.testKit.createTestProbe();
    // Subscribed synchronously, unlike the typed event stream's Subscribe message.
    Adapter.toClassic(kit.testKit.system())
        .getEventStream()
        .subscribe(Adapter.toClassic(deadLetters.ref()), AllDeadLetters.class);

    // Fast ticks keep prunes flowing to the writer while it closes; the long-pin warning makes the
    // EpochActor log; a throwing publish listener makes the writer log; the durable store's
    // journal logs its recovery. The last rounds fail the log under groups of two writes, so that
    // several appends are in the log thread when the first fails, and the store closes right away.
    StoreSettings settings =
        kit.settings()
            .withEpochTick(Duration.ofMillis(1))
            .withRetentionVersions(1)
            .withLongPinWarning(Duration.ofMillis(1));
    for (int round = 0; round < 30; round++) {
      boolean failing = round >= 20;
      boolean durable = failing || round % 2 == 0;
      StoreSettings s = durable ? settings.withDataDirectory(dir.resolve("r" + round)) : settings;
      ZVerseStore store = kit.open(failing ? s.withMaxGroupWrites(2) : s);
      List<ActorRef<Void>> actors = actorsOf(store);
      if (failing) {
        LogFaults.failWrites(store.durableLog(), new IOException("disk full, for the test"));
      }
      if (round == 0) {
        store.advanced().addPublishListener(new Throwing());
        ReadTransaction pin = store.readTransaction();
        await(store.put("k", "0"));
        await(store.put("k", "1"));
        awaitEvent("has pinned version");
        pin.close();
      }
      // Written and closed at once: the group-commit marker may still be in flight on close.
      List<CompletionStage<Long>> writes = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        writes.add(store.put("k" + i, "v" + round));
      }
      CompletionStage<?> closed = store.close();
      writes.forEach(failing ? StoreLoggingTest::settle : StoreTestKit::await);
      settle(closed);
      awaitTerminated(actors);
    }
    List<String> dead = deadLettersBeforeFence(deadLetters);

    assertEquals(List.of(), dead, "dead letters while the stores were open or closing");
    List<ILoggingEvent> lines = captured();
    List<String> foreign =
        lines.stream()
            .filter(e -> !e.getLoggerName().startsWith("dev.zverse."))
            .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage())
            .collect(Collectors.toList());
    assertEquals(List.of(), foreign, "lines from loggers outside dev.zverse");
    Set<String> loggers =
        lines.stream()
            .map(ILoggingEvent::getLoggerName)
            .collect(Collectors.toCollection(TreeSet::new));
    assertTrue(
        loggers.containsAll(
            Set.of(
                "dev.zverse.actors.WriterActor",
                "dev.zverse.actors.EpochActor",
                "dev.zverse.actors.Journal")),
        "each of the store's parts logged under its documented name: " + loggers);
  }

  /** Waits for {@code stage} to complete, either way. */
  private static void settle(CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().get(StoreTestKit.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException expected) {
      // refused or failed: all this test needs is that it is answered
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("not answered within " + StoreTestKit.TIMEOUT, e);
    }
  }

  /** The store's actors, found by their paths under /system, so that the test can watch them. */
  private List<ActorRef<Void>> actorsOf(ZVerseStore store) {
    TestProbe<ActorIdentity> identities = kit.testKit.createTestProbe();
    Adapter.toClassic(kit.testKit.system())
        .actorSelection("/system/zverse-" + store.name() + "-*")
        .tell(new Identify(store.name()), Adapter.toClassic(identities.ref()));
    List<ActorRef<Void>> found = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      found.add(Adapter.toTyped(identities.receiveMessage().getActorRef().get()));
    }
    return found;
  }

  private void awaitTerminated(List<ActorRef<Void>> actors) {
    // A stopped actor's mailbox goes to the dead letters before its watchers hear of it.
    TestProbe<Void> watcher = kit.testKit.createTestProbe();
    for (ActorRef<Void> actor : actors) {
      watcher.expectTerminated(actor, StoreTestKit.TIMEOUT);
    }
  }

  /** The dead letters published so far: those before a fence published now. */
  private List<String> deadLettersBeforeFence(TestProbe<AllDeadLetters> probe) {
    ActorSystem classic = Adapter.toClassic(kit.testKit.system());
    classic
        .getEventStream()
        .publish(
            new SuppressedDeadLetter(Fence.INSTANCE, classic.deadLetters(), classic.deadLetters()));
    List<String> dead = new ArrayList<>();
    for (AllDeadLetters d = probe.receiveMessage();
        d.message() != Fence.INSTANCE;
        d = probe.receiveMessage()) {
      dead.add(d.message().getClass().getName() + " to " + d.recipient().path());
    }
    return dead;
  }

  private void awaitEvent(String text) {
    long deadline = System.nanoTime() + StoreTestKit.TIMEOUT.toNanos();
    while (captured().stream().noneMatch(e -> e.getFormattedMessage().contains(text))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "no log line containing \"" + text + "\" within " + StoreTestKit.TIMEOUT);
      }
      LockSupport.parkNanos(1_000_000); // polls for the line; the warning needs a pin 1 ms old
    }
  }

  /** The events so far; the appender adds under its own monitor (AppenderBase.doAppend). */
  private List<ILoggingEvent> captured() {
    synchronized (events) {
      return List.copyOf(events.list);
    }
  }

  /** A listener that throws on every publish, which the writer logs and ignores. */
  private static final class Throwing implements PublishListener {
    @Override
    public void published(Snapshot snapshot) {
      throw new IllegalStateException("listener fault for the test");
    }

    @Override
    public void stopped(Snapshot last) {}
  }
}
