package dev.zverse.cluster;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.CorruptLogException;
import dev.zverse.engine.CorruptRecordException;
import dev.zverse.engine.UnsupportedFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * A durable replica's own log: what it must not forget across a crash because it told a writer so
 * (Raft's persistent state). The term it promised (and to whom), the creation terms of the history
 * it holds, and the commits it received and acknowledged but has not applied to its store (the
 * writer may not have declared them acknowledged yet). The replica appends as it goes and {@link
 * #sync forces} before it acknowledges a received group or answers a promise, one force for every
 * record appended since the last, so a batch of received messages costs one force.
 *
 * <h2>Format (version {@value #FORMAT})</h2>
 *
 * <pre>
 * header: magic "ZVREPLOG" (8 bytes), format (int), CRC32C of those 12 bytes (int)
 * then records back to back:
 *   type (byte), payload length (int), CRC32C of those 5 bytes (int),
 *   payload, CRC32C of the payload (int)
 * types: 1 promised  (term: long, writer: int length + UTF-8)
 *        2 history   (count: int, then count pairs of term, first version: longs)
 *        3 received  (one {@link CommitRecordCodec} record: consecutive commits and a watermark)
 *        4 truncate  (from version: long; drops the received commits from it on)
 *        5 based     (version: long; the replica store was reset to a transferred state at that
 *                     version: drops the received commits up to it)
 * </pre>
 *
 * <p>Format 2 added type 5; a format 1 log (written before replicas caught up by state transfer
 * durably) holds types 1 to 4 only and is read as it is, then rewritten as format 2. A binary that
 * knows only format 1 refuses a format 2 log at its header, naming the format, rather than reading
 * a record it does not know as damage. A format newer than this binary's is refused the same way,
 * with or without {@code recover-past-corruption}: it is not damage, and recovering "past" it would
 * forget every promise in it.
 *
 * <h2>A reset to a transferred state</h2>
 *
 * Two steps, so that no crash loses a received commit that may be one of the min-acks copies of an
 * acknowledged write. Before the replica store is reset, {@link #rebase} appends what a new
 * writer's history does ({@link #truncate} from the first version whose creation term differs, then
 * {@link #history}), forced whatever the policy: the held commits that agree with the transferred
 * state's history stay, and a crash before the store's reset is durable recovers the old state with
 * them. Once the store holds the transferred state at V, {@link #based} appends that V is the
 * store's: the held commits up to V go, the ones after V stay, and the next received commits follow
 * them (or V if none is held).
 *
 * <h2>Recovery</h2>
 *
 * {@link #open} replays the records: the highest promised term, the last history, the received
 * commits (each group follows the previous one, after any truncation). A torn tail, the last record
 * cut short or failing its checksum with nothing after it, or zeros to the end, was never forced,
 * so never acknowledged: it is cut off. Damage anywhere else (a record header failing its checksum:
 * a torn append writes a prefix of the record, whose header is whole and correct, or zeros; a
 * record of an unknown type under a correct header checksum, said so; a record failing its checksum
 * with another after it, a record that does not decode, a received group that does not follow the
 * one before) is refused with {@link CorruptLogException} naming the file and the byte offset of
 * the damaged record, unless the store's {@code recover-past-corruption} is on: then the log is
 * recovered up to that record. The received commits the replica store already applied are dropped;
 * if the rest does not follow the store's version, the store lost versions this log had trimmed,
 * and the open is refused too.
 *
 * <p>After recovery the log is rewritten (to a temporary file, forced, renamed into place, the
 * directory forced, whatever the sync policy): it then holds only what is still needed. It is
 * rewritten so again when it grows past {@link #COMPACT_BYTES} and twice its size after the last
 * rewrite, with the commits not yet applied: the applied ones are in the store's own log, forced
 * before the store confirms them under the {@code every-commit} sync policy.
 *
 * <p>Forces follow the store's sync policy: under {@code every-commit} every {@link #sync} forces;
 * under {@code interval} and {@code never} the received commits and histories are written (a
 * process crash loses nothing) but not forced (a machine crash may lose what the operating system
 * had not written back). Promises, the two records of a reset and rewrites are forced under every
 * policy.
 *
 * <p>Not thread-safe: owned by the replica actor, which opens it through {@link ClusterStore}. The
 * replica store's lock on its data directory keeps a second one out of this log.
 */
final class ReplicaLog implements AutoCloseable {
  /** The log's file name in its directory. */
  static final String FILE = "replica.log";

  static final long MAGIC = 0x5A56_5245_504C_4F47L; // "ZVREPLOG"
  static final int FORMAT = 2;

  /** The oldest format this binary reads: format 1 has no record of type 5. */
  static final int OLDEST_FORMAT = 1;

  static final int HEADER_BYTES = 16;
  static final int RECORD_HEADER_BYTES = 9;

  /** The log is rewritten once it is larger than this and than twice its size after a rewrite. */
  static final long COMPACT_BYTES = 4L << 20;

  static final byte PROMISED = 1;
  static final byte HISTORY = 2;
  static final byte RECEIVED = 3;
  static final byte TRUNCATE = 4;
  static final byte BASED = 5;

  /** What the log held when it was opened, after the store's applied versions were dropped. */
  record Recovered(
      long promisedTerm,
      @Nullable String promisedTo,
      TermBoundaries history,
      List<CommitRecord> commits) {}

  private final Path directory;
  private final Path file;
  private final boolean force;
  private final Recovered recovered;
  private FileChannel channel;
  private long size;
  private long compactedSize;

  /** Whether the log file did not exist when opened (a new replica, or one from before logs). */
  private boolean created;

  /** Whether records were written since the last force. */
  private boolean dirty;

  /**
   * Whether a promise or a reset's record was written since the last force: forced whatever the
   * sync policy.
   */
  private boolean mustForce;

  /** How many times the log was forced (a rewrite counting once); a seam for tests. */
  private long forces;

  private @Nullable IOException failure;

  /** The last received version appended (the store's version if none is held). */
  private long lastReceived;

  /** Told the last received version each time {@link #sync} succeeded; a seam for tests. */
  private volatile @Nullable LongConsumer onSync;

  private ReplicaLog(
      Path directory, boolean force, Recovered recovered, FileChannel channel, long size) {
    this.directory = directory;
    this.file = directory.resolve(FILE);
    this.force = force;
    this.recovered = recovered;
    this.channel = channel;
    this.size = size;
    this.compactedSize = size;
  }

  /**
   * Sets what {@link #sync} tells, after each success, the last received version appended: from
   * then on durable. A seam for tests, which check that nothing is acknowledged before it.
   */
  void onSync(@Nullable LongConsumer listener) {
    this.onSync = listener;
  }

  /**
   * Opens the log in {@code directory} (creating both if absent), recovers it and rewrites it with
   * what is still needed.
   *
   * @param directory the log's directory
   * @param force whether {@link #sync} forces to the disk (the store's sync policy is {@code
   *     every-commit})
   * @param recoverPastCorruption whether damage is recovered to the prefix before it, not refused
   * @param storeVersion the replica store's recovered version: received commits up to it are
   *     dropped
   * @return the open log; {@link #recovered()} says what it held
   * @throws CorruptLogException if the log is damaged where recovery cannot pass, naming the file
   *     and the byte offset; the file is left as it was
   * @throws UnsupportedFormatException if the log is of a format this version does not read (a
   *     newer one); the file is left as it was
   * @throws IOException if the file cannot be read or written
   */
  static ReplicaLog open(
      Path directory, boolean force, boolean recoverPastCorruption, long storeVersion)
      throws IOException {
    Objects.requireNonNull(directory, "directory");
    boolean created = !Files.isDirectory(directory);
    Files.createDirectories(directory);
    Path parent = directory.toAbsolutePath().getParent();
    if (created && parent != null) {
      forceDirectory(parent); // the new directory's entry, before a log in it is relied on
    }
    Path file = directory.resolve(FILE);
    boolean existed = Files.exists(file);
    Recovered r =
        existed
            ? recover(file, recoverPastCorruption, storeVersion)
            : new Recovered(0, null, TermBoundaries.NONE, List.of());
    long size = rewrite(directory, r.promisedTerm(), r.promisedTo(), r.history(), r.commits());
    FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
    channel.position(size);
    ReplicaLog log = new ReplicaLog(directory, force, r, channel, size);
    log.created = !existed;
    log.lastReceived =
        r.commits().isEmpty() ? storeVersion : r.commits().get(r.commits().size() - 1).version();
    return log;
  }

  /** Whether the open created the log: no file was there. */
  boolean created() {
    return created;
  }

  /** What the log held when opened. */
  Recovered recovered() {
    return recovered;
  }

  /** The log's file. */
  Path file() {
    return file;
  }

  /** Appends a promise of {@code term} to the writer named {@code to}. */
  void promised(long term, String to) {
    byte[] name = to.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(12 + name.length);
    b.putLong(term).putInt(name.length).put(name);
    append(PROMISED, b.array());
    mustForce = true;
  }

  /** Appends the creation terms of the history held from now on. */
  void history(TermBoundaries history) {
    append(HISTORY, encode(history));
  }

  private static byte[] encode(TermBoundaries history) {
    ByteBuffer b = ByteBuffer.allocate(4 + 16 * history.size());
    b.putInt(history.size());
    for (int i = 0; i < history.size(); i++) {
      b.putLong(history.term(i)).putLong(history.first(i));
    }
    return b.array();
  }

  /** Appends received commits, which follow the ones held. */
  void received(List<CommitRecord> commits, long watermark) {
    if (!commits.isEmpty()) {
      lastReceived = commits.get(commits.size() - 1).version();
      append(RECEIVED, CommitRecordCodec.encode(new CommitRecordCodec.Group(watermark, commits)));
    }
  }

  /** Appends that the received commits from version {@code from} on are dropped. */
  void truncate(long from) {
    lastReceived = Math.min(lastReceived, from - 1);
    append(TRUNCATE, ByteBuffer.allocate(8).putLong(from).array());
  }

  /**
   * Appends, before the replica store is reset to a transferred state, that the replica takes the
   * history {@code history} that state is part of: the received commits from {@code dropFrom} on
   * are dropped (their creation terms differ from it there; none if {@code dropFrom} is past the
   * last one held) and the history is {@code history} from now on. Forced by the next {@link #sync}
   * whatever the sync policy: a crash once the store holds the transferred state must find its
   * history's terms, never the old ones. The commits kept stay until {@link #based}: a crash before
   * then recovers the store's old state with them.
   *
   * @param dropFrom the first received version dropped
   * @param history the creation terms of the transferred state's history
   */
  void rebase(long dropFrom, TermBoundaries history) {
    if (dropFrom <= lastReceived) {
      truncate(dropFrom);
    }
    history(history);
    mustForce = true;
  }

  /**
   * Appends that the replica store now holds a transferred state at {@code version} (its reset is
   * durable): the received commits up to it are dropped, the ones after it kept. Forced by the next
   * {@link #sync} whatever the sync policy, before the replica asks to follow on from the store.
   *
   * @param version the transferred state's version, at least 0
   */
  void based(long version) {
    append(BASED, ByteBuffer.allocate(8).putLong(version).array());
    lastReceived = Math.max(lastReceived, version);
    mustForce = true;
  }

  /**
   * Makes everything appended so far durable: forced to the disk under {@code every-commit}, and
   * whatever the policy when a promise was appended (a promise forgotten by a power loss could be
   * granted again to a lower term: two quorums).
   *
   * @throws IOException the first write or force that failed, again on every later call: what was
   *     appended after it may be lost, so nothing more may be acknowledged
   */
  void sync() throws IOException {
    if (failure != null) {
      throw failure;
    }
    if (dirty && (force || mustForce)) {
      try {
        channel.force(false);
        forces++;
      } catch (IOException e) {
        failure = e;
        throw e;
      }
    }
    dirty = false;
    mustForce = false;
    LongConsumer listener = onSync;
    if (listener != null) {
      listener.accept(lastReceived);
    }
  }

  /** How many times the log was forced since it opened, a rewrite counting once. */
  long forces() {
    return forces;
  }

  /** Whether the log grew enough since its last rewrite that {@link #compact} should run. */
  boolean needsCompaction() {
    return size > COMPACT_BYTES && size > 2 * compactedSize;
  }

  /**
   * Rewrites the log with only what is needed now: the promise, the history and the commits held
   * but not applied.
   *
   * @throws IOException if the rewrite fails; the log then refuses every later {@link #sync}
   */
  void compact(
      long promisedTerm,
      @Nullable String promisedTo,
      TermBoundaries history,
      List<CommitRecord> held)
      throws IOException {
    if (failure != null) {
      throw failure;
    }
    try {
      channel.close();
      size = rewrite(directory, promisedTerm, promisedTo, history, held);
      forces++;
      compactedSize = size;
      channel = FileChannel.open(file, StandardOpenOption.WRITE);
      channel.position(size);
      dirty = false;
      mustForce = false;
    } catch (IOException e) {
      failure = e;
      throw e;
    }
  }

  /** Whether the log is still open: not yet closed by its replica actor's stop. */
  boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private void append(byte type, byte[] payload) {
    if (failure != null) {
      return;
    }
    ByteBuffer b = record(type, payload);
    try {
      while (b.hasRemaining()) {
        channel.write(b);
      }
      size += b.limit();
      dirty = true;
    } catch (IOException e) {
      // Reported by the next sync, before anything appended here is acknowledged.
      failure = e;
    }
  }

  static ByteBuffer record(byte type, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(RECORD_HEADER_BYTES + payload.length + 4);
    b.put(type).putInt(payload.length);
    b.putInt(crc(b.array(), 0, 5));
    b.put(payload).putInt(crc(payload, 0, payload.length));
    return b.flip();
  }

  static ByteBuffer header() {
    return header(FORMAT);
  }

  /** The file header of {@code format}: a seam for tests that write an older or newer log. */
  static ByteBuffer header(int format) {
    ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
    h.putLong(MAGIC).putInt(format);
    h.putInt(crc(h.array(), 0, 12));
    return h.flip();
  }

  private static int crc(byte[] b, int from, int length) {
    CRC32C c = new CRC32C();
    c.update(b, from, length);
    return (int) c.getValue();
  }

  /**
   * Writes a new log holding the state given, forced, and renames it into {@code directory}, then
   * forces the directory. Forced whatever the sync policy: the rename of an unforced file over the
   * live one could leave an empty log after a power loss, and rewrites are rare.
   */
  private static long rewrite(
      Path directory,
      long promisedTerm,
      @Nullable String promisedTo,
      TermBoundaries history,
      List<CommitRecord> commits)
      throws IOException {
    Path file = directory.resolve(FILE);
    Path tmp = directory.resolve(FILE + ".tmp");
    long size;
    try (FileChannel out =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      List<ByteBuffer> parts = new ArrayList<>();
      parts.add(header());
      if (promisedTerm > 0) {
        byte[] name = (promisedTo == null ? "" : promisedTo).getBytes(StandardCharsets.UTF_8);
        ByteBuffer p = ByteBuffer.allocate(12 + name.length);
        p.putLong(promisedTerm).putInt(name.length).put(name);
        parts.add(record(PROMISED, p.array()));
      }
      parts.add(record(HISTORY, encode(history)));
      for (int from = 0; from < commits.size(); from += ReceivedCommits.MAX_GROUP_VERSIONS) {
        List<CommitRecord> g =
            commits.subList(
                from, Math.min(commits.size(), from + ReceivedCommits.MAX_GROUP_VERSIONS));
        parts.add(record(RECEIVED, CommitRecordCodec.encode(new CommitRecordCodec.Group(0, g))));
      }
      size = 0;
      for (ByteBuffer b : parts) {
        size += b.remaining();
        while (b.hasRemaining()) {
          out.write(b);
        }
      }
      out.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    forceDirectory(directory);
    return size;
  }

  /**
   * Forces a rename or creation into {@code directory}. Only opening it may fail (Windows cannot
   * open a directory as a channel; its renames are durable once done); a failed force is thrown.
   */
  private static void forceDirectory(Path directory) throws IOException {
    FileChannel d;
    try {
      d = FileChannel.open(directory, StandardOpenOption.READ);
    } catch (IOException e) {
      return;
    }
    try (d) {
      d.force(true);
    }
  }

  /**
   * Reads the log at {@code file} back: see the class comment for what is cut off and what is
   * refused.
   *
   * @param file the log
   * @param recoverPastCorruption whether damage ends recovery instead of refusing it
   * @param storeVersion the replica store's version: received commits up to it are dropped
   * @return what the log holds
   * @throws CorruptLogException naming {@code file} and the offset of the damage
   * @throws UnsupportedFormatException if the log is of a format this version does not read, with
   *     or without {@code recoverPastCorruption}
   * @throws IOException if the file cannot be read
   */
  static Recovered recover(Path file, boolean recoverPastCorruption, long storeVersion)
      throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
    int end = b.limit();
    if (end < HEADER_BYTES || b.getLong(0) != MAGIC || b.getInt(12) != crc(b.array(), 0, 12)) {
      String problem =
          end < HEADER_BYTES
              ? "the header is cut short (" + end + " of " + HEADER_BYTES + " bytes)"
              : "not a replica log header (magic or header checksum)";
      if (recoverPastCorruption) {
        return new Recovered(0, null, TermBoundaries.NONE, List.of());
      }
      throw new CorruptLogException(file, 0, problem);
    }
    int format = b.getInt(8);
    if (format < OLDEST_FORMAT || format > FORMAT) {
      // A whole header with a correct checksum: written so by another version, not damaged.
      throw new UnsupportedFormatException(
          file,
          "unsupported format "
              + format
              + ": this version reads formats "
              + OLDEST_FORMAT
              + " to "
              + FORMAT);
    }
    byte lastType = format == 1 ? TRUNCATE : BASED;
    Replay replay = new Replay();
    int at = HEADER_BYTES;
    while (at < end) {
      String damage = null;
      if (end - at < RECORD_HEADER_BYTES) {
        break; // a torn record header
      }
      byte type = b.get(at);
      int length = b.getInt(at + 1);
      if (b.getInt(at + 5) != crc(b.array(), at, 5)) {
        if (zerosFrom(b, at)) {
          break; // a torn append that left zeros
        }
        damage = "a record header fails its checksum";
      } else if (type < PROMISED || type > lastType) {
        // A whole, checksum-correct header: written so, never torn (a newer format, say).
        damage = "unknown record type " + type;
      } else if (length < 0 || (long) at + RECORD_HEADER_BYTES + length + 4 > end) {
        break; // the last record, cut short
      } else {
        int payloadAt = at + RECORD_HEADER_BYTES;
        int next = payloadAt + length + 4;
        if (b.getInt(payloadAt + length) != crc(b.array(), payloadAt, length)) {
          if (next == end) {
            break; // the last record, torn
          }
          damage = "a record fails its checksum";
        } else {
          damage = replay.apply(type, ByteBuffer.wrap(b.array(), payloadAt, length).slice(), at);
          if (damage == null) {
            at = next;
            continue;
          }
        }
      }
      if (recoverPastCorruption) {
        break;
      }
      throw new CorruptLogException(file, at, damage);
    }
    return replay.result(file, storeVersion);
  }

  private static boolean zerosFrom(ByteBuffer b, int at) {
    for (int i = at; i < b.limit(); i++) {
      if (b.get(i) != 0) {
        return false;
      }
    }
    return true;
  }

  /** The state the records build up, record by record. */
  private static final class Replay {
    private long promisedTerm;
    private @Nullable String promisedTo;
    private TermBoundaries history = TermBoundaries.NONE;
    private final List<CommitRecord> commits = new ArrayList<>();

    /** The offset of the record each held commit came in. */
    private final List<Integer> offsets = new ArrayList<>();

    /** Applies one record; returns what is wrong with it, or null. */
    @Nullable String apply(byte type, ByteBuffer p, int at) {
      try {
        switch (type) {
          case PROMISED -> {
            long term = p.getLong();
            int length = p.getInt();
            if (length < 0 || length > p.remaining()) {
              return "a writer's name of " + length + " bytes in " + p.remaining();
            }
            byte[] name = new byte[length];
            p.get(name);
            if (term > promisedTerm) {
              promisedTerm = term;
              promisedTo = name.length == 0 ? null : new String(name, StandardCharsets.UTF_8);
            }
          }
          case HISTORY -> {
            int n = p.getInt();
            if (n < 0 || n > p.remaining() / 16) {
              return "a history of " + n + " terms in " + p.remaining() + " bytes";
            }
            long[] terms = new long[n];
            long[] firsts = new long[n];
            for (int i = 0; i < n; i++) {
              terms[i] = p.getLong();
              firsts[i] = p.getLong();
            }
            history = TermBoundaries.of(terms, firsts);
          }
          case RECEIVED -> {
            CommitRecordCodec.Group g = CommitRecordCodec.decode(p);
            long last = commits.isEmpty() ? -1 : commits.get(commits.size() - 1).version();
            if (last >= 0 && g.firstVersion() != last + 1) {
              return "received versions from " + g.firstVersion() + " do not follow " + last;
            }
            for (CommitRecord c : g.commits()) {
              commits.add(c);
              offsets.add(at);
            }
          }
          case BASED -> {
            long version = p.getLong();
            if (version < 0) {
              return "a transferred state at version " + version;
            }
            // The store holds the state at it: what follows is received after it.
            int k = 0;
            while (k < commits.size() && commits.get(k).version() <= version) {
              k++;
            }
            commits.subList(0, k).clear();
            offsets.subList(0, k).clear();
          }
          default -> {
            long from = p.getLong();
            while (!commits.isEmpty() && commits.get(commits.size() - 1).version() >= from) {
              commits.remove(commits.size() - 1);
              offsets.remove(offsets.size() - 1);
            }
          }
        }
        if (p.hasRemaining()) {
          return p.remaining() + " bytes after the record's content";
        }
        return null;
      } catch (CorruptRecordException | RuntimeException e) {
        // A checksum-correct record that does not decode: damage, never a torn tail.
        return "the record does not decode: " + e.getMessage();
      }
    }

    Recovered result(Path file, long storeVersion) throws CorruptLogException {
      int i = 0;
      while (i < commits.size() && commits.get(i).version() <= storeVersion) {
        i++;
      }
      List<CommitRecord> kept = List.copyOf(commits.subList(i, commits.size()));
      if (!kept.isEmpty() && kept.get(0).version() != storeVersion + 1) {
        throw new CorruptLogException(
            file,
            offsets.get(i),
            "the received commits held start at version "
                + kept.get(0).version()
                + ", but the replica store recovered only up to version "
                + storeVersion
                + ": the store's log lost versions this log no longer holds");
      }
      return new Recovered(promisedTerm, promisedTo, history, kept);
    }
  }
}
