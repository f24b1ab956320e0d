package dev.zverse.testkit;

import static dev.zverse.testkit.ZVerseTestKit.await;
import static dev.zverse.testkit.ZVerseTestKit.awaitStats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.ZVerseStore;
import java.util.List;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shared kit: configuration over its defaults, fresh stores, waits and pulled streams. */
class ZVerseTestKitTest {
  private static ZVerseTestKit kit;

  @BeforeAll
  static void start() {
    kit =
        ZVerseTestKit.create(
            "zverse-testkit-test",
            ConfigFactory.parseString("zverse.store.retention.versions = 7"));
  }

  @AfterAll
  static void stop() {
    kit.shutdown();
  }

  @Test
  void overridesWinOverTheKitsDefaultsAndStoresGetFreshNames() {
    assertEquals("WARNING", kit.system().settings().config().getString("pekko.loglevel"));
    assertEquals(7, kit.settings().retentionVersions());
    ZVerseStore a = kit.open(kit.settings());
    ZVerseStore b = kit.open(kit.settings());
    assertNotEquals(a.name(), b.name());
    assertEquals(1, await(a.put("k", "v")));
    assertEquals("v", a.get("k"));
    assertTrue(awaitStats(a, s -> s.version() == 1, "version 1").version() == 1);
    await(a.close());
    await(b.close());
  }

  @Test
  void aPullTakesOneElementAtATimeAndSeesTheEnd() {
    ZVerseTestKit.Pull<Integer> pull = kit.pull(Source.from(List.of(1, 2)));
    assertEquals(1, pull.next());
    assertEquals(2, pull.next());
    assertTrue(pull.completed());
    ZVerseTestKit.Pull<Integer> empty = kit.pull(Source.empty());
    AssertionError e = assertThrows(AssertionError.class, empty::next);
    assertEquals("the stream completed, expected an element", e.getMessage());
    assertEquals(List.of(1, 2, 3), kit.collect(Source.from(List.of(1, 2, 3))));
  }
}
