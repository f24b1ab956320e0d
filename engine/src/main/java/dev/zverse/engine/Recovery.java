package dev.zverse.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Recovery of a data directory: the newest readable checkpoint, then the log after it; see {@link
 * DurableLog}. One use, on the thread that opens the store.
 *
 * <h2>Torn tail or damage</h2>
 *
 * A crash mid-append leaves the last record of the last segment torn. On ext4 and XFS what reaches
 * the disk of an unfinished write is a prefix of it: a process killed inside {@code write} leaves a
 * shorter file, and a machine that loses power leaves the blocks the file system had allocated but
 * not written reading as zeros, from a sector boundary on. So a torn record is, at the physical end
 * of the last segment: a record header cut short; a whole header (its checksum holds) whose record
 * runs past the end of the file; or a record whose bytes from some sector boundary (512 bytes) on
 * are zero, with nothing but zeros after it. A zero tail (the file extended but never written) is
 * torn too, and a length of 0 never reads as a record. Everything else is damage: a bad checksum on
 * a full record, a damaged header with data after it, any damage before the last record or in an
 * earlier segment.
 *
 * <p>Damage in versions that the checkpoint already holds is passed: the damaged record's versions
 * are known from its header, or, when the header itself is damaged, from the next whole record
 * (found by scanning for a header whose checksum holds and whose payload checksum holds too) or the
 * next segment's name. Damage in versions the store needs stops the open with {@link
 * CorruptLogException} naming the file and the offset, unless the options allow recovery past it:
 * then the log is cut there and the report says which versions and how many bytes were dropped.
 * Format-1 records have no header checksum: their damaged lengths cannot be told from torn ones,
 * and their damage is not scanned past.
 *
 * <h2>A crash during the cut</h2>
 *
 * A cut in a segment that is not the last one drops the later segments too. They are deleted newest
 * first, and the directory is forced, before the cut segment is truncated (or deleted, when the cut
 * left no record in it). Until that truncation the cut segment still holds its damage, so a process
 * killed, or a machine that loses power, anywhere in these steps leaves a log whose first damage is
 * where it was, with only later segments gone: the next open cuts it there again, to the same
 * prefix. Truncated first, the cut segment would end cleanly before the later segments, and the
 * next open would refuse the hole between them.
 */
final class Recovery {
  final Snapshot snapshot;

  /** The segments kept, by first version. */
  final NavigableMap<Long, Path> segments;

  final long checkpointVersion;
  final String report;

  private Recovery(
      Snapshot snapshot, NavigableMap<Long, Path> segments, long checkpointVersion, String report) {
    this.snapshot = snapshot;
    this.segments = segments;
    this.checkpointVersion = checkpointVersion;
    this.report = report;
  }

  static Recovery run(
      DataDirectory dir, DurabilityOptions options, Limits limits, ZIndexOptions index)
      throws IOException {
    return run(dir, options, limits, index, null);
  }

  /** The file steps of a cut, after each of which a test may stop recovery as a crash would. */
  enum Step {
    /** A segment after the cut one was deleted. */
    LATER_SEGMENT_DELETED,
    /** The directory was forced: the deletions before are durable. */
    DIRECTORY_FORCED,
    /** The cut segment was truncated at the cut and forced. */
    CUT_FORCED,
    /** The cut segment, left with no record, was deleted. */
    EMPTIED_SEGMENT_DELETED
  }

  /** Set by tests: called after each step of a cut, it may throw to stop recovery there. */
  interface Crash {
    void at(Step step);
  }

