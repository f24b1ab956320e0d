package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitStats;
import static dev.zverse.actors.StoreTestKit.putVersions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pruning, through the whole store: the EpochActor decides, the writer applies, and only a publish
 * that moves the version wakes the publish listeners (change feeds, snapshot sources).
 */
@ExtendWith(LogCapturingExtension.class)
class PruneWakeupTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /** Records the version of every snapshot it is told of, on the writer's thread. */
  private static final class Recorder implements PublishListener {
    final List<Long> versions = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void published(Snapshot snapshot) {
      versions.add(snapshot.version());
    }

    @Override
    public void stopped(Snapshot last) {}

    List<Long> seen() {
      synchronized (versions) {
        return List.copyOf(versions);
      }
    }
  }

  private static StoreSettings pruneEveryTick() {
    return kit.settings().withEpochTick(Duration.ofMillis(10)).withRetentionVersions(1);
  }

  @Test
  void pruningWakesNoListenerForAVersionThatDidNotMoveAndAnIdleStoreIsStillPruned() {
    pruneAndCountWakeups(kit.open(pruneEveryTick()));
  }

  /** Through the log: a group that only prunes is sealed, appended (as nothing), published. */
  @Test
  void aDurableStoreIsPrunedWhenIdleTooAndReopensAtItsLastVersion(@TempDir Path dir) {
    pruneAndCountWakeups(kit.open(pruneEveryTick().withDataDirectory(dir)));
    ZVerseStore reopened = kit.open(pruneEveryTick().withDataDirectory(dir));
    assertEquals(6, reopened.version());
    assertEquals("v6", reopened.get("k"));
    await(reopened.close());
  }

  private static void pruneAndCountWakeups(ZVerseStore store) {
    Recorder recorder = new Recorder();
    store.advanced().addPublishListener(recorder);

    putVersions(store, 1, 5);
    // Nothing is written from here on: the watermark must still reach the retention target.
    awaitStats(store, s -> s.watermark() == 5, "an idle store pruned to its retention");
    assertThrows(VersionCompactedException.class, () -> store.snapshot().get("k", 4));
    putVersions(store, 6, 6);
    awaitStats(store, s -> s.watermark() == 6, "pruned again after the next write");
    await(store.close());

    // Each awaited write is its own group: one wake-up per version, none for a prune.
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), recorder.seen());
  }
}
