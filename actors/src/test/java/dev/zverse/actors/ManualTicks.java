package dev.zverse.actors;

import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The fixture of the tests that drive the EpochActor's ticks, as a JUnit 5 extension: a kit whose
 * scheduler moves only when {@link #tick} moves Pekko's {@link ManualTime}, so that "after a tick"
 * and "before the window ends" are facts of the test whatever the machine's load; settings with
 * those ticks and a {@link ManualClock}; and a second kit in real time, for the races with pruning
 * that need a busy epoch. Register it in a static field with {@code @RegisterExtension}: both actor
 * systems start with the test class and are shut down after it.
 */
final class ManualTicks implements AfterAllCallback {
  /** The epoch tick of {@link #settings}: one {@link #tick} lets exactly one pass. */
  static final Duration TICK = Duration.ofSeconds(1);

  /** Where the clock of {@link #settings()} starts. */
  static final Instant START = Instant.parse("2026-11-29T12:00:00Z");

  /** Its scheduler moves only with {@link #tick}. */
  final StoreTestKit kit = StoreTestKit.create(ManualTime.config());

  /** Real time, for the races with pruning that need a busy epoch. */
  final StoreTestKit realTime = StoreTestKit.create();

  private final ManualTime manualTime = ManualTime.get(kit.testKit.system());

  /** The default settings of {@link #kit} with manual ticks and {@code clock}. */
  StoreSettings settings(ManualClock clock) {
    return kit.settings().withEpochTick(TICK).withClock(clock);
  }

  /** {@link #settings(ManualClock)} with a fresh clock at {@link #START}. */
  StoreSettings settings() {
    return settings(new ManualClock(START));
  }

  /**
   * Lets one epoch tick pass and returns the stats asked for right after it. Moving the manual time
   * sends the tick into the EpochActor's mailbox on this thread, so the stats request, sent next,
   * is answered after the tick ran; the prune the tick sent may still be on its way to the writer.
   */
  EpochStats tick(ZVerseStore store) {
    manualTime.timePasses(TICK);
    return StoreTestKit.await(store.epochStats());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    try {
      kit.shutdown();
    } finally {
      realTime.shutdown();
    }
  }
}
