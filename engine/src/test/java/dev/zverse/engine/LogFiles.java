package dev.zverse.engine;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the recovery tests need to find and damage bytes of a data directory: record offsets of a
 * segment (read from the segment's own format, so the tests run against any format), bit flips,
 * truncation, appends, copies.
 */
final class LogFiles {
  private LogFiles() {}

  /** The segment's header size: 12 bytes in format 1, 16 from format 3 on. */
  static int headerBytes(Path segment) throws IOException {
    return format(segment) >= 3 ? 16 : 12;
  }

  /** A record header's size: 8 bytes in format 1 (length, CRC), 24 from format 3 on. */
  static int recordHeaderBytes(Path segment) throws IOException {
    return format(segment) >= 3 ? 24 : 8;
  }

  static int format(Path file) throws IOException {
    return ByteBuffer.wrap(Files.readAllBytes(file), 8, 4).getInt();
  }

  /**
   * Offsets of the records of an undamaged segment, in order; the length is the first int of each.
   */
  static List<Long> records(Path segment) throws IOException {
    byte[] b = Files.readAllBytes(segment);
    int rh = recordHeaderBytes(segment);
    List<Long> out = new ArrayList<>();
    for (int pos = headerBytes(segment); pos < b.length; ) {
      out.add((long) pos);
      pos += rh + ByteBuffer.wrap(b, pos, 4).getInt();
    }
    return out;
  }

  static void flipBit(Path file, long byteOffset, int bit) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(byteOffset);
      int b = f.read();
      f.seek(byteOffset);
      f.write(b ^ (1 << bit));
    }
  }

  static void truncate(Path file, long length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
  }

  static void overwrite(Path file, long at, byte[] bytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(at);
      f.write(bytes);
    }
  }

  static void append(Path file, byte[] bytes) throws IOException {
    overwrite(file, Files.size(file), bytes);
  }

  static Path lastSegment(Path dir) throws IOException {
    List<Long> segs = DataDirectory.segmentVersions(dir);
    return dir.resolve(DataDirectory.segmentName(segs.get(segs.size() - 1)));
  }

  /** Copies the files of {@code from} (no subdirectories) into the empty or missing {@code to}. */
  static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.copy(p, to.resolve(p.getFileName()));
      }
    }
  }

  /** Deletes {@code root} and everything below it. */
  static void delete(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
