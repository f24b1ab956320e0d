package dev.zverse.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The files of a durable store's data directory, in one place: their names, the lock that keeps a
 * second store out, listing them in version order, and making a new name durable.
 *
 * <pre>
 * lock                          held (an OS file lock) while a store has the directory open
 * wal-&lt;first version&gt;.log       a log segment, holding versions from its first on
 * checkpoint-&lt;version&gt;.zvc      a checkpoint of the store at that version
 * checkpoint-&lt;version&gt;.tmp      a checkpoint being written; renamed into place when whole
 * </pre>
 *
 * Versions are written as 20 decimal digits, so that names sort as their versions do; listing
 * parses them and sorts by number all the same. A name with the prefix and suffix of a log file but
 * no number in between is refused, not ignored: it is not ours, and guessing could lose data.
 *
 * <p>The static methods are stateless. An instance is the locked directory: {@link #lock} takes the
 * lock, {@link #close} releases it; it is used by the thread that opens and closes the store.
 */
final class DataDirectory implements AutoCloseable {
  private static final String LOCK = "lock";
  private static final String SEGMENT_PREFIX = "wal-";
  private static final String SEGMENT_SUFFIX = ".log";
  private static final String CHECKPOINT_PREFIX = "checkpoint-";
  private static final String CHECKPOINT_SUFFIX = ".zvc";
  private static final String TEMP_SUFFIX = ".tmp";

  private final Path path;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private DataDirectory(Path path, FileChannel lockChannel, FileLock lock) {
    this.path = path;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Creates {@code dir} if missing and locks it for one store.
   *
   * @throws NotDirectoryException if the path exists and is not a directory
   * @throws IllegalStateException if another store, in this process or another, holds it
   * @throws IOException if the directory or its lock file cannot be created
   */
  static DataDirectory lock(Path dir) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new NotDirectoryException(dir + " is not a directory: a data directory must be one");
    }
    Files.createDirectories(dir);
    FileChannel ch =
        FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      ch.close();
      throw new IllegalStateException(
          "data directory " + dir + " is already open by another store in this process");
    }
    if (lock == null) {
      ch.close();
      throw new IllegalStateException("data directory " + dir + " is locked by another process");
    }
    return new DataDirectory(dir, ch, lock);
  }

  /** The directory. */
  Path path() {
    return path;
  }

  /** The log segment whose first version is {@code firstVersion}. */
  Path segment(long firstVersion) {
    return path.resolve(segmentName(firstVersion));
  }

  /** The checkpoint of {@code version}. */
  Path checkpoint(long version) {
    return path.resolve(checkpointName(version));
  }

  /** The file the checkpoint of {@code version} is written to before it is renamed into place. */
  Path checkpointTemp(long version) {
    return path.resolve(CHECKPOINT_PREFIX + digits(version) + TEMP_SUFFIX);
  }

  /** First versions of the log segments, ascending. */
  List<Long> segmentVersions() throws IOException {
    return segmentVersions(path);
  }

  /** Versions of the checkpoints, ascending. */
  List<Long> checkpointVersions() throws IOException {
    return checkpointVersions(path);
  }

  /**
   * Deletes the checkpoints being written that a crash left: only the writer that renames one into
   * place can finish it, and the lock says none runs now.
   *
   * @return how many files and bytes were deleted, for the recovery report; {@code {0, 0}} if none
   */
  long[] removeCheckpointTemps() throws IOException {
    long files = 0;
    long bytes = 0;
    try (DirectoryStream<Path> tmps =
        Files.newDirectoryStream(path, CHECKPOINT_PREFIX + "*" + TEMP_SUFFIX)) {
      for (Path p : tmps) {
        bytes += Files.size(p);
        Files.delete(p);
        files++;
      }
    }
    return new long[] {files, bytes};
  }

  /** Makes a rename or a new file in the directory durable (Linux: fsync of the directory). */
  void force() throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms cannot open a directory; there the rename's own durability is all there is.
      if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
        throw e;
      }
    }
  }

  /** Releases the lock. */
  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }

  static String segmentName(long firstVersion) {
    return SEGMENT_PREFIX + digits(firstVersion) + SEGMENT_SUFFIX;
  }

  static String checkpointName(long version) {
    return CHECKPOINT_PREFIX + digits(version) + CHECKPOINT_SUFFIX;
  }

  /** Versions of the checkpoints in {@code dir}, ascending. */
  static List<Long> checkpointVersions(Path dir) throws IOException {
    return versionsOf(dir, CHECKPOINT_PREFIX, CHECKPOINT_SUFFIX);
  }

  /** First versions of the log segments in {@code dir}, ascending. */
  static List<Long> segmentVersions(Path dir) throws IOException {
    return versionsOf(dir, SEGMENT_PREFIX, SEGMENT_SUFFIX);
  }

  private static String digits(long version) {
    return String.format("%020d", version);
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
          throw new UnsupportedFormatException(
              p, "unexpected file name in a ZVerse data directory");
        }
      }
    }
    out.sort(null);
    return out;
  }
}
