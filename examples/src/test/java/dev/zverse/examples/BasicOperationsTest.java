package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BasicOperationsTest {
  private static ActorSystem<Void> system;

  @BeforeAll
  static void start() {
    system = ActorSystem.create(Behaviors.empty(), "basic-operations-test");
  }

  @AfterAll
  static void stop() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  @Test
  void printsWhatEachReadSawAtEachVersion() {
    Output out = new Output();
    BasicOperations.run(system, out.stream);
    assertEquals(
        List.of(
            "put key1, key2, key1 again: versions 1, 2, 3",
            "get(key1)        = value1-updated",
            "get(key1, v1)    = value1",
            "delete(key2): version 4; get(key2) = null, get(key2, v3) = value2",
            "history(key2), deletes included:",
            "  v2 = value2",
            "  v4 deleted",
            "three users in one batch: version 5; grace updated: version 6",
            "scan(users/):",
            "  users/ada = Ada Lovelace (created v5, changed v5)",
            "  users/alan = Alan Turing (created v5, changed v5)",
            "  users/grace = Rear Admiral Grace Hopper (created v5, changed v6)",
            "scan(users/) at v5, newest key first, at most 2:",
            "  users/grace = Grace Hopper",
            "  users/alan = Alan Turing",
            "closed at version 6"),
        out.lines());
  }
}
