package dev.zverse.engine;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Recovery of a data directory: the newest readable checkpoint, then the log after it; see {@link
 * DurableLog}. One use, on the thread that opens the store.
 */
final class Recovery {
  final Snapshot snapshot;
  /** The segments kept, by first version. */
  final NavigableMap<Long, Path> segments;
  final long checkpointVersion;
  final String report;

  private Recovery(Snapshot snapshot, NavigableMap<Long, Path> segments, long checkpointVersion, String report) {
    this.snapshot = snapshot;
    this.segments = segments;
    this.checkpointVersion = checkpointVersion;
    this.report = report;
  }

  static Recovery run(DurabilityOptions options, Limits limits, ZIndexOptions index) throws IOException {
    Path dir = options.directory();
    StringBuilder report = new StringBuilder();
    Snapshot base = null;
    long checkpointVersion = -1;
    CorruptLogException damagedCheckpoint = null;
    List<Long> checkpoints = DurableLog.checkpointVersions(dir);
    for (int i = checkpoints.size() - 1; i >= 0 && base == null; i--) {
      Path file = dir.resolve(DurableLog.checkpointName(checkpoints.get(i)));
      try {
        base = Checkpoint.read(file, limits, index);
        checkpointVersion = base.version;
        report.append("checkpoint ").append(file.getFileName()).append(" at version ").append(base.version);
      } catch (CorruptLogException e) {
        damagedCheckpoint = damagedCheckpoint == null ? e : damagedCheckpoint;
        report.append("skipped damaged ").append(file.getFileName()).append("; ");
      }
    }
    if (base == null) {
      base = Snapshot.empty(limits, index);
      report.append("no checkpoint");
    }

    NavigableMap<Long, Path> segments = new TreeMap<>();
    for (long v : DurableLog.segmentVersions(dir)) {
      segments.put(v, dir.resolve(DurableLog.segmentName(v)));
    }
    Transient t = base.asTransient();
    long watermark = base.watermark;
    long records = 0;
    Long from = segments.floorKey(base.version + 1);
    if (from == null && !segments.isEmpty() && segments.firstKey() > base.version + 1) {
      if (damagedCheckpoint != null) {
        throw damagedCheckpoint;
      }
      throw new CorruptLogException(
          segments.firstEntry().getValue(), 0, "the log starts at version " + segments.firstKey()
              + " but the state recovered so far ends at version " + base.version);
    }
    if (from != null) {
      Long last = segments.lastKey();
      for (Long first : segments.tailMap(from, true).keySet().toArray(new Long[0])) {
        Path file = segments.get(first);
        if (!segments.containsKey(first)) {
          break; // cut off by a recovery past corruption below
        }
        if (first > t.version() + 1) {
          throw new CorruptLogException(
              file, 0, "versions " + (t.version() + 1) + " to " + (first - 1) + " are missing from the log");
        }
        Replay r = replay(file, t, first.equals(last), options.recoverPastCorruption());
        records += r.records;
        watermark = Math.max(watermark, r.watermark);
        if (r.cutAt >= 0) {
          report.append("; cut ").append(file.getFileName()).append(" at byte ").append(r.cutAt)
              .append(r.problem == null ? "" : " (" + r.problem + ")");
          // Segments after a cut hold nothing recoverable: drop them.
          for (Long later : segments.tailMap(first, false).keySet().toArray(new Long[0])) {
            Files.deleteIfExists(segments.remove(later));
          }
        }
      }
    }
    // Segments that the checkpoint covers and the next one will not need are left to its deletion.
    Snapshot s = t.persistent();
    if (watermark > s.watermark() && watermark <= s.version()) {
      s = s.prune(watermark);
    }
    // The segment that would be started next must not exist with stale content.
    Path nextSegment = segments.remove(s.version() + 1);
    if (nextSegment != null) {
      Files.deleteIfExists(nextSegment);
    }
    report.append("; replayed ").append(records).append(" records to version ").append(s.version());
    return new Recovery(s, segments, checkpointVersion, report.toString());
  }

  /** What replaying one segment found. */
  private static final class Replay {
    long records;
    long watermark;
    long cutAt = -1;
    String problem;
  }

