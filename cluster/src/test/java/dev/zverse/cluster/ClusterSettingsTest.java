package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {
  private static Config reference() {
    return ConfigFactory.parseResources("reference.conf").getConfig("zverse.cluster");
  }

  @Test
  void defaultsComeFromTheReferenceConf() {
    ClusterSettings s = ClusterSettings.create(reference());
    assertEquals(Optional.empty(), s.role());
    assertEquals(Duration.ofSeconds(10), s.writeTimeout());
    assertEquals(1000, s.proxyBufferSize());
    assertEquals(131072, s.chunkBytes());
    assertEquals(1L << 30, s.maxMessageBytes());
    assertEquals(Optional.of("writer"), s.withRole("writer").role());
  }

  @Test
  void aSettingOutOfItsBoundsIsRefusedNamingItAndTheBounds() {
    assertRefused(
        () -> ClusterSettings.create(reference()).withWriteTimeout(Duration.ZERO),
        "write-timeout must be in (0, PT1H], was PT0S");
    assertRefused(
        () -> ClusterSettings.create(reference()).withProxyBufferSize(10_001),
        "proxy-buffer-size must be in [0, 10000], was 10001");
    assertRefused(
        () -> ClusterSettings.create(reference()).withChunkBytes(1023),
        "chunk-bytes must be in [1024, 16777216], was 1023");
    assertRefused(
        () -> ClusterSettings.create(reference()).withMaxMessageBytes(0),
        "max-message-bytes must be in [1, 2147483583], was 0");
    assertRefused(
        () ->
            ClusterSettings.create(
                ConfigFactory.parseString("chunk-bytes = 5000000000").withFallback(reference())),
        "chunk-bytes must be in [1024, 16777216], was 5000000000");
    assertRefused(
        () -> ClusterSettings.create(reference()).withMinAcks(101),
        "replication.min-acks must be in [0, 100], was 101");
    assertRefused(
        () -> ClusterSettings.create(reference()).withAckTimeout(Duration.ZERO),
        "replication.ack-timeout must be in (0, PT1H], was PT0S");
    ClusterSettings s = ClusterSettings.create(reference());
    assertEquals(1, s.minAcks());
    assertEquals(Duration.ofSeconds(5), s.ackTimeout());
    assertTrue(s.requireDowningProvider());
    assertEquals(0, s.withMinAcks(0).minAcks());
  }

  private static void assertRefused(Runnable r, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }
}
