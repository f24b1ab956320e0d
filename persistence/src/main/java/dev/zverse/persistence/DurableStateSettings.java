package dev.zverse.persistence;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The settings of one durable state plug-in, read from its configuration block (by default {@code
 * zverse.persistence.state}, see this module's {@code reference.conf}).
 *
 * <p>Immutable.
 */
final class DurableStateSettings {
  /** The longest key prefix, in bytes of UTF-8. */
  static final int MAX_KEY_PREFIX_BYTES = 1024;

  private final String storeName;
  private final String keyPrefix;

  private DurableStateSettings(String storeName, String keyPrefix) {
    this.storeName = storeName;
    this.keyPrefix = keyPrefix;
  }

  /**
   * Reads {@code store} and {@code key-prefix} from a plug-in's block.
   *
   * @param config the plug-in's configuration block
   * @return the settings
   * @throws NullPointerException if {@code config} is null
   * @throws IllegalArgumentException if {@code store} is empty or {@code key-prefix} is longer than
   *     {@value #MAX_KEY_PREFIX_BYTES} bytes
   * @throws com.typesafe.config.ConfigException if a setting is missing or not a string
   */
  static DurableStateSettings create(Config config) {
    Objects.requireNonNull(config, "config");
    String store = config.getString("store");
    if (store.isEmpty()) {
      throw new IllegalArgumentException("store must name a ZVerse store, was empty");
    }
    String prefix = config.getString("key-prefix");
    int bytes = prefix.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_KEY_PREFIX_BYTES) {
      throw new IllegalArgumentException(
          "key-prefix must be at most " + MAX_KEY_PREFIX_BYTES + " bytes, was " + bytes);
    }
    return new DurableStateSettings(store, prefix);
  }

  /** The name of the ZVerse store the objects are kept in. */
  String storeName() {
    return storeName;
  }

  /** The prefix of every key the plug-in writes. */
  String keyPrefix() {
    return keyPrefix;
  }
}