  static Recovery run(
      DataDirectory dir,
      DurabilityOptions options,
      Limits limits,
      ZIndexOptions index,
      @Nullable Crash crash)
      throws IOException {
    List<String> report = new ArrayList<>();
    Snapshot base = null;
    long checkpointVersion = -1;
    CorruptLogException damagedCheckpoint = null;
    List<Long> checkpoints = dir.checkpointVersions();
    for (int i = checkpoints.size() - 1; i >= 0 && base == null; i--) {
      Path file = dir.checkpoint(checkpoints.get(i));
      try {
        base = Checkpoint.read(file, limits, index);
        checkpointVersion = base.version;
        report.add("checkpoint " + file.getFileName() + " at version " + base.version);
      } catch (CorruptLogException e) {
        damagedCheckpoint = damagedCheckpoint == null ? e : damagedCheckpoint;
        report.add("skipped damaged " + file.getFileName() + " (" + e.getMessage() + ")");
      }
    }
    if (base == null) {
      base = Snapshot.empty(limits, index);
      report.add("no checkpoint");
    }
    long[] removed = dir.removeCheckpointTemps();
    if (removed[0] > 0) {
      report.add(
          "removed " + removed[0] + " unfinished checkpoint file(s) of " + removed[1] + " bytes");
    }

    NavigableMap<Long, Path> segments = new TreeMap<>();
    for (long v : dir.segmentVersions()) {
      segments.put(v, dir.segment(v));
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
          segments.firstEntry().getValue(),
          0,
          "the log starts at version "
              + segments.firstKey()
              + " but the state recovered so far ends at version "
              + base.version);
    }
    if (from != null) {
      NavigableMap<Long, Path> tail = segments.tailMap(from, true);
      Long[] firsts = tail.keySet().toArray(new Long[0]);
      Path[] files = tail.values().toArray(new Path[0]);
      for (int i = 0; i < firsts.length; i++) {
        long first = firsts[i];
        Path file = files[i];
        if (first > t.version() + 1) {
          throw new CorruptLogException(
              file,
              0,
              "versions " + (t.version() + 1) + " to " + (first - 1) + " are missing from the log");
        }
        long nextFirst = i + 1 < firsts.length ? firsts[i + 1] : -1;
        Replay r = new Replay(file, first, nextFirst, t, options.recoverPastCorruption(), report);
        r.run();
        records += r.records;
        watermark = Math.max(watermark, r.watermark);
        if (r.cutAt >= 0) {
          // Segments after a cut hold nothing recoverable: drop them, and say what they held.
          // Newest first, and for good before the cut is made (see the class comment).
          for (int j = firsts.length - 1; j > i; j--) {
            Path later = files[j];
            segments.remove(firsts[j]);
            r.dropBytes += Files.size(later);
            r.dropTo = Math.max(r.dropTo, LogSegment.lastVersionIn(later));
            Files.deleteIfExists(later);
            step(crash, Step.LATER_SEGMENT_DELETED);
          }
          if (i + 1 < firsts.length) {
            dir.force();
            step(crash, Step.DIRECTORY_FORCED);
          }
          if (r.cutAt <= DurableLog.HEADER_BYTES && r.keptNothing) {
            Files.deleteIfExists(segments.remove(first)); // a segment with no record left
            step(crash, Step.EMPTIED_SEGMENT_DELETED);
          } else {
            r.truncate();
            step(crash, Step.CUT_FORCED);
          }
          report.add(r.cutReport());
          break;
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
    report.add("replayed " + records + " records to version " + s.version());
    return new Recovery(s, segments, checkpointVersion, String.join("; ", report));
  }

  /** Replaying one segment into the transient: what it found, and where it cut. */
  private static final class Replay {
    final Path file;
    final long first;

    /** The first version of the next segment; -1 for the last segment. */
    final long nextFirst;

    final Transient t;
    final boolean pastCorruption;
    final List<String> report;
    long records;
    long watermark;
    long cutAt = -1;
    @Nullable String problem;

    /** Whether the cut left no record in the file. */
    boolean keptNothing;

    /** The versions dropped by the cut: from {@code t.version() + 1} to this, -1 if none known. */
    long dropTo = -1;

    long dropFrom;
    long dropBytes;

    /** Whether the dropped bytes were zeros only. */
    boolean droppedZeros;

    Replay(
        Path file,
        long first,
        long nextFirst,
        Transient t,
        boolean pastCorruption,
        List<String> report) {
      this.file = file;
      this.first = first;
      this.nextFirst = nextFirst;
      this.t = t;
      this.pastCorruption = pastCorruption;
      this.report = report;
    }

    boolean last() {
      return nextFirst < 0;
    }

    void run() throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long size = ch.size();
        int format;
        try {
          format = LogSegment.format(ch, file, size);
        } catch (CorruptLogException e) {
          damagedHeader(ch, size, e);
          return;
        }
        LogSegment seg = new LogSegment(file, ch, size, format);
        long pos = seg.headerBytes();
        long prevEnd = first - 1;
        while (pos < size) {
          LogSegment.Frame f = seg.frame(pos);
          if (seg.checked && f.headerOk && f.end(seg.rh) <= size && f.last() <= t.version()) {
            prevEnd = f.last(); // held by the checkpoint: not read, not needed
            pos = f.end(seg.rh);
            continue;
          }
          ByteBuffer p = seg.payload(f);
          if (p != null) {
            prevEnd = apply(p, seg.format, f, pos);
            pos = f.end(seg.rh);
            continue;
          }
          long resume = damage(seg, f, prevEnd);
          if (resume < 0) {
            return;
          }
          prevEnd = Math.max(prevEnd, skippedTo);
          pos = resume;
        }
      }
    }

    /** The last version of the damaged stretch just skipped. */
    private long skippedTo;

    /**
     * Deals with the damaged frame {@code f}: a torn tail is cut; damage in versions nobody needs
     * is skipped; other damage is refused, or cut with {@code recover-past-corruption}.
     *
     * @return the offset to go on reading at, or -1 if the segment was cut
     */
    private long damage(LogSegment seg, LogSegment.Frame f, long prevEnd) throws IOException {
      long size = seg.size;
      String what;
      if (f.cutShort) {
        what = "record header cut short";
      } else if (!f.headerOk) {
        what =
            seg.checked
                ? "record header damaged (its checksum does not hold, or its length "
                    + f.length
                    + " is impossible)"
                : "impossible record length " + f.length;
      } else if (f.end(seg.rh) > size) {
        what = "record of " + f.length + " bytes runs past the end of the file";
      } else {
        what = "record checksum mismatch";
      }
      if (last() && seg.torn(f)) {
        boolean zeros = seg.lastNonZero(f.pos) < f.pos;
        cut(seg, f.pos, zeros ? "zero tail" : "torn last record (" + what + ")", f, prevEnd);
        return -1;
      }
      // Where the damage ends and which versions it held.
      long next;
      long lower = prevEnd + 1;
      long upper;
      if (seg.checked && f.headerOk && f.end(seg.rh) <= size) {
        next = f.end(seg.rh);
        lower = f.first;
        upper = f.last();
      } else {
        LogSegment.Frame whole = seg.nextWhole(f.pos + 1, prevEnd);
        if (whole != null) {
          next = whole.pos;
          upper = whole.first - 1;
        } else {
          next = size;
          upper = last() ? -1 : nextFirst - 1;
        }
        long[] intact = seg.checked && !f.cutShort ? seg.intactPayload(f, next) : null;
        if (intact != null) { // only the header is damaged: its payload says which versions
          next = intact[0];
          lower = intact[1];
          upper = intact[2];
        }
      }
      String versions =
          upper < 0
              ? "the versions from " + lower + " on, how many cannot be read"
              : upper < lower ? "no version" : range(lower, upper);
      if (upper >= 0 && upper <= t.version()) {
        report.add(
            "skipped damaged bytes "
                + f.pos
                + " to "
                + next
                + " of "
                + file.getFileName()
                + " ("
                + what
                + "), "
                + versions
                + ", which the checkpoint already holds");
        skippedTo = upper;
        return next;
      }
      if (!pastCorruption) {
        throw new CorruptLogException(
            file,
            f.pos,
            what
                + ", with more of the log after it (not a torn write); it holds "
                + versions
                + (upper < 0
                    ? ", so the checkpoint cannot be shown to hold them"
                    : ", which no checkpoint holds")
                + "; open with recover-past-corruption to keep the versions before it and drop"
                + " the rest");
      }
      cut(seg, f.pos, what, f, prevEnd);
      return -1;
    }

    private void cut(LogSegment seg, long pos, String why, LogSegment.Frame f, long prevEnd)
        throws IOException {
      dropFrom = t.version() + 1;
      dropBytes = seg.size - pos;
      droppedZeros = seg.lastNonZero(pos) < pos;
      long known = seg.checked && f.headerOk ? f.last() : -1;
      dropTo = Math.max(known, seg.lastVersionFrom(pos, prevEnd));
      cutAt = pos;
      problem = why;
      keptNothing = prevEnd < first;
    }

    /** A segment whose header is damaged or cut short. */
    private void damagedHeader(FileChannel ch, long size, CorruptLogException e)
        throws IOException {
      LogSegment raw = new LogSegment(file, ch, size, DurableLog.FORMAT);
      boolean torn =
          last()
              && raw.lastNonZero(Math.min(size, FileHeader.CHECKED_BYTES))
                  < FileHeader.CHECKED_BYTES;
      if (torn) { // a crash while the segment was started: nothing was logged in it
        cutAt = 0;
        problem = "segment header never finished";
        dropFrom = t.version() + 1;
        dropBytes = size;
        droppedZeros = raw.lastNonZero(0) < 0;
        keptNothing = true;
        return;
      }
      long upper = last() ? -1 : nextFirst - 1;
      if (upper >= 0 && upper <= t.version()) {
        report.add(
            "skipped "
                + file.getFileName()
                + ", whose header is damaged ("
                + e.getMessage()
                + "): "
                + range(first, upper)
                + ", which the checkpoint already holds");
        return;
      }
      if (!pastCorruption) {
        throw e;
      }
      cutAt = 0;
      problem = "segment header damaged";
      dropFrom = t.version() + 1;
      dropBytes = size;
      keptNothing = true;
      LogSegment seg = new LogSegment(file, ch, size, DurableLog.FORMAT);
      dropTo = seg.lastVersionFrom(FileHeader.CHECKED_BYTES, t.version());
    }

    /** Makes the cut found by {@link #run}: the file ends where the damage began, forced. */
    void truncate() throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        ch.truncate(cutAt);
        ch.force(true);
      }
    }

    /** The report's account of the cut. */
    String cutReport() {
      String versions;
      if (dropTo >= dropFrom) {
        versions = range(dropFrom, dropTo);
      } else if (droppedZeros) {
        versions = "no version";
      } else if (dropTo >= 0) {
        versions = "no version the checkpoint does not hold (they end at " + dropTo + ")";
      } else {
        versions =
            "the versions from "
                + dropFrom
                + " on that these bytes hold (no whole header among them says how many)";
      }
      return "cut "
          + file.getFileName()
          + " at byte "
          + cutAt
          + " ("
          + problem
          + "): dropped "
          + versions
          + ", "
          + dropBytes
          + (droppedZeros ? " zero" : "")
          + " bytes";
    }

    /**
     * Applies the versions of the record above the transient's.
     *
     * @return the record's last version
     */
    private long apply(ByteBuffer p, int format, LogSegment.Frame f, long pos) throws IOException {
      if (f.first >= 0
          && CommitRecordCodec.payloadPlausible(p)
          && (CommitRecordCodec.payloadFirst(p) != f.first
              || CommitRecordCodec.payloadLast(p) != f.last())) {
        throw new CorruptLogException(
            file,
            pos,
            "record header says versions "
                + range(f.first, f.last())
                + ", its payload "
                + range(CommitRecordCodec.payloadFirst(p), CommitRecordCodec.payloadLast(p)));
      }
      int header =
          format == 1 ? CommitRecordCodec.LEGACY_HEADER_BYTES : CommitRecordCodec.HEADER_BYTES;
      long payloadAt = pos + header;
      long[] last = {-1};
      boolean[] applied = {false};
      long recordWatermark;
      try {
        recordWatermark =
            CommitRecordCodec.decodePayload(
                p,
                payloadAt,
                format == 1,
                (v, time, keys, values) -> {
                  last[0] = v;
                  if (v <= t.version()) {
                    return; // already in the checkpoint
                  }
                  if (v != t.version() + 1) {
                    throw new CorruptLogException(
                        file, pos, "record of version " + v + " follows version " + t.version());
                  }
                  t.applyChanges(keys, values, time);
                  applied[0] = true;
                });
      } catch (CorruptRecordException e) {
        throw new CorruptLogException(file, e.offset(), e.problem());
      }
      watermark = Math.max(watermark, recordWatermark);
      if (applied[0]) {
        records++; // records wholly within the checkpoint are read but not counted as replayed
        if (recordWatermark <= t.version()) {
          // Prune as the store did, so that replaying a long log holds its retained history only,
          // not every version it ever logged (a no-op unless the watermark moved).
          t.prune(recordWatermark);
        }
      }
      return last[0];
    }
  }

  private static void step(@Nullable Crash crash, Step step) {
    if (crash != null) {
      crash.at(step);
    }
  }

  private static String range(long from, long to) {
    return from == to ? "version " + from : "versions " + from + " to " + to;
  }
}
