package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.DurableLog;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@link Error} on the journal's checkpoint thread (the executor keeps whatever a task throws to
 * itself) fails the store and its close, which completes at once with it instead of never. Found as
 * a {@link NoSuchMethodError}: tests run against a stale engine jar left in the local Maven
 * repository, where the close of every durable store hung until the test's timeout.
 */
@ExtendWith(LogCapturingExtension.class)
class JournalErrorTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static StoreSettings durable(Path dir) {
    return kit.settings().withDataDirectory(dir).withRetentionVersions(Long.MAX_VALUE);
  }

  private static NoSuchMethodError staleEngine() {
    return new NoSuchMethodError(
        "'long dev.zverse.engine.DurableLog.lastCheckpointBytes()' (injected: a stale engine jar)");
  }

  private static Journal journal(ZVerseStore store) {
    return Objects.requireNonNull(store.journal(), "a durable store has a journal");
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
    NoSuchMethodError error = staleEngine();
    journal(store)
        .checkpointWriter(
            s -> {
              throw error;
            });

    Throwable failed =
        LoggingTestKit.error("checkpoint thread threw")
            .expect(kit.testKit.system(), () -> awaitFailure(store.close()));

    assertFailedWith(store, error, failed);
    assertRecovered(dir);
  }

  @Test
  void anErrorInAnEarlierCheckpointFailsTheStoreAndItsClose(@TempDir Path dir) {
    ZVerseStore store =
        kit.open(durable(dir).withDurability(d -> d.withCheckpointEveryVersions(1)));
    DurableLog log = Objects.requireNonNull(store.durableLog());
    NoSuchMethodError error = staleEngine();
    AtomicBoolean thrown = new AtomicBoolean();
    // Only the checkpoint that the put asks for throws; the close's final one would succeed, so a
    // close that completes normally would mean the first error went unnoticed.
    journal(store)
        .checkpointWriter(
            s -> {
              if (thrown.compareAndSet(false, true)) {
                throw error;
              }
              log.checkpoint(s);
            });

    Throwable failed =
        LoggingTestKit.error("checkpoint thread threw")
            .expect(
                kit.testKit.system(),
                () -> {
                  await(store.put("a", "1"));
                  return awaitFailure(store.close());
                });

    assertTrue(thrown.get(), "the put's checkpoint ran");
    assertFailedWith(store, error, failed);
    assertRecovered(dir);
  }
}
