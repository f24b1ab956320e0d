package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
import org.jspecify.annotations.Nullable;

/**
 * The durable half of a store: a write-ahead log of group commits plus checkpoints in one data
 * directory, and the recovery that reads them back.
 *
 * <h2>Design</h2>
 *
 * The writer publishes a group of batches as one snapshot; {@link #append} writes that group's
 * changes as one record ({@link CommitRecordCodec}) at the end of the current log segment and,
 * under {@link SyncPolicy#EVERY_COMMIT}, forces it to the disk before returning, so the writer
 * tells its callers only after their writes are durable, and one force serves the whole group. A
 * group too big for one record ({@link CommitRecordCodec#MAX_PAYLOAD_BYTES}) is written as several,
 * each of whole versions; a version is never split (the batch limit, {@link
 * Limits#maxBatchBytes()}, keeps each one well inside a record). A record is never split across
 * segments; a segment past its size is followed by a new one named after the first version it may
 * hold ({@code wal-<version>.log}).
 *
 * <h2>Format (version {@value #FORMAT})</h2>
 *
 * <pre>
 * segment header: magic "ZVERSWAL" (8 bytes), format (int), CRC32C of those 12 bytes (int)
 * then records back to back, each as {@link CommitRecordCodec} encodes it: a 24-byte header with
 *   its own checksum (payload length, first version, count, payload CRC32C, header CRC32C), then
 *   the payload (type, versions, watermark, per version its commit time and changes)
 * </pre>
 *
 * The record header has its own checksum, so a damaged length is seen as damage and never read as a
 * record running past the end of the file, and a damaged record's versions are known from its
 * header: recovery can tell which records a checkpoint already holds without their payload. Format
 * 1 (a record was payload length, payload CRC32C, payload; a 12-byte segment header; commit times
 * in milliseconds) is still read; new segments are written in format {@value #FORMAT}.
 *
 * <p>{@link #checkpoint} writes a snapshot with its retained history to a temporary file, forces it
 * and renames it into place atomically ({@code checkpoint-<version>.zvc}); snapshots are immutable,
 * so it may run on any thread while the writer goes on appending. The newest two checkpoints are
 * kept, and the log segments that the older of them covers are deleted: a damaged newest checkpoint
 * still leaves a way back.
 *
 * <p>{@link #resetTo} replaces the log's state by a base snapshot (a replica's transferred state):
 * the base's checkpoint first, then a new segment after it, then the older files go; the base is
 * never behind the log, so once its checkpoint is in place every older record is one recovery
 * skips.
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

  private final DurabilityOptions options;
  private final DataDirectory dir;
  private final Path directory;
  private final Snapshot recovered;
  private final String recoveryReport;

  /** Segments by the first version they may hold; the last is being appended to. */
  private final NavigableMap<Long, Path> segments = new TreeMap<>();

  private FileChannel active;
  private long activeBytes;
  private long loggedVersion;
  private long lastForceNanos = System.nanoTime();
  private @Nullable IOException failure;
  private boolean closed;
  private final CommitRecordCodec.Writer writer = new CommitRecordCodec.Writer(1 << 16);

  private final Object checkpointLock = new Object();
  private long checkpointedVersion = -1;

  /** The size of the last checkpoint this log wrote; volatile: read by monitoring threads. */
  private volatile long lastCheckpointBytes;

  /** Set by {@link LogFaults} for tests, checked before each write: a full disk, a bad device. */
  interface Fault {
    void beforeWrite() throws IOException;
  }

  // Both are set by a test's thread and read by the thread that appends: volatile, and each read
  // once per append, so that one append sees one setting throughout.
  volatile @Nullable Fault fault;

  /** The largest record payload written; {@link LogFaults} lowers it to split a group in tests. */
  volatile int recordLimit = CommitRecordCodec.MAX_PAYLOAD_BYTES;

  private DurableLog(DurabilityOptions options, DataDirectory dir, Recovery recovery)
      throws IOException {
    this.options = options;
    this.dir = dir;
    this.directory = dir.path();
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
  public static DurableLog open(DurabilityOptions options, Limits limits, ZIndexOptions index)
      throws IOException {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(index, "index");
    DataDirectory dir = DataDirectory.lock(options.directory());
    try {
      return new DurableLog(options, dir, Recovery.run(dir, options, limits, index));
    } catch (IOException | RuntimeException | Error e) {
      dir.close();
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
   * Whether a write, a force or a step of {@link #resetTo} after its checkpoint was durable failed:
   * the log then refuses every append, and only a reopen (which recovers) makes it usable again.
   * Writer-confined, as the calls that fail.
   *
   * @return true once the log failed; never false again
   */
  public boolean failed() {
    return failure != null;
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
   *     ({@link CommitRecordCodec#MAX_PAYLOAD_BYTES}); nothing is written then and the log stays
   *     usable
   * @throws IllegalStateException if the log is closed or failed earlier (the cause is that
   *     failure)
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
          "versions from "
              + (previous.version + 1)
              + " were pruned before they were logged (watermark "
              + next.watermark
              + ")");
    }
    final int recordLimit = this.recordLimit;
    final @Nullable Fault fault = this.fault;
    // Every version must fit a record before any is written: a refusal leaves the log as it was.
    long total = CommitRecordCodec.MIN_PAYLOAD_BYTES;
    for (long u = previous.version + 1; u <= next.version; u++) {
      long bytes = CommitRecordCodec.commitBytes(next.commits.get(u));
      total += bytes;
      if (bytes > recordLimit - CommitRecordCodec.MIN_PAYLOAD_BYTES) {
        throw new IllegalArgumentException(
            "version "
                + u
                + " needs "
                + bytes
                + " bytes in the log, over the largest record of "
                + recordLimit
                + " bytes");
      }
    }
    try {
      for (long u = previous.version + 1; u <= next.version; ) {
        ByteBuffer record =
            writer.encode(
                next.commits, next.watermark, u, next.version, recordLimit, total > recordLimit);
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
        u += CommitRecordCodec.headerCount(record, 0);
      }
      forceIfDue();
    } catch (IOException e) {
      failure = e;
      throw e;
    } finally {
      writer.shrink();
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
   * covers. May run on any thread, concurrently with appends; checkpoints run one at a time, and
   * one not newer than the last is skipped.
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
      Checkpoint.writeInto(dir, snapshot);
      checkpointedVersion = snapshot.version;
      lastCheckpointBytes = Files.size(dir.checkpoint(snapshot.version));
      List<Long> kept = dir.checkpointVersions();
      if (kept.size() >= 2) {
        long older = kept.get(kept.size() - 2);
        for (long v : kept.subList(0, kept.size() - 2)) {
          Files.deleteIfExists(dir.checkpoint(v));
        }
        deleteSegmentsThrough(older);
      }
    }
  }

  /**
   * Makes {@code base} the log's state in place of everything it holds: what a replica that
   * received {@code base} by state transfer does before it follows on from {@code base.version() +
   * 1}. The base is written as a checkpoint (to a temporary file, forced, renamed into place, the
   * directory forced); only then is the log restarted after it (a new segment from {@code
   * base.version() + 1}) and the older segments and checkpoints deleted. Writer-confined, and only
   * while no append is in flight.
   *
   * <p>Crash-safe at every step: before the rename is durable, recovery finds the old state (the
   * temporary file is deleted at open); once it is, the newest checkpoint is the base, and every
   * version the old segments hold is at or below the base's version (the base is never behind the
   * log), so recovery skips them all and replays only what was appended after the base. So a crash
   * recovers the old state or the base, never a mix, never a gap replayed as data.
   *
   * @param base the new state; its version at least {@link #loggedVersion()}
   * @throws NullPointerException if {@code base} is null
   * @throws IllegalArgumentException if {@code base.version()} is below {@link #loggedVersion()};
   *     nothing is written then
   * @throws IllegalStateException if the log is closed or failed earlier (the cause is that
   *     failure)
   * @throws IOException if the checkpoint cannot be written or renamed (the log then still holds
   *     the old state and stays usable), or if a later step fails (the log is then {@link #failed};
   *     a reopen recovers the base)
   */
  public void resetTo(Snapshot base) throws IOException {
    Objects.requireNonNull(base, "base");
    checkUsable();
    if (base.version < loggedVersion) {
      throw new IllegalArgumentException(
          "base.version must be at least the logged version "
              + loggedVersion
              + ", was "
              + base.version);
    }
    synchronized (checkpointLock) {
      // Until the rename is durable the old state is what a crash recovers: a failure here leaves
      // the log as it was.
      Path tmp = dir.checkpointTemp(base.version);
      crashPoint(ResetStep.BEFORE_CHECKPOINT);
      long bytes;
      try {
        Checkpoint.write(base, tmp);
        crashPoint(ResetStep.CHECKPOINT_WRITTEN);
        // Measured here, so that nothing after the rename can fail but the steps that fail the log.
        bytes = Files.size(tmp);
        Files.move(tmp, dir.checkpoint(base.version), StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        Files.deleteIfExists(tmp);
        throw e;
      }
      try {
        crashPoint(ResetStep.CHECKPOINT_RENAMED);
        dir.force();
        crashPoint(ResetStep.CHECKPOINT_DURABLE);
        // From here recovery loads the base: the rest only tidies up and moves the log on.
        active.force(false);
        active.close();
        startSegment(base.version + 1);
        crashPoint(ResetStep.LOG_RESTARTED);
        for (long v : dir.checkpointVersions()) {
          if (v < base.version) {
            Files.deleteIfExists(dir.checkpoint(v));
            crashPoint(ResetStep.OLD_FILE_DELETED);
          }
        }
        List<Path> doomed = new ArrayList<>();
        synchronized (this) {
          for (Map.Entry<Long, Path> e : segments.headMap(base.version + 1, false).entrySet()) {
            doomed.add(e.getValue());
          }
          segments.headMap(base.version + 1, false).clear();
        }
        for (Path p : doomed) {
          Files.deleteIfExists(p);
          crashPoint(ResetStep.OLD_FILE_DELETED);
        }
        dir.force();
      } catch (IOException | RuntimeException e) {
        // The base may be what a reopen recovers, and the active segment is closed: no more
        // appends to this instance, whatever went wrong.
        failure = e instanceof IOException io ? io : new IOException(e);
        throw e;
      }
      loggedVersion = base.version;
      checkpointedVersion = base.version;
      lastCheckpointBytes = bytes;
    }
  }

  /** The steps of {@link #resetTo} after which a test may stop it, as a crash would. */
  enum ResetStep {
    BEFORE_CHECKPOINT,
    CHECKPOINT_WRITTEN,
    CHECKPOINT_RENAMED,
    CHECKPOINT_DURABLE,
    LOG_RESTARTED,
    OLD_FILE_DELETED
  }

  /** Set by tests: called at each step of a reset, it may throw to stop the reset there. */
  interface ResetCrash {
    void at(ResetStep step);
  }

  // Set by a test's thread before the reset it stops, on the thread that resets: volatile.
  volatile @Nullable ResetCrash resetCrash;

  private void crashPoint(ResetStep step) {
    final @Nullable ResetCrash crash = this.resetCrash;
    if (crash != null) {
      crash.at(step);
    }
  }

  /**
   * The size of the last checkpoint this log wrote, in bytes: zero before it wrote one (a
   * checkpoint found by recovery does not count). Any thread.
   */
  public long lastCheckpointBytes() {
    return lastCheckpointBytes;
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
      try {
        active.close();
      } finally {
        dir.close();
      }
    }
  }

  // ------------------------------------------------------------------ internals

  private void checkUsable() {
    if (closed) {
      throw new IllegalStateException("durable log of " + directory + " is closed");
    }
    if (failure != null) {
      throw new IllegalStateException(
          "durable log of "
              + directory
              + " failed and takes no more writes: "
              + failure.getMessage(),
          failure);
    }
  }

  private void forceIfDue() throws IOException {
    switch (options.sync()) {
      case EVERY_COMMIT -> {
        active.force(false);
        lastForceNanos = System.nanoTime();
      }
      case INTERVAL -> {
        if (System.nanoTime() - lastForceNanos >= options.syncInterval().toNanos()) {
          active.force(false);
          lastForceNanos = System.nanoTime();
        }
      }
      default -> {
        // NEVER: the operating system writes back when it chooses.
      }
    }
  }

  private void startSegment(long firstVersion) throws IOException {
    Path file = dir.segment(firstVersion);
    FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
    ByteBuffer header = FileHeader.encode(MAGIC, FORMAT);
    while (header.hasRemaining()) {
      ch.write(header, HEADER_BYTES - header.remaining());
    }
    ch.force(true);
    dir.force();
    synchronized (this) {
      segments.put(firstVersion, file);
    }
    active = ch;
    activeBytes = HEADER_BYTES;
  }

  /**
   * Deletes the segments whose versions all lie at or below {@code version}; never the active one.
   */
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
}
