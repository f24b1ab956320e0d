package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The durable half of a store: a write-ahead log of group commits plus checkpoints in one data
 * directory, and the recovery that reads them back.
 *
 * <h2>Design</h2>
 *
 * The writer publishes a group of batches as one snapshot; {@link #append} writes that group's
 * changes as one record at the end of the current log segment and, under {@link
 * SyncPolicy#EVERY_COMMIT}, forces it to the disk before returning, so the writer tells its callers
 * only after their writes are durable, and one force serves the whole group. A group too big for
 * one record ({@link #MAX_RECORD_BYTES}) is written as several, each of whole versions; a version
 * is never split (the batch limit, {@link Limits#maxBatchBytes()}, keeps each one well inside a
 * record). A record is never split across segments; a segment past its size is followed by a new
 * one named after the first version it may hold ({@code wal-<version>.log}).
 *
 * <h2>Format (version {@value #FORMAT})</h2>
 *
 * <pre>
 * segment header: magic "ZVERSWAL" (8 bytes), format (int), CRC32C of those 12 bytes (int)
 * record: payload length (int), first version (long), version count (int),
 *         CRC32C of the payload (int), CRC32C of the 20 header bytes before it (int), payload
 * payload: type 1 (byte), first version (long), count (int), watermark (long), then per version:
 *          commit time in microseconds (long), change count (int), per change: key length (int), key,
 *          value length (int, -1 for a delete), value
 * </pre>
 *
 * The record header has its own checksum, so a damaged length is seen as damage and never read as
 * a record running past the end of the file, and a damaged record's versions are known from its
 * header: recovery can tell which records a checkpoint already holds without their payload.
 * Format 1 (a record was payload length, payload CRC32C, payload; a 12-byte segment header; commit
 * times in milliseconds) is still read; new segments are written in format {@value #FORMAT}.
 *
 * <p>{@link #checkpoint} writes a snapshot with its retained history to a temporary file, forces it
 * and renames it into place atomically ({@code checkpoint-<version>.zvc}); snapshots are immutable,
 * so it may run on any thread while the writer goes on appending. The newest two checkpoints are
 * kept, and the log segments that the older of them covers are deleted: a damaged newest checkpoint
 * still leaves a way back.
 *
 * <p>{@link #open} recovers: it loads the newest readable checkpoint and replays the log after it
 * (see {@link Recovery} for what counts as a torn tail and what as damage). A torn last record (a
 * crash mid-append) is cut off; damage anywhere else, or a gap in the versions, stops the open with
 * {@link CorruptLogException}, unless the checkpoint already holds the damaged versions or the
 * options allow recovery past it. Every file starts with a magic number and a format version
 * ({@link FileHeader}); newer formats are refused with {@link UnsupportedFormatException}. A lock
 * file keeps a second store, in this process or another, out of the directory.
 *
 * <p>An I/O error while appending (a full disk, a failing device) fails that append and every later
 * one with the first error: what was acknowledged before is on the disk, and reads of the published
 * snapshots go on, but nothing more can be made durable until the store is reopened.
 *
 * <h2>Thread safety</h2>
 *
 * {@link #append} and {@link #sync} belong to the writer. {@link #checkpoint} may run on another
 * thread, one at a time; the segment list they share is guarded by {@code this}.
 */
public final class DurableLog implements AutoCloseable {
  static final long MAGIC = 0x5A56_4552_5357_414CL; // "ZVERSWAL"
  static final int FORMAT = 3;
  /** The older formats still read: their records have no header checksum. */
  static final int[] LEGACY_FORMATS = {1};
  /** Bytes of the segment header this code writes. */
  static final int HEADER_BYTES = FileHeader.CHECKED_BYTES;
  /** Bytes of a record header: length, first version, count, payload CRC32C, header CRC32C. */
  static final int RECORD_HEADER_BYTES = 24;
  /** Bytes of a format-1 record header: length, payload CRC32C. */
  static final int LEGACY_RECORD_HEADER_BYTES = 8;
  /** Largest record payload, written or read: guards against a damaged length. */
  static final int MAX_RECORD_BYTES = Integer.MAX_VALUE - 64;
  /** Smallest record payload: type, first version, count, watermark. A length 0 never validates. */
  static final int MIN_RECORD_BYTES = 21;
  /** Bytes of a version in a record besides its changes: commit time, change count. */
  static final int COMMIT_BYTES = 12;
  private static final byte GROUP = 1;
  /** The append buffer is dropped after a record bigger than this, not kept for the next one. */
  private static final int KEPT_BUFFER_BYTES = 16 << 20;

  private final DurabilityOptions options;
  private final Path directory;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Snapshot recovered;
  private final String recoveryReport;

  /** Segments by the first version they may hold; the last is being appended to. */
  private final NavigableMap<Long, Path> segments = new TreeMap<>();
  private FileChannel active;
  private long activeBytes;
  private long loggedVersion;
  private long lastForceNanos = System.nanoTime();
  private IOException failure;
  private boolean closed;
  private ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
  private final CRC32C crc = new CRC32C();

  private final Object checkpointLock = new Object();
  private long checkpointedVersion = -1;

  /** Set by {@link LogFaults} for tests, checked before each write: a full disk, a bad device. */
  interface Fault {
    void beforeWrite() throws IOException;
  }

  Fault fault;

  /** The largest record payload written; {@link LogFaults} lowers it to split a group in tests. */
  int recordLimit = MAX_RECORD_BYTES;

  private DurableLog(DurabilityOptions options, FileChannel lockChannel, FileLock lock, Recovery recovery)
      throws IOException {
    this.options = options;
    this.directory = options.directory();
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.recovered = recovery.snapshot;
    this.recoveryReport = recovery.report;
    this.loggedVersion = recovery.snapshot.version;
    this.segments.putAll(recovery.segments);
    this.checkpointedVersion = recovery.checkpointVersion;
    startSegment(loggedVersion + 1);
  }

  /**
   * Opens the store in {@code options.directory()}, creating it if missing, and recovers it.
   *
   * @param limits the limits of the recovered store
   * @param index the Z-index options of the recovered store
   * @throws IllegalStateException if another store, in this process or another, holds the directory
   * @throws java.nio.file.NotDirectoryException if the path exists and is not a directory
   * @throws CorruptLogException if a file is damaged where recovery may not pass, naming the file
   *     and the byte offset
   * @throws UnsupportedFormatException if a file is of an unknown or newer format
   * @throws IOException if the directory cannot be read or written
   */
  public static DurableLog open(DurabilityOptions options, Limits limits, ZIndexOptions index) throws IOException {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(index, "index");
    Path dir = options.directory();
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new NotDirectoryException(dir + " is not a directory: a data directory must be one");
    }
    Files.createDirectories(dir);
    FileChannel lockChannel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lockChannel.close();
      throw new IllegalStateException("data directory " + dir + " is already open by another store in this process");
    }
    if (lock == null) {
      lockChannel.close();
      throw new IllegalStateException("data directory " + dir + " is locked by another process");
    }
    try {
      return new DurableLog(options, lockChannel, lock, Recovery.run(options, limits, index));
    } catch (IOException | RuntimeException | Error e) {
      lock.release();
      lockChannel.close();
      throw e;
    }
  }

  /** The snapshot recovery produced: the last durable state, at the last logged version. */
  public Snapshot recovered() {
    return recovered;
  }

  /** What recovery did, in one line: the checkpoint loaded, the records replayed, any cut. */
  public String recoveryReport() {
    return recoveryReport;
  }

  /** The newest version appended to the log. */
  public long loggedVersion() {
    return loggedVersion;
  }

  /**
   * Appends the commits of {@code next} after {@code previous} as one record and, under {@link
   * SyncPolicy#EVERY_COMMIT}, forces it to the disk. Writer-confined.
   *
   * @param previous the snapshot last appended (or recovered)
   * @param next a snapshot derived from {@code previous} by the writer, still holding the commits
   *     after it (prune only to versions at or below {@code previous.version() + 1})
   * @throws IllegalArgumentException if {@code previous} is not the last appended version, or
   *     {@code next} no longer holds the commits to log, or one of them is too big for a record
   *     ({@link #MAX_RECORD_BYTES}); nothing is written then and the log stays usable
   * @throws IllegalStateException if the log is closed or failed earlier (the cause is that failure)
   * @throws IOException if writing or forcing fails; the log is then failed
   */
  public void append(Snapshot previous, Snapshot next) throws IOException {
    checkUsable();
    if (previous.version != loggedVersion) {
      throw new IllegalArgumentException(
          "append must continue from version " + loggedVersion + ", was given " + previous.version);
    }
    if (next.version <= previous.version) {
      return;
    }
    if (next.commits.firstVersion() > previous.version + 1) {
      throw new IllegalArgumentException(
          "versions from " + (previous.version + 1) + " were pruned before they were logged (watermark "
              + next.watermark + ")");
    }
    // Every version must fit a record before any is written: a refusal leaves the log as it was.
    long total = MIN_RECORD_BYTES;
    for (long u = previous.version + 1; u <= next.version; u++) {
      long bytes = commitBytes(next.commits.get(u));
      total += bytes;
      if (bytes > recordLimit - MIN_RECORD_BYTES) {
        throw new IllegalArgumentException(
            "version " + u + " needs " + bytes + " bytes in the log, over the largest record of "
                + recordLimit + " bytes");
      }
    }
    try {
      for (long u = previous.version + 1; u <= next.version; ) {
        ByteBuffer record = encode(next, u, next.version, total > recordLimit);
        if (activeBytes + record.remaining() > options.segmentBytes()
            && activeBytes > HEADER_BYTES) {
          active.force(false);
          active.close();
          startSegment(u);
        }
        if (fault != null) {
          fault.beforeWrite();
        }
        long at = activeBytes;
        int n = record.remaining();
        while (record.hasRemaining()) {
          active.write(record, at + (n - record.remaining()));
        }
        activeBytes += n;
        u += record.getInt(12);
      }
      forceIfDue();
    } catch (IOException e) {
      failure = e;
      throw e;
    } finally {
      if (buffer.capacity() > KEPT_BUFFER_BYTES) {
        buffer = ByteBuffer.allocate(1 << 16); // one huge group must not pin its buffer for good
      }
    }
    loggedVersion = next.version;
  }

  /**
   * Forces what was appended to the disk now, whatever the policy: the store's tick calls it under
   * {@link SyncPolicy#INTERVAL}. Writer-confined.
   *
   * @throws IOException if forcing fails; the log is then failed
   */
  public void sync() throws IOException {
    checkUsable();
    try {
      active.force(false);
      lastForceNanos = System.nanoTime();
    } catch (IOException e) {
      failure = e;
      throw e;
    }
  }

  /**
   * Writes {@code snapshot} as a checkpoint and drops the log segments that the previous checkpoint
   * covers. May run on any thread, concurrently with appends; checkpoints run one at a time, and one
   * not newer than the last is skipped.
   *
   * @param snapshot a snapshot whose versions are all appended (or about to be)
   * @throws IOException if the checkpoint cannot be written; the log goes on unharmed
   */
  public void checkpoint(Snapshot snapshot) throws IOException {
    Objects.requireNonNull(snapshot, "snapshot");
    synchronized (checkpointLock) {
      if (snapshot.version <= checkpointedVersion) {
        return;
      }
      Path tmp = directory.resolve(String.format("checkpoint-%020d.tmp", snapshot.version));
      Path file = directory.resolve(checkpointName(snapshot.version));
      Checkpoint.write(snapshot, tmp);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      forceDirectory(directory);
      checkpointedVersion = snapshot.version;
      List<Long> kept = checkpointVersions(directory);
      if (kept.size() >= 2) {
        long older = kept.get(kept.size() - 2);
        for (long v : kept.subList(0, kept.size() - 2)) {
          Files.deleteIfExists(directory.resolve(checkpointName(v)));
        }
        deleteSegmentsThrough(older);
      }
    }
  }

  /** Forces the log and releases the directory. Idempotent. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (failure == null && active.isOpen()) {
        active.force(false);
      }
    } finally {
      active.close();
      lock.release();
      lockChannel.close();
    }
  }

  // ------------------------------------------------------------------ internals

  private void checkUsable() {
    if (closed) {
      throw new IllegalStateException("durable log of " + directory + " is closed");
    }
    if (failure != null) {
      throw new IllegalStateException(
          "durable log of " + directory + " failed and takes no more writes: " + failure.getMessage(), failure);
    }
  }

  private void forceIfDue() throws IOException {
    switch (options.sync()) {
      case EVERY_COMMIT:
        active.force(false);
        lastForceNanos = System.nanoTime();
        break;
      case INTERVAL:
        if (System.nanoTime() - lastForceNanos >= options.syncInterval().toNanos()) {
          active.force(false);
          lastForceNanos = System.nanoTime();
        }
        break;
      default:
        break;
    }
  }

  private void startSegment(long firstVersion) throws IOException {
    Path file = directory.resolve(segmentName(firstVersion));
    FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    ByteBuffer header = FileHeader.encode(MAGIC, FORMAT);
    while (header.hasRemaining()) {
      ch.write(header, HEADER_BYTES - header.remaining());
    }
    ch.force(true);
    forceDirectory(directory);
    synchronized (this) {
      segments.put(firstVersion, file);
    }
    active = ch;
    activeBytes = HEADER_BYTES;
  }

  /** Deletes the segments whose versions all lie at or below {@code version}; never the active one. */
  private void deleteSegmentsThrough(long version) throws IOException {
    List<Path> doomed = new ArrayList<>();
    synchronized (this) {
      Map.Entry<Long, Path> e = segments.firstEntry();
      while (e != null) {
        Map.Entry<Long, Path> next = segments.higherEntry(e.getKey());
        if (next == null || next.getKey() - 1 > version) {
          break;
        }
        doomed.add(e.getValue());
        segments.remove(e.getKey());
        e = next;
      }
    }
    for (Path p : doomed) {
      Files.deleteIfExists(p);
    }
  }

  /** Bytes of commit {@code c} in a record's payload. */
  private static long commitBytes(Commit c) {
    long n = COMMIT_BYTES;
    for (int i = 0; i < c.keys.length; i++) {
      n += 8L + c.keys[i].length + (c.values[i] == null ? 0 : c.values[i].length);
    }
    return n;
  }

  /**
   * The record of the commits of {@code s} from {@code from} on, up to {@code to} or as many as fit
   * {@link #recordLimit} (one at least) if {@code split}: header, then payload; see the class
   * comment.
   */
  private ByteBuffer encode(Snapshot s, long from, long to, boolean split) {
    buffer.clear();
    buffer.position(RECORD_HEADER_BYTES);
    put1(GROUP);
    put8(from);
    int countAt = buffer.position();
    put4(0);
    put8(s.watermark);
    long u = from;
    for (; u <= to; u++) {
      Commit c = s.commits.get(u);
      if (split
          && u > from
          && buffer.position() - RECORD_HEADER_BYTES + commitBytes(c) > recordLimit) {
        break;
      }
      put8(c.timeMicros);
      put4(c.keys.length);
      for (int i = 0; i < c.keys.length; i++) {
        putBytes(c.keys[i]);
        if (c.values[i] == null) {
          put4(-1);
        } else {
          putBytes(c.values[i]);
        }
      }
    }
    int count = (int) (u - from);
    buffer.putInt(countAt, count);
    int end = buffer.position();
    crc.reset();
    crc.update(buffer.array(), RECORD_HEADER_BYTES, end - RECORD_HEADER_BYTES);
    buffer.putInt(0, end - RECORD_HEADER_BYTES);
    buffer.putLong(4, from);
    buffer.putInt(12, count);
    buffer.putInt(16, (int) crc.getValue());
    buffer.putInt(20, FileHeader.crc(buffer.array(), 0, 20));
    buffer.flip();
    return buffer;
  }

  private void ensure(int n) {
    if (buffer.remaining() < n) {
      long need = (long) buffer.position() + n;
      long most = (long) MAX_RECORD_BYTES + RECORD_HEADER_BYTES;
      assert need <= most : "append checks every version's size first";
      ByteBuffer bigger =
          ByteBuffer.allocate((int) Math.min(most, Math.max(need, 2L * buffer.capacity())));
      buffer.flip();
      bigger.put(buffer);
      buffer = bigger;
    }
  }

  private void put1(byte b) {
    ensure(1);
    buffer.put(b);
  }

  private void put4(int i) {
    ensure(4);
    buffer.putInt(i);
  }

  private void put8(long l) {
    ensure(8);
    buffer.putLong(l);
  }

  private void putBytes(byte[] b) {
    ensure(4 + b.length);
    buffer.putInt(b.length);
    buffer.put(b);
  }

  static String segmentName(long firstVersion) {
    return String.format("wal-%020d.log", firstVersion);
  }

  static String checkpointName(long version) {
    return String.format("checkpoint-%020d.zvc", version);
  }

  /** Versions of the checkpoints in {@code dir}, ascending. */
  static List<Long> checkpointVersions(Path dir) throws IOException {
    return versionsOf(dir, "checkpoint-", ".zvc");
  }

  /** First versions of the log segments in {@code dir}, ascending. */
  static List<Long> segmentVersions(Path dir) throws IOException {
    return versionsOf(dir, "wal-", ".log");
  }

  private static List<Long> versionsOf(Path dir, String prefix, String suffix) throws IOException {
    List<Long> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, prefix + "*" + suffix)) {
      for (Path p : files) {
        String name = p.getFileName().toString();
        String digits = name.substring(prefix.length(), name.length() - suffix.length());
        try {
          out.add(Long.parseLong(digits));
        } catch (NumberFormatException e) {
          throw new UnsupportedFormatException(p, "unexpected file name in a ZVerse data directory");
        }
      }
    }
    out.sort(null);
    return out;
  }

  /** Makes a rename or a new file in {@code dir} durable (Linux: fsync of the directory). */
  static void forceDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms cannot open a directory; there the rename's own durability is all there is.
      if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("windows")) {
        throw e;
      }
    }
  }
}
