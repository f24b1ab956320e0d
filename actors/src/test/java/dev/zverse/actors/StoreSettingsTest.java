package dev.zverse.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.engine.Limits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class StoreSettingsTest {
  private static final Config ROOT = ConfigFactory.load();

  private static StoreSettings defaults() {
    return StoreSettings.create(ROOT.getConfig("zverse.store"));
  }

  @Test
  void referenceConfHoldsTheDefaults() {
    StoreSettings s = defaults();
    assertEquals(4096, s.maxKeyBytes());
    assertEquals(16 * 1024 * 1024, s.maxValueBytes());
    assertEquals(Limits.defaults(), s.limits());
    assertEquals(1000, s.retentionVersions());
    assertEquals(Duration.ZERO, s.retentionDuration());
    assertEquals(Duration.ofSeconds(1), s.epochTick());
    assertEquals(Duration.ofSeconds(30), s.longPinWarning());
    assertEquals(10_000, s.maxPendingWrites());
    assertEquals(1000, s.maxGroupWrites());
    assertEquals("zverse.writer-dispatcher", s.writerDispatcher());
    assertEquals(Duration.ofSeconds(5), s.askTimeout());
    assertTrue(s.zIndex().enabled());
    assertEquals(65_536, s.zIndex().segmentEntries());
    assertEquals("", s.zIndex().dispatcher());
  }

  @Test
  void aStoresSectionOverridesTheDefaultsKeyByKey() {
    Config root =
        ConfigFactory.parseString(
                "zverse.stores.orders { max-value-bytes = 1 KiB, retention { duration = 10m } }")
            .withFallback(ROOT);

    StoreSettings orders = StoreSettingsReader.forStore(root, "orders");
    StoreSettings other = StoreSettingsReader.forStore(root, "other");

    assertEquals(1024, orders.maxValueBytes());
    assertEquals(Duration.ofMinutes(10), orders.retentionDuration());
    assertEquals(1000, orders.retentionVersions(), "the rest of retention falls back");
    assertEquals(4096, orders.maxKeyBytes());
    assertEquals(16 * 1024 * 1024, other.maxValueBytes());
  }

  @Test
  void outOfBoundsConfigurationNamesTheSettingAndItsBounds() {
    assertMessage("max-key-bytes must be in [1, 65536], was 65537", "max-key-bytes = 65537");
    assertMessage(
        "max-value-bytes must be in [0, 1073741824], was 1073741825",
        "max-value-bytes = 1073741825");
    assertMessage("retention.versions must be >= 1, was 0", "retention.versions = 0");
    assertMessage(
        "retention.duration must be in [PT0S, PT87600H], was PT-1S", "retention.duration = -1s");
    assertMessage("epoch.tick must be in [PT0.001S, PT1H], was PT0S", "epoch.tick = 0s");
    assertMessage(
        "writer.max-pending-writes must be in [1, 16777216], was 0",
        "writer.max-pending-writes = 0");
    assertMessage(
        "writer.max-group-writes must be in [1, 65536], was 65537",
        "writer.max-group-writes = 65537");
    assertMessage("ask-timeout must be in [PT0.001S, PT1H], was PT2H", "ask-timeout = 2h");
    assertMessage(
        "z-index.segment-entries must be in [1, 16777216], was 0", "z-index.segment-entries = 0");
  }

  private static void assertMessage(String message, String setting) {
    Config config = ConfigFactory.parseString(setting).withFallback(ROOT.getConfig("zverse.store"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StoreSettings.create(config));
    assertEquals(message, e.getMessage());
  }

  @Test
  void copiersValidateAndLeaveTheOriginalUnchanged() {
    StoreSettings s = defaults();
    StoreSettings changed =
        s.withMaxPendingWrites(5).withRetentionVersions(7).withEpochTick(Duration.ofMillis(3));

    assertNotSame(s, changed);
    assertEquals(10_000, s.maxPendingWrites());
    assertEquals(5, changed.maxPendingWrites());
    assertEquals(7, changed.retentionVersions());
    assertEquals(Duration.ofMillis(3), changed.epochTick());
    assertEquals(
        "maxGroupWrites must be in [1, 65536], was 0",
        assertThrows(IllegalArgumentException.class, () -> s.withMaxGroupWrites(0)).getMessage());
    assertEquals(
        "maxKeyBytes must be in [1, 65536], was 0",
        assertThrows(IllegalArgumentException.class, () -> s.withMaxKeyBytes(0)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.withLongPinWarning(Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class, () -> s.withRetentionDuration(Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> s.withAskTimeout(Duration.ofDays(1)));
    assertThrows(NullPointerException.class, () -> s.withWriterDispatcher(null));
    assertThrows(NullPointerException.class, () -> s.withEpochTick(null));
    assertTrue(s.withWriterDispatcher("").writerDispatcher().isEmpty());
    assertEquals(
        "segmentEntries must be in [1, 16777216], was 0",
        assertThrows(
                IllegalArgumentException.class, () -> s.withZIndex(z -> z.withSegmentEntries(0)))
            .getMessage());
    assertEquals(8, s.withZIndex(z -> z.withSegmentEntries(8)).zIndex().segmentEntries());
    assertTrue(!s.withZIndex(z -> z.withEnabled(false)).zIndex().enabled());
    assertEquals("x", s.withZIndex(z -> z.withDispatcher("x")).zIndex().dispatcher());
  }

  @Test
  void outOfBoundsMessagesOfAStoreNameTheFullPathAndTheStore() {
    Config root =
        ConfigFactory.parseString(
                "zverse.stores.orders.retention.versions = 0\n"
                    + "zverse.store.writer.max-group-writes = 0")
            .withFallback(ROOT);
    Config defaultsOnly =
        ConfigFactory.parseString("zverse.store.writer.max-group-writes = 0").withFallback(ROOT);

    assertEquals(
        "zverse.stores.orders.retention.versions must be >= 1, was 0",
        assertThrows(
                IllegalArgumentException.class, () -> StoreSettingsReader.forStore(root, "orders"))
            .getMessage());
    assertEquals(
        "zverse.store.writer.max-group-writes (store other) must be in [1, 65536], was 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> StoreSettingsReader.forStore(defaultsOnly, "other"))
            .getMessage());
    Config badSync =
        ConfigFactory.parseString("zverse.stores.o.durability.sync = always").withFallback(ROOT);
    assertEquals(
        "zverse.stores.o.durability.sync must be one of every-commit, interval, never; was"
            + " \"always\"",
        assertThrows(
                IllegalArgumentException.class, () -> StoreSettingsReader.forStore(badSync, "o"))
            .getMessage());
  }

  @Test
  void aMisspeltKeyIsRefusedWithItsFullPathWhereItWasSetAndTheNearestSetting() {
    Config root =
        ConfigFactory.parseString("zverse.stores.orders { retention.version = 5 }")
            .withFallback(ROOT);

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> StoreSettingsReader.forStore(root, "orders"));

    assertEquals(
        "zverse.stores.orders.retention.version is not a setting of a store (set at String: 1); did"
            + " you mean zverse.stores.orders.retention.versions?",
        e.getMessage());
  }

  @Test
  void aMisspeltKeyAmongTheDefaultsIsRefusedForEveryStore() {
    Config root = ConfigFactory.parseString("zverse.store.epoch.tik = 5s").withFallback(ROOT);

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> StoreSettingsReader.forStore(root, "any"));

    assertTrue(
        e.getMessage().startsWith("zverse.store.epoch.tik is not a setting of a store"),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("did you mean zverse.store.epoch.tick?"), e.getMessage());
    Config section =
        ConfigFactory.parseString("epoch.tik = 5s").withFallback(ROOT.getConfig("zverse.store"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> StoreSettings.create(section))
            .getMessage()
            .endsWith("did you mean epoch.tick?"));
  }

  /**
   * Every setting misspelt in every way one slip of the fingers makes (a letter dropped, doubled,
   * or swapped with its neighbour) is refused, and the message suggests the setting meant.
   */
  @Test
  void everyOneSlipMisspellingOfEverySettingSuggestsThatSetting() {
    Config reference = ConfigFactory.defaultReference().getConfig("zverse.store");
    Set<String> known = StoreSettingsReader.knownKeys();
    assertEquals(reference.entrySet().size(), known.size());
    assertTrue(
        known.contains("retention.versions") && known.contains("durability.sync"),
        known.toString());
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (String key : known) {
      for (String slip : slips(key)) {
        if (known.contains(slip)
            || slip.startsWith(".")
            || slip.endsWith(".")
            || slip.contains("..")) {
          continue; // another setting, or no path at all
        }
        String path = "zverse.stores.orders." + slip;
        Config root =
            ConfigFactory.empty().withValue(path, reference.getValue(key)).withFallback(ROOT);
        checked++;
        try {
          StoreSettingsReader.forStore(root, "orders");
          wrong.add(slip + ": accepted");
        } catch (IllegalArgumentException e) {
          String expected =
              path
                  + " is not a setting of a store (set at "
                  + reference.getValue(key).origin().description()
                  + "); did you mean zverse.stores.orders."
                  + key
                  + "?";
          if (!e.getMessage().equals(expected)) {
            wrong.add(slip + ": " + e.getMessage());
          }
        }
      }
    }
    assertEquals(
        List.of(),
        wrong.subList(0, Math.min(20, wrong.size())),
        wrong.size() + " of " + checked + " wrong");
    assertTrue(checked > 1000, checked + " misspellings");
  }

  /** Every string one slip away from {@code key}: a character dropped, doubled, or swapped. */
  private static Set<String> slips(String key) {
    Set<String> slips = new TreeSet<>();
    for (int i = 0; i < key.length(); i++) {
      slips.add(key.substring(0, i) + key.substring(i + 1));
      slips.add(key.substring(0, i + 1) + key.charAt(i) + key.substring(i + 1));
      if (i + 1 < key.length() && key.charAt(i) != key.charAt(i + 1)) {
        slips.add(key.substring(0, i) + key.charAt(i + 1) + key.charAt(i) + key.substring(i + 2));
      }
    }
    slips.remove(key);
    return slips;
  }

  @Test
  void openingAStoreWithAMisspeltSettingFailsAndLeavesNothingOpen() {
    StoreTestKit kit =
        StoreTestKit.create(
            ConfigFactory.parseString(
                "zverse.stores.orders { retention.version = 5 }\n"
                    + "zverse.stores.fine { retention.versions = 5 }\n"
                    + "zverse.stores.zero { writer.max-pending-writes = 0 }"));
    try {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> ZVerseStore.open(kit.testKit.system(), "orders"));
      assertTrue(
          e.getMessage()
              .startsWith("zverse.stores.orders.retention.version is not a setting of a store"),
          e.getMessage());
      assertTrue(e.getMessage().endsWith("did you mean zverse.stores.orders.retention.versions?"));
      assertEquals(
          "zverse.stores.zero.writer.max-pending-writes must be in [1, 16777216], was 0",
          assertThrows(
                  IllegalArgumentException.class,
                  () -> ZVerseStore.open(kit.testKit.system(), "zero"))
              .getMessage());

      ZVerseStore fine = ZVerseStore.open(kit.testKit.system(), "fine");
      assertEquals(5, fine.settings().retentionVersions());
      StoreTestKit.await(fine.close());
      assertThrows(
          IllegalArgumentException.class, () -> ZVerseStore.open(kit.testKit.system(), "orders"));
    } finally {
      kit.shutdown();
    }
  }

  @Test
  void editDistanceCountsASwapOfNeighboursAsOne() {
    assertEquals(0, StoreSettingsReader.editDistance("tick", "tick"));
    assertEquals(1, StoreSettingsReader.editDistance("tick", "tikc"));
    assertEquals(1, StoreSettingsReader.editDistance("tick", "tik"));
    assertEquals(1, StoreSettingsReader.editDistance("tick", "trick"));
    assertEquals(1, StoreSettingsReader.editDistance("tick", "tack"));
    assertEquals(4, StoreSettingsReader.editDistance("", "tick"));
    assertEquals(3, StoreSettingsReader.editDistance("kitten", "sitting"));
  }

  @Test
  void storeNamesMustBeUsableInConfigPathsAndActorNames() {
    assertEquals("orders-2_b", StoreSettingsReader.requireStoreName("orders-2_b"));
    for (String bad : new String[] {"", "-a", "a.b", "a b", "a/b", "é", "x".repeat(65)}) {
      assertThrows(
          IllegalArgumentException.class, () -> StoreSettingsReader.requireStoreName(bad), bad);
    }
  }
}
