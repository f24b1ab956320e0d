package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
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
 * changes as <em>one</em> record (length, CRC32C, payload) at the end of the current log segment and,
 * under {@link SyncPolicy#EVERY_COMMIT}, forces it to the disk before returning, so the writer tells
 * its callers only after their writes are durable, and one force serves the whole group. A record
 * is never split; a segment past its size is followed by a new one named after the first version it
 * may hold ({@code wal-<version>.log}).
 *
 * <p>{@link #checkpoint} writes a snapshot with its retained history to a temporary file, forces it
 * and renames it into place atomically ({@code checkpoint-<version>.zvc}); snapshots are immutable,
 * so it may run on any thread while the writer goes on appending. The newest two checkpoints are
 * kept, and the log segments that the older of them covers are deleted: a damaged newest checkpoint
 * still leaves a way back.
 *
 * <p>{@link #open} recovers: it loads the newest readable checkpoint and replays the log after it. A
 * torn last record (a crash mid-append) is cut off. A damaged record with whole records after it,
 * or a gap in the versions, stops the open with {@link CorruptLogException}, unless the options allow
 * recovery past it. Every file starts with a magic number and a format version; newer formats are
 * refused with {@link UnsupportedFormatException}. A lock file keeps a second store, in this process
 * or another, out of the directory.
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
  /**
   * The log format written: 2 keeps commit times in microseconds. Format 1, with milliseconds, is
   * still read (see {@link Recovery}).
   */
  static final int FORMAT = 2;
  static final int HEADER_BYTES = 12;
  /** Largest record payload accepted when reading: guards against a damaged length. */
  static final int MAX_RECORD_BYTES = Integer.MAX_VALUE - 64;
  private static final byte GROUP = 1;

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

  /** Injected by tests before each write: a full disk or a failing device. */
  interface Fault {
    void beforeWrite() throws IOException;
  }

  Fault fault;

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
   * @throws CorruptLogException if a file is damaged where recovery may not pass
   * @throws UnsupportedFormatException if a file is of an unknown or newer format
   * @throws IOException if the directory cannot be read or written
   */
  public static DurableLog open(DurabilityOptions options, Limits limits, ZIndexOptions index) throws IOException {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(index, "index");
    Path dir = options.directory();
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
   *     {@code next} no longer holds the commits to log
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
    ByteBuffer record = encode(next, previous.version + 1, next.version);
    try {
      if (activeBytes + record.remaining() > options.segmentBytes() && activeBytes > HEADER_BYTES) {
        active.force(false);
        active.close();
        startSegment(previous.version + 1);
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
      forceIfDue();
    } catch (IOException e) {
      failure = e;
      throw e;
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
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).putLong(MAGIC).putInt(FORMAT).flip();
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

  /** The record of the commits in [from, to] of {@code s}: length, CRC32C, payload. */
  private ByteBuffer encode(Snapshot s, long from, long to) {
    buffer.clear();
    buffer.position(8);
    put1(GROUP);
    put8(from);
    put4((int) (to - from + 1));
    put8(s.watermark);
    for (long u = from; u <= to; u++) {
      Commit c = s.commits.get(u);
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
    int end = buffer.position();
    crc.reset();
    crc.update(buffer.array(), 8, end - 8);
    buffer.putInt(0, end - 8);
    buffer.putInt(4, (int) crc.getValue());
    buffer.flip();
    return buffer;
  }

  private void ensure(int n) {
    if (buffer.remaining() < n) {
      long need = (long) buffer.position() + n;
      if (need > MAX_RECORD_BYTES) {
        throw new IllegalArgumentException("a group commit of over " + MAX_RECORD_BYTES + " bytes cannot be logged");
      }
      ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(MAX_RECORD_BYTES, Math.max(need, 2L * buffer.capacity())));
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
