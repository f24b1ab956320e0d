package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.Change;
import dev.zverse.engine.QueryPath;
import dev.zverse.examples.TemporalQuery.Answer;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

class TemporalQueryTest {
  @Test
  void theIncidentWindowMapsToItsVersionsAndEveryPathGivesTheSameChanges() {
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), "temporal-query-test", TemporalQuery.config());
    Output out = new Output();
    Answer answer;
    try {
      answer = TemporalQuery.run(system, out.stream);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }

    // One batch per round, written in order from one thread: the incident's rounds are these
    // versions.
    assertEquals(TemporalQuery.ROUNDS_BEFORE + 1, answer.fromVersion(), out::text);
    assertEquals(
        TemporalQuery.ROUNDS_BEFORE + TemporalQuery.ROUNDS_DURING, answer.toVersion(), out::text);

    List<Change> changes = answer.changes();
    assertFalse(changes.isEmpty(), out::text);
    Change previous = null;
    for (Change c : changes) {
      assertTrue(c.keyUtf8().startsWith("sensors/eu-west/"), c::toString);
      assertTrue(
          c.version() >= answer.fromVersion() && c.version() <= answer.toVersion(), c::toString);
      if (previous != null) {
        assertTrue(
            previous.version() < c.version()
                || (previous.version() == c.version()
                    && previous.keyUtf8().compareTo(c.keyUtf8()) < 0),
            () -> "not in version, then key order: " + c);
      }
      previous = c;
    }
    // Three different algorithms over the same history agree.
    assertEquals(
        List.of(QueryPath.Z_INDEX, QueryPath.KEY_RANGE_WALK, QueryPath.COMMIT_WALK),
        List.copyOf(answer.byPath().keySet()));
    answer.byPath().forEach((path, found) -> assertEquals(changes, found, path::toString));
    assertTrue(answer.index().segments() >= 1, () -> "no sealed segment: " + answer.index());
    assertTrue(out.text().contains("same answer") && !out.text().contains("DIFFERENT"), out::text);
  }
}
