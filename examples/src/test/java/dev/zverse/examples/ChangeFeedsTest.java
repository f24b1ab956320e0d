package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Change;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.examples.ChangeFeeds.Seen;
import dev.zverse.streams.ChangeFeedLagException;
import dev.zverse.streams.WriteResult;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

class ChangeFeedsTest {
  @Test
  void theFeedsReplayThenFollowLiveWithoutGapOrDuplicateAndCancellingReleasesThePin() {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "change-feeds-test");
    Output out = new Output();
    Seen seen;
    try {
      seen = ChangeFeeds.run(system, out.stream);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }

    // after(1) is exclusive; v2 and v6 touch no order and are skipped; previous values are right.
    assertEquals(
        List.of(
            "  v3 replayed orders/1002: (absent) -> open",
            "  v4 replayed orders/1001: open -> paid",
            "  v5 live     orders/1002: open -> paid",
            "  v7 live     orders/1001: paid -> shipped",
            "  v8 live     orders/1002: paid -> (deleted); orders/1003: (absent) -> open"),
        seen.perCommit(),
        out::text);
    assertTrue(
        out.text().contains("caught up at v4: the next pull waits for the next commit"), out::text);
    assertEquals(1, seen.pinsWhileFollowing(), out::text);
    assertEquals(0, seen.pinsAfterCancel(), out::text);
    assertEquals(List.of(5L, 6L, 7L, 8L), seen.written(), "a write flow commits in order");

    ChangeFeedLagException lag = assertInstanceOf(ChangeFeedLagException.class, seen.lagFailure());
    assertEquals(0, lag.requestedVersion());
    assertEquals(8, lag.latestVersion());
    assertEquals(2, lag.maxLag());

    assertEquals(List.of(8L, 9L), seen.snapshotVersions(), out::text);
    List<WriteResult> results = seen.results();
    assertEquals(2, results.size());
    assertTrue(results.get(0).isCommitted());
    assertEquals(9, results.get(0).version());
    assertFalse(results.get(1).isCommitted());
    assertInstanceOf(ConditionFailedException.class, results.get(1).failure());

    // The flattened feed: every order change from version 1 on, in version then key order, until
    // the store closed.
    assertEquals(
        List.of(
            "@1 \"orders/1001\"=\"open\"",
            "@3 \"orders/1002\"=\"open\"",
            "@4 \"orders/1001\"=\"paid\"",
            "@5 \"orders/1002\"=\"paid\"",
            "@7 \"orders/1001\"=\"shipped\"",
            "@8 \"orders/1002\" deleted",
            "@8 \"orders/1003\"=\"open\"",
            "@9 \"orders/1004\"=\"open\""),
        seen.flattened().stream().map(Change::toString).toList(),
        out::text);
    assertTrue(
        out.lines().get(out.lines().size() - 1).equals("  v9 orders/1004 = open"), out::text);
  }
}