  private static Replay replay(Path file, Transient t, boolean lastSegment, boolean pastCorruption)
      throws IOException {
    Replay r = new Replay();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      ByteBuffer header = ByteBuffer.allocate(DurableLog.HEADER_BYTES);
      readFully(ch, header, 0);
      header.flip();
      if (header.remaining() < DurableLog.HEADER_BYTES) {
        if (lastSegment) { // crashed while starting the segment
          ch.truncate(0);
          r.cutAt = 0;
          return r;
        }
        throw new CorruptLogException(file, 0, "truncated log segment header");
      }
      long magic = header.getLong();
      if (magic != DurableLog.MAGIC) {
        throw new UnsupportedFormatException(file, "not a ZVerse log segment (magic " + Long.toHexString(magic) + ")");
      }
      int format = header.getInt();
      if (format > DurableLog.FORMAT || format < 1) {
        throw new UnsupportedFormatException(
            file, "log format " + format + " is not supported; this version reads format " + DurableLog.FORMAT);
      }
      long pos = DurableLog.HEADER_BYTES;
      ByteBuffer frame = ByteBuffer.allocate(8);
      CRC32C crc = new CRC32C();
      while (pos < size) {
        String problem = null;
        boolean reachesEnd = false;
        ByteBuffer payload = null;
        if (size - pos < 8) {
          problem = "record header cut short";
          reachesEnd = true;
        } else {
          frame.clear();
          readFully(ch, frame, pos);
          int length = frame.getInt(0);
          int stored = frame.getInt(4);
          if (length < 0 || length > DurableLog.MAX_RECORD_BYTES) {
            problem = "impossible record length " + length;
          } else if (pos + 8 + length > size) {
            problem = "record of " + length + " bytes runs past the end of the file";
            reachesEnd = true;
          } else {
            payload = ByteBuffer.allocate(length);
            readFully(ch, payload, pos + 8);
            crc.reset();
            crc.update(payload.array(), 0, length);
            if ((int) crc.getValue() != stored) {
              problem = "record checksum mismatch";
              reachesEnd = pos + 8 + length == size;
            }
          }
        }
        if (problem != null) {
          boolean torn = lastSegment && reachesEnd;
          if (!torn && !pastCorruption) {
            throw new CorruptLogException(file, pos, problem + ", with more of the log after it");
          }
          ch.truncate(pos);
          ch.force(true);
          r.cutAt = pos;
          r.problem = torn ? "torn last record" : problem;
          return r;
        }
        payload.flip();
        if (apply(payload, format, t, file, pos, r)) {
          r.records++; // records wholly within the checkpoint are read but not counted as replayed
        }
        pos += 8 + payload.capacity();
      }
    }
    return r;
  }

  /** Applies the versions of the record above the transient's; whether there was any. */
  private static boolean apply(ByteBuffer p, int format, Transient t, Path file, long pos, Replay r)
      throws CorruptLogException {
    try {
      if (p.get() != 1) {
        throw new CorruptLogException(file, pos, "unknown record type");
      }
      long first = p.getLong();
      int count = p.getInt();
      boolean applied = false;
      long recordWatermark = p.getLong();
      r.watermark = Math.max(r.watermark, recordWatermark);
      for (int i = 0; i < count; i++) {
        long v = first + i;
        // Format 1 kept milliseconds; applyAt raises the ties they leave to increasing times.
        long time = format == 1 ? Commit.microsOfMillis(p.getLong()) : p.getLong();
        int changes = p.getInt();
        WriteBatch.Builder batch = WriteBatch.builder();
        for (int c = 0; c < changes; c++) {
          byte[] key = bytes(p, p.getInt());
          int n = p.getInt();
          if (n < 0) {
            batch.deleteOwned(key);
          } else {
            batch.putOwned(key, bytes(p, n));
          }
        }
        if (v <= t.version()) {
          continue; // already in the checkpoint
        }
        if (v != t.version() + 1) {
          throw new CorruptLogException(file, pos, "record of version " + v + " follows version " + t.version());
        }
        t.applyAt(batch.build(), time);
        applied = true;
      }
      if (applied && recordWatermark <= t.version()) {
        // Prune as the store did, so that replaying a long log holds its retained history only,
        // not every version it ever logged (a no-op unless the watermark moved).
        t.prune(recordWatermark);
      }
      return applied;
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new CorruptLogException(file, pos, "record does not decode: " + e);
    }
  }

  private static byte[] bytes(ByteBuffer p, int n) {
    byte[] b = new byte[n];
    p.get(b);
    return b;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, at + b.position());
      if (n < 0) {
        return;
      }
    }
  }
}
