package dev.zverse.persistence;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The values the plug-in stores, and their byte layout (format 1, big-endian).
 *
 * <pre>
 * state:   1, kind 0, revision (8), timestamp millis (8), serializer id (4),
 *          manifest length (4), manifest UTF-8, payload (the rest)
 * deleted: 1, kind 1, revision (8), timestamp millis (8)
 * head:    1, revision (8), tag UTF-8 (the rest)
 * </pre>
 *
 * <p>The serializer id and manifest are those of Pekko's serialization, as the JDBC plug-in stores
 * them, so the state is read back by the serializer the user configured. Immutable.
 *
 * @param revision the object's revision, at least 1
 * @param timestamp when the plug-in wrote the record, in milliseconds since the epoch
 * @param deleted whether this records a deletion (then the rest is empty)
 * @param serializerId Pekko's serializer id of the payload
 * @param manifest the serializer's manifest, possibly empty
 * @param payload the serialized state; the record's own array
 */
// Never compared or hashed: records are encoded, decoded and read, so array identity is harmless.
@SuppressWarnings("ArrayRecordComponent")
record StateRecord(
    long revision,
    long timestamp,
    boolean deleted,
    int serializerId,
    String manifest,
    byte[] payload) {
  private static final byte FORMAT = 1;

  /** A head: the object's revision and the tag its state key is under. */
  record Head(long revision, String tag) {
    byte[] encode() {
      byte[] t = tag.getBytes(StandardCharsets.UTF_8);
      return ByteBuffer.allocate(9 + t.length).put(FORMAT).putLong(revision).put(t).array();
    }

    static Head decode(byte[] bytes) {
      try {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        requireFormat(b.get(), "head");
        long revision = b.getLong();
        return new Head(revision, new String(bytes, 9, bytes.length - 9, StandardCharsets.UTF_8));
      } catch (BufferUnderflowException e) {
        throw malformed("head", bytes.length);
      }
    }
  }

  static StateRecord state(
      long revision, long timestamp, int serializerId, String manifest, byte[] payload) {
    return new StateRecord(revision, timestamp, false, serializerId, manifest, payload);
  }

  static StateRecord deletion(long revision, long timestamp) {
    return new StateRecord(revision, timestamp, true, 0, "", new byte[0]);
  }

  byte[] encode() {
    if (deleted) {
      return ByteBuffer.allocate(18)
          .put(FORMAT)
          .put((byte) 1)
          .putLong(revision)
          .putLong(timestamp)
          .array();
    }
    byte[] m = manifest.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(26 + m.length + payload.length)
        .put(FORMAT)
        .put((byte) 0)
        .putLong(revision)
        .putLong(timestamp)
        .putInt(serializerId)
        .putInt(m.length)
        .put(m)
        .put(payload)
        .array();
  }

  /**
   * @throws IllegalStateException if the bytes are not a record of format 1
   */
  static StateRecord decode(byte[] bytes) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      requireFormat(b.get(), "state");
      byte kind = b.get();
      long revision = b.getLong();
      long timestamp = b.getLong();
      if (kind == 1) {
        return deletion(revision, timestamp);
      }
      if (kind != 0) {
        throw new IllegalStateException("a durable state record has unknown kind " + kind);
      }
      int serializerId = b.getInt();
      byte[] m = new byte[b.getInt()];
      b.get(m);
      byte[] payload = new byte[b.remaining()];
      b.get(payload);
      String manifest = new String(m, StandardCharsets.UTF_8);
      return state(revision, timestamp, serializerId, manifest, payload);
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw malformed("state", bytes.length);
    }
  }

  private static void requireFormat(byte format, String what) {
    if (format != FORMAT) {
      throw new IllegalStateException(
          "a durable state "
              + what
              + " record has format "
              + format
              + ", expected "
              + FORMAT
              + ": was the key prefix used by something else?");
    }
  }

  private static IllegalStateException malformed(String what, int length) {
    return new IllegalStateException(
        "a durable state " + what + " record of " + length + " bytes is truncated");
  }
}
