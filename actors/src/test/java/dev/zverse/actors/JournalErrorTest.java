package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@link Error} on the journal's log or checkpoint thread (an executor keeps whatever a task
 * throws to itself) fails the store and its close, which completes at once with it instead of
 * never. Found as a {@link NoSuchMethodError}: tests run against a stale engine jar left in the
 * local Maven repository, where the close of every durable store hung until the test's timeout.
 */
@ExtendWith(LogCapturingExtension.class)
class JournalErrorTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static StoreSettings durable(Path dir) {
    return kit.settings().withDataDirectory(dir).withRetentionVersions(Long.MAX_VALUE);
  }

  /** The close failed with {@code error}, named with the store; the store failed with it too. */
  private static void assertFailedWith(ZVerseStore store, Error error, Throwable closeFailure) {
    String message = closeFailure.getMessage();
    assertTrue(message.contains("store [" + store.name() + "]"), message);
    assertTrue(message.contains(error.toString()), message);
    assertSame(error, closeFailure.getCause(), "the close's cause is the error itself");
    assertSame(error, store.failure().orElseThrow().getCause(), "the store failed with it");
  }

  /** The directory was released: a store opens it again and finds the acknowledged write. */
  private static void assertRecovered(Path dir) {
    ZVerseStore reopened = kit.open(durable(dir));
    assertEquals("1", reopened.get("a"), "the log holds the acknowledged write");
    assertTrue(reopened.failure().isEmpty(), "a reopened store takes writes again");
    await(reopened.put("b", "2"));
    await(reopened.close());
  }

  @Test
  void anErrorInTheFinalCheckpointFailsTheCloseInsteadOfHangingIt(@TempDir Path dir) {
    ZVerseStore store = kit.open(durable(dir));
    await(store.put("a", "1"));
    Faulty faulty = Faulty.inject(store, Call.CHECKPOINT);

    Throwable failed =
        LoggingTestKit.error("checkpoint thread threw")
            .expect(kit.testKit.system(), () -> awaitFailure(store.close()));

    assertTrue(faulty.thrown.isDone(), "the final checkpoint met the error");
    assertFailedWith(store, faulty.error, failed);
    assertRecovered(dir);
  }

  @Test
  void anErrorInAnEarlierCheckpointFailsTheStoreAndItsClose(@TempDir Path dir) {
    ZVerseStore store =
        kit.open(durable(dir).withDurability(d -> d.withCheckpointEveryVersions(1)));
    // Only the checkpoint that the put asks for throws; the close's final one would succeed, so a
    // close that completes normally would mean that the first error went unnoticed.
    Faulty faulty = Faulty.inject(store, Call.CHECKPOINT);

    Throwable failed =
        LoggingTestKit.error("checkpoint thread threw")
            .expect(
                kit.testKit.system(),
                () -> {
                  await(store.put("a", "1"));
                  return awaitFailure(store.close());
                });

    assertTrue(faulty.thrown.isDone(), "the put's checkpoint met the error");
    assertFailedWith(store, faulty.error, failed);
    assertRecovered(dir);
  }

  @Test
  void anErrorInAnAppendFailsTheWriteTheStoreAndTheClose(@TempDir Path dir) {
    ZVerseStore store = kit.open(durable(dir));
    await(store.put("a", "1"));
    Faulty faulty = Faulty.inject(store, Call.APPEND);

    Throwable refused =
        LoggingTestKit.error("to the durable log failed")
            .expect(kit.testKit.system(), () -> awaitFailure(store.put("b", "2")));

    StoreFailedException f = assertInstanceOf(StoreFailedException.class, refused);
    assertSame(faulty.error, f.getCause(), "the write is refused with the error as the cause");
    assertFailedWith(store, faulty.error, awaitFailure(store.close()));
    assertRecovered(dir);
  }

  @Test
  void anErrorInThePeriodicForceFailsTheStoreAndTheClose(@TempDir Path dir) {
    ZVerseStore store =
        kit.open(
            durable(dir)
                .withDurability(
                    d -> d.withSync(SyncPolicy.INTERVAL).withSyncInterval(Duration.ofMillis(5))));
    await(store.put("a", "1"));
    Faulty faulty = Faulty.inject(store, Call.SYNC);

    // The close waits for the log thread to end, so for the force that met the error to finish.
    Throwable failed =
        LoggingTestKit.error("forcing the durable log failed")
            .expect(
                kit.testKit.system(),
                () -> {
                  await(faulty.thrown);
                  return awaitFailure(store.close());
                });

    assertFailedWith(store, faulty.error, failed);
    assertRecovered(dir);
  }

  /** Which call on the log throws. */
  enum Call {
    APPEND,
    SYNC,
    CHECKPOINT
  }

  /**
   * The journal's calls on the log, the first of one kind throwing an {@link Error} (a {@link
   * NoSuchMethodError}, as a stale engine jar did) instead of going to the log.
   */
  private static final class Faulty implements Journal.LogWrites {
    private final Journal.LogWrites log;
    private final Call call;
    final NoSuchMethodError error =
        new NoSuchMethodError(
            "'long dev.zverse.engine.DurableLog.lastCheckpointBytes()' (injected: a stale jar)");

    /** Completed when the error is thrown, just before. */
    final CompletableFuture<Void> thrown = new CompletableFuture<>();

    private Faulty(Journal.LogWrites log, Call call) {
      this.log = log;
      this.call = call;
    }

    static Faulty inject(ZVerseStore store, Call call) {
      Journal journal = Objects.requireNonNull(store.journal(), "a durable store has a journal");
      Faulty faulty = new Faulty(journal.writes(), call);
      journal.writes(faulty);
      return faulty;
    }

    private void meet(Call c) {
      if (c == call && thrown.complete(null)) {
        throw error;
      }
    }

    @Override
    public void append(Snapshot previous, Snapshot next) throws IOException {
      meet(Call.APPEND);
      log.append(previous, next);
    }

    @Override
    public void sync() throws IOException {
      meet(Call.SYNC);
      log.sync();
    }

    @Override
    public void checkpoint(Snapshot s) throws IOException {
      meet(Call.CHECKPOINT);
      log.checkpoint(s);
    }
  }
}
