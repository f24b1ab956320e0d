package dev.zverse.persistence;

import dev.zverse.engine.KeyRange;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where the plug-in keeps its objects in the store: two keys per persistence id under one prefix.
 *
 * <ul>
 *   <li>the head {@code <prefix>o/<persistenceId>}: the object's revision and tag (a {@link
 *       StateRecord.Head}). Every upsert and delete changes it, so a write conditioned on its
 *       modification version checks the revision exactly, whatever tag the object has;
 *   <li>the state {@code <prefix>t/<tag length, 4 bytes big-endian><tag><persistenceId>}: the
 *       serialized state or the deletion (a {@link StateRecord}). All the objects of one tag lie
 *       under one key prefix, so a change feed over that prefix is the tag's changes and nothing
 *       else: the length in front keeps tag {@code "a"} from matching the keys of tag {@code "ab"}.
 * </ul>
 *
 * <p>Immutable.
 */
final class StateKeys {
  private final byte[] headPrefix;
  private final byte[] statePrefix;

  /**
   * @param prefix the prefix of every key, UTF-8; may be empty
   */
  StateKeys(String prefix) {
    this.headPrefix = (prefix + "o/").getBytes(StandardCharsets.UTF_8);
    this.statePrefix = (prefix + "t/").getBytes(StandardCharsets.UTF_8);
  }

  byte[] head(String persistenceId) {
    return concat(headPrefix, persistenceId.getBytes(StandardCharsets.UTF_8));
  }

  byte[] state(String tag, String persistenceId) {
    return concat(tagPrefix(tag), persistenceId.getBytes(StandardCharsets.UTF_8));
  }

  /** The keys of every object of {@code tag}. */
  KeyRange tag(String tag) {
    return KeyRange.prefix(tagPrefix(tag));
  }

  /** The persistence id of a state key of {@code tag} (a key in {@link #tag(String)}). */
  String persistenceId(String tag, byte[] stateKey) {
    int start = tagPrefix(tag).length;
    return new String(stateKey, start, stateKey.length - start, StandardCharsets.UTF_8);
  }

  private byte[] tagPrefix(String tag) {
    byte[] t = tag.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(statePrefix.length + 4 + t.length)
        .put(statePrefix)
        .putInt(t.length)
        .put(t)
        .array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] k = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, k, a.length, b.length);
    return k;
  }
}
