package dev.zverse.persistence;

import dev.zverse.engine.KeyRange;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

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
 * <p>The heads lie in persistence id order (unsigned UTF-8 bytes), so the ids of one entity type
 * ({@code <entityType>|<entityId>}, Pekko's {@code PersistenceId}) are one key range of heads.
 *
 * <p>Immutable.
 */
final class StateKeys {
  /** Pekko's {@code PersistenceId.DefaultSeparator}: the entity type is what comes before it. */
  private static final char ENTITY_TYPE_SEPARATOR = '|';

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

  /** Every head: one key per object, in persistence id order. */
  KeyRange heads() {
    return KeyRange.prefix(headPrefix);
  }

  /** The heads of the persistence ids after {@code afterId}, in persistence id order. */
  KeyRange headsAfter(String afterId) {
    // The head prefix does not end in 0xFF bytes, so its range has an end.
    byte[] end = Objects.requireNonNull(heads().end(), "heads' end");
    return KeyRange.open(head(afterId), end);
  }

  /**
   * The heads that may hold an object of {@code entityType}: those starting with {@code
   * <entityType>|}, or every head for the empty entity type (the ids without a separator); {@link
   * #entityType} tells which of them do.
   */
  KeyRange heads(String entityType) {
    return entityType.isEmpty()
        ? heads()
        : KeyRange.prefix(head(entityType + ENTITY_TYPE_SEPARATOR));
  }

  /** The persistence id of a head key (a key in {@link #heads()}). */
  String persistenceIdOfHead(byte[] headKey) {
    return new String(
        headKey, headPrefix.length, headKey.length - headPrefix.length, StandardCharsets.UTF_8);
  }

  /** Every state key, of every tag. */
  KeyRange states() {
    return KeyRange.prefix(statePrefix);
  }

  /** The persistence id of any state key (a key in {@link #states()}), whatever its tag. */
  String persistenceIdOfState(byte[] stateKey) {
    int start = statePrefix.length + 4 + ByteBuffer.wrap(stateKey, statePrefix.length, 4).getInt();
    return new String(stateKey, start, stateKey.length - start, StandardCharsets.UTF_8);
  }

  /**
   * The entity type of a persistence id as Pekko's {@code PersistenceId.extractEntityType} has it:
   * what comes before the first {@code |}, or the empty string if there is none.
   */
  static String entityType(String persistenceId) {
    int i = persistenceId.indexOf(ENTITY_TYPE_SEPARATOR);
    return i < 0 ? "" : persistenceId.substring(0, i);
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
