package dev.zverse.cluster;

import dev.zverse.cluster.WriterProtocol.Chunk;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Splits a message too large for one Artery frame into {@link Chunk}s and puts them back together,
 * so a large commit is sent in parts, never refused.
 *
 * <p>A sender sends the parts of one message in order and finishes one message before the next;
 * Pekko delivers messages between two actors in the order sent, so a receiver needs one {@link
 * Reassembly} per sender and holds at most one message in progress. Not thread-safe: a reassembly
 * is confined to the actor that receives the parts.
 */
final class Chunking {
  private Chunking() {}

  /**
   * {@code message} as one or more parts of at most {@code partBytes} bytes of its serialized form
   * each; a message that fits in one part is still one {@link Chunk} of count 1.
   *
   * @param serializer the serializer that writes and later reads the message
   * @param message the message, not itself a chunk
   * @param id names the message among those of its sender
   * @param partBytes the most bytes of the message per part, at least 1
   * @return the parts in order, indices 0 to count - 1
   * @throws IllegalArgumentException if {@code partBytes} is below 1 or {@code message} is a chunk
   */
  static List<Chunk> split(WireSerializer serializer, WireMessage message, long id, int partBytes) {
    if (partBytes < 1) {
      throw new IllegalArgumentException("partBytes must be at least 1, was " + partBytes);
    }
    if (message instanceof Chunk) {
      throw new IllegalArgumentException("a chunk is not split again");
    }
    String manifest = serializer.manifest(message);
    byte[] bytes = serializer.toBinary(message);
    int count = Math.max(1, (bytes.length + partBytes - 1) / partBytes);
    List<Chunk> parts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int from = i * partBytes;
      int to = Math.min(bytes.length, from + partBytes);
      parts.add(new Chunk(id, i, count, manifest, Arrays.copyOfRange(bytes, from, to)));
    }
    return parts;
  }

  /**
   * The parts of one sender's messages, put back together in order, holding at most {@code
   * maxMessageBytes} of one message at a time.
   */
  static final class Reassembly {
    private final WireSerializer serializer;
    private final long maxMessageBytes;
    private final List<byte[]> parts = new ArrayList<>();
    private long id;
    private int count;
    private long bytes;

    /**
     * A reassembly of nothing yet.
     *
     * @param serializer reads the whole message back
     * @param maxMessageBytes the largest message it puts together, at least 1
     * @throws IllegalArgumentException if {@code maxMessageBytes} is below 1
     */
    Reassembly(WireSerializer serializer, long maxMessageBytes) {
      if (maxMessageBytes < 1) {
        throw new IllegalArgumentException(
            "maxMessageBytes must be at least 1, was " + maxMessageBytes);
      }
      this.serializer = serializer;
      this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * Takes the next part.
     *
     * @param chunk the next part of the message in progress, or the first of a new one
     * @return the whole message once its last part arrived, else empty
     * @throws IllegalStateException if the part is not the next one expected (a part was lost or
     *     came twice) or the message would exceed {@code maxMessageBytes}; the message in progress
     *     is dropped and the next message must start at index 0
     * @throws NotSerializableException if the whole message does not read back
     */
    Optional<WireMessage> accept(Chunk chunk) throws NotSerializableException {
      boolean first = parts.isEmpty();
      if (first
          ? chunk.index() != 0
          : chunk.id() != id || chunk.index() != parts.size() || chunk.count() != count) {
        String expected =
            first ? "index 0 of a new message" : "index " + parts.size() + " of message " + id;
        reset();
        throw new IllegalStateException(
            "chunk "
                + chunk.index()
                + "/"
                + chunk.count()
                + " of message "
                + chunk.id()
                + " is out of order: expected "
                + expected);
      }
      if (bytes + chunk.bytes().length > maxMessageBytes) {
        reset();
        throw new IllegalStateException(
            "message "
                + chunk.id()
                + " is over the limit of "
                + maxMessageBytes
                + " bytes (max-message-bytes)");
      }
      id = chunk.id();
      count = chunk.count();
      bytes += chunk.bytes().length;
      parts.add(chunk.bytes());
      if (parts.size() < count) {
        return Optional.empty();
      }
      byte[] whole = new byte[(int) bytes];
      int at = 0;
      for (byte[] p : parts) {
        System.arraycopy(p, 0, whole, at, p.length);
        at += p.length;
      }
      reset();
      return Optional.of((WireMessage) serializer.fromBinary(whole, chunk.manifest()));
    }

    /** Bytes of the message in progress held now. */
    long heldBytes() {
      return bytes;
    }

    /** Drops the message in progress: its sender is gone, and the next starts at index 0. */
    void reset() {
      parts.clear();
      bytes = 0;
      count = 0;
    }
  }
}
