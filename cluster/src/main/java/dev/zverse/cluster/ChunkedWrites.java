package dev.zverse.cluster;

import dev.zverse.cluster.WriterProtocol.Chunk;
import dev.zverse.cluster.WriterProtocol.Write;
import java.io.NotSerializableException;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Writes too large for one frame, put together from their parts ({@link Chunk}). Parts of one write
 * come from one sender in order (through one singleton proxy); parts of different writes
 * interleave, so each write has its own reassembly by its id. At most {@link #MAX_PARTIAL_WRITES}
 * are in progress; past it the oldest is dropped. A write whose parts were lost (a full proxy
 * buffer drops messages) is never answered and fails at its sender by the write timeout.
 *
 * <p>One instance serves a writer incarnation from its election on, so that a write whose first
 * parts came while the writer started is completed by the parts that come once it serves.
 * Actor-confined: not thread-safe.
 */
final class ChunkedWrites {
  /** Chunked writes being put together at most at once; the oldest is dropped past it. */
  static final int MAX_PARTIAL_WRITES = 64;

  private final WireSerializer serializer;
  private final long maxMessageBytes;

  /** Chunked writes by chunk id (unique per sender and message), oldest first. */
  private final LinkedHashMap<Long, Chunking.Reassembly> partial = new LinkedHashMap<>();

  /**
   * No write in progress.
   *
   * @param serializer reads a whole write back
   * @param maxMessageBytes the largest write put together, at least 1
   */
  ChunkedWrites(WireSerializer serializer, long maxMessageBytes) {
    this.serializer = serializer;
    this.maxMessageBytes = maxMessageBytes;
  }

  /**
   * Takes a part of a write.
   *
   * @param chunk the part
   * @param dropped told why, when a write in progress is dropped (too many in progress, a part out
   *     of order, too large, not a write, or not readable)
   * @return the whole write once its last part arrived, else empty
   */
  Optional<Write> accept(Chunk chunk, Consumer<String> dropped) {
    Chunking.Reassembly r = partial.get(chunk.id());
    if (r == null) {
      if (partial.size() >= MAX_PARTIAL_WRITES) {
        Long oldest = partial.keySet().iterator().next();
        partial.remove(oldest);
        dropped.accept("the parts of write [" + oldest + "]: too many in progress");
      }
      r = new Chunking.Reassembly(serializer, maxMessageBytes);
      partial.put(chunk.id(), r);
    }
    try {
      Optional<WireMessage> whole = r.accept(chunk);
      if (whole.isEmpty()) {
        return Optional.empty();
      }
      partial.remove(chunk.id());
      if (whole.get() instanceof Write w) {
        return Optional.of(w);
      }
      dropped.accept("a chunked message that is not a write");
    } catch (IllegalStateException | NotSerializableException e) {
      partial.remove(chunk.id());
      dropped.accept("a chunked write: " + e.getMessage());
    }
    return Optional.empty();
  }
}
