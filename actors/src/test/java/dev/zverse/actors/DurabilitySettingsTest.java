package dev.zverse.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.engine.DurabilityOptions;
import dev.zverse.engine.SyncPolicy;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The {@code durability} section of the store settings. */
class DurabilitySettingsTest {
  private static final Config ROOT = ConfigFactory.load();

  private static StoreSettings defaults() {
    return StoreSettings.create(ROOT.getConfig("zverse.store"));
  }

  private static StoreSettings parse(String setting) {
    return StoreSettings.create(
        ConfigFactory.parseString(setting).withFallback(ROOT.getConfig("zverse.store")));
  }

  @Test
  void memoryOnlyIsTheDefault() {
    StoreSettings s = defaults();
    assertFalse(s.isDurable());
    assertTrue(s.dataDirectory().isEmpty());
    assertNull(s.durability().options());
    DurabilitySettings d = s.durability();
    assertEquals(SyncPolicy.EVERY_COMMIT, d.sync());
    assertEquals(Duration.ofMillis(100), d.syncInterval());
    assertEquals(Duration.ofNanos(300_000), d.groupCommitWait());
    assertEquals(64L << 20, d.segmentBytes());
    assertEquals(Duration.ofMinutes(5), d.checkpointInterval());
    assertEquals(1_000_000, d.checkpointEveryVersions());
    assertFalse(d.recoverPastCorruption());
  }

  @Test
  void aDataDirectoryMakesTheStoreDurableWithTheEngineOptionsItNames() {
    StoreSettings s =
        parse(
            "durability { data-directory = \"/var/lib/zverse/orders\", sync = interval, sync-interval = 20ms,"
                + " group-commit-wait = 2ms, segment-bytes = 1 MiB, checkpoint-interval = 0s, checkpoint-every-versions = 0,"
                + " recover-past-corruption = on }");
    assertTrue(s.isDurable());
    assertEquals(Path.of("/var/lib/zverse/orders"), s.dataDirectory().orElseThrow());
    DurabilityOptions o = s.durability().options();
    assertEquals(Path.of("/var/lib/zverse/orders"), o.directory());
    assertEquals(SyncPolicy.INTERVAL, o.sync());
    assertEquals(Duration.ofMillis(20), o.syncInterval());
    assertEquals(Duration.ofMillis(2), s.durability().groupCommitWait());
    assertEquals(
        Duration.ZERO, parse("durability.group-commit-wait = 0s").durability().groupCommitWait());
    assertEquals(1L << 20, o.segmentBytes());
    assertTrue(o.recoverPastCorruption());
    assertEquals(Duration.ZERO, s.durability().checkpointInterval());
    assertEquals(0, s.durability().checkpointEveryVersions());
    assertEquals(SyncPolicy.NEVER, parse("durability.sync = never").durability().sync());
    assertEquals(
        SyncPolicy.EVERY_COMMIT, parse("durability.sync = Every-Commit").durability().sync());
  }

  @Test
  void badValuesNameTheSettingAndItsBounds() {
    assertMessage(
        "durability.sync must be one of every-commit, interval, never; was \"always\"",
        "durability.sync = always");
    assertMessage(
        "durability.segment-bytes must be in [4096, 1073741824], was 1024",
        "durability.segment-bytes = 1 KiB");
    assertMessage(
        "durability.sync-interval must be in [PT0.001S, PT1H], was PT0S",
        "durability.sync-interval = 0s");
    assertMessage(
        "durability.group-commit-wait must be in [PT0S, PT1S], was PT2S",
        "durability.group-commit-wait = 2s");
    assertMessage(
        "durability.group-commit-wait must be in [PT0S, PT1S], was PT-0.001S",
        "durability.group-commit-wait = -1ms");
    assertMessage(
        "durability.checkpoint-interval must be in [PT0S, PT87600H], was PT-1S",
        "durability.checkpoint-interval = -1s");
    assertMessage(
        "durability.checkpoint-every-versions must be >= 0, was -1",
        "durability.checkpoint-every-versions = -1");
  }

  private static void assertMessage(String message, String setting) {
    assertEquals(
        message, assertThrows(IllegalArgumentException.class, () -> parse(setting)).getMessage());
  }

  @Test
  void copiersValidateAndKeepTheOtherSettings() {
    StoreSettings s = defaults().withMaxPendingWrites(7);
    StoreSettings d =
        s.withDataDirectory(Path.of("data"))
            .withDurability(
                o ->
                    o.withSync(SyncPolicy.NEVER)
                        .withSyncInterval(Duration.ofSeconds(1))
                        .withGroupCommitWait(Duration.ofMillis(1))
                        .withSegmentBytes(8192)
                        .withCheckpointInterval(Duration.ofMinutes(1))
                        .withCheckpointEveryVersions(5)
                        .withRecoverPastCorruption(true));
    assertEquals(Path.of("data"), d.dataDirectory().orElseThrow());
    assertEquals(SyncPolicy.NEVER, d.durability().sync());
    assertEquals(Duration.ofSeconds(1), d.durability().syncInterval());
    assertEquals(Duration.ofMillis(1), d.durability().groupCommitWait());
    assertEquals(8192, d.durability().segmentBytes());
    assertEquals(Duration.ofMinutes(1), d.durability().checkpointInterval());
    assertEquals(5, d.durability().checkpointEveryVersions());
    assertTrue(d.durability().recoverPastCorruption());
    assertEquals(7, d.maxPendingWrites(), "the other settings are kept");
    assertTrue(d.withRetentionVersions(3).isDurable(), "and other copiers keep durability");
    StoreSettings memoryOnly = d.withDurability(DurabilitySettings::withMemoryOnly);
    assertFalse(memoryOnly.isDurable());
    assertEquals(SyncPolicy.NEVER, memoryOnly.durability().sync());
    assertFalse(s.isDurable(), "the original is unchanged");

    DurabilitySettings o = s.durability();
    assertEquals(
        "segmentBytes must be in [4096, 1073741824], was 4095",
        assertThrows(IllegalArgumentException.class, () -> o.withSegmentBytes(4095)).getMessage());
    assertEquals(
        "syncInterval must be in [PT0.001S, PT1H], was PT0S",
        assertThrows(IllegalArgumentException.class, () -> o.withSyncInterval(Duration.ZERO))
            .getMessage());
    assertEquals(
        "groupCommitWait must be in [PT0S, PT1S], was PT1.000000001S",
        assertThrows(
                IllegalArgumentException.class,
                () -> o.withGroupCommitWait(Duration.ofNanos(1_000_000_001)))
            .getMessage());
    assertThrows(NullPointerException.class, () -> o.withGroupCommitWait(null));
    assertEquals(
        "checkpointEveryVersions must be >= 0, was -1",
        assertThrows(IllegalArgumentException.class, () -> o.withCheckpointEveryVersions(-1))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.withDataDirectory(Path.of("")));
    assertThrows(NullPointerException.class, () -> s.withDataDirectory(null));
    assertThrows(NullPointerException.class, () -> o.withSync(null));
    assertThrows(NullPointerException.class, () -> o.withCheckpointInterval(null));
    assertThrows(NullPointerException.class, () -> s.withDurability(x -> null));
  }
}
