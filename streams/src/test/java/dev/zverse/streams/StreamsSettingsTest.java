package dev.zverse.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class StreamsSettingsTest {
  private static Config reference() {
    return ConfigFactory.defaultReference().getConfig("zverse.streams");
  }

  private static StreamsSettings withMaxLag(String value) {
    return StreamsSettings.create(
        ConfigFactory.parseString("change-feed.max-lag = " + value).withFallback(reference()));
  }

  @Test
  void byDefaultFeedsAreBoundedByTheStoresRetention() {
    StreamsSettings settings = StreamsSettings.create(reference());
    assertEquals(OptionalLong.empty(), settings.maxLag());
    assertEquals(OptionalLong.of(5), settings.withMaxLag(5).maxLag());
    assertEquals(OptionalLong.empty(), settings.withMaxLag(5).withMaxLagOfRetention().maxLag());
  }

  @Test
  void aNumberOfVersionsIsALagLimit() {
    assertEquals(OptionalLong.of(100_000), withMaxLag("100000").maxLag());
    assertEquals(OptionalLong.of(7), withMaxLag("\"7\"").maxLag());
  }

  @Test
  void badLagLimitsAreRefusedNamingTheSettingAndTheBounds() {
    IllegalArgumentException word =
        assertThrows(IllegalArgumentException.class, () -> withMaxLag("forever"));
    assertTrue(
        word.getMessage()
            .contains(
                "change-feed.max-lag must be \"retention\" or a number of versions in [1, 1000000000],"
                    + " was \"forever\""),
        word.getMessage());
    IllegalArgumentException zero =
        assertThrows(IllegalArgumentException.class, () -> withMaxLag("0"));
    assertTrue(
        zero.getMessage().contains("change-feed.max-lag must be in [1, 1000000000], was 0"),
        zero.getMessage());
    assertThrows(IllegalArgumentException.class, () -> withMaxLag("1000000001"));
  }
}
