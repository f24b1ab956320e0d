package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The log record codec against a reference: an encoder written from the documented layout alone
 * ({@link #reference}), random groups of commits, and every single damaged byte and every cut of
 * their records. The log on disk is checked to be these records, back to back after the segment
 * header, holding the commits the store made.
 */
class CommitRecordCodecProperties {
  /** A change: a key, and a value or {@code null} for a delete. */
  record Op(byte[] key, byte[] value) {}

  /** A commit before it has a version: its time and changes. */
  record Draft(long timeMicros, List<Op> ops) {}

  @Provide
  Arbitrary<CommitRecordCodec.Group> groups() {
    Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(12);
    Arbitrary<Op> op = Combinators.combine(bytes, bytes.injectNull(0.3)).as(Op::new);
    Arbitrary<Draft> draft =
        Combinators.combine(Arbitraries.longs(), op.list().ofMaxSize(5)).as(Draft::new);
    return Combinators.combine(
            Arbitraries.longs().between(1, Long.MAX_VALUE / 2),
            Arbitraries.longs().between(0, Long.MAX_VALUE),
            draft.list().ofMinSize(1).ofMaxSize(5))
        .as(
            (first, watermark, drafts) -> {
              List<CommitRecord> commits = new ArrayList<>();
              for (int i = 0; i < drafts.size(); i++) {
                long v = first + i;
                Change[] changes =
                    drafts.get(i).ops().stream()
                        .map(o -> new Change(o.key(), v, o.value()))
                        .toArray(Change[]::new);
                commits.add(CommitRecord.of(v, drafts.get(i).timeMicros(), changes));
              }
              return new CommitRecordCodec.Group(watermark, commits);
            });
  }

  @Property(tries = 500)
  void decodeReadsBackWhatEncodeWrote(@ForAll("groups") CommitRecordCodec.Group group)
      throws IOException {
    byte[] record = CommitRecordCodec.encode(group);
    assertEquals(group, CommitRecordCodec.decode(record));
    // The same record amid other bytes: read from its position, and the position moved past it.
    ByteBuffer amid = ByteBuffer.allocate(record.length + 7);
    amid.position(3);
    amid.put(record).put(new byte[] {9, 9, 9, 9});
    amid.position(3);
    assertEquals(group, CommitRecordCodec.decode(amid));
    assertEquals(3 + record.length, amid.position());
  }

  @Property(tries = 500)
  void encodeWritesTheDocumentedLayout(@ForAll("groups") CommitRecordCodec.Group group)
      throws IOException {
    assertArrayEquals(reference(group), CommitRecordCodec.encode(group));
  }

  @Property(tries = 500)
  void everySingleDamagedByteIsRefusedNamingItsChecksummedPart(
      @ForAll("groups") CommitRecordCodec.Group group,
      @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where,
      @ForAll @IntRange(min = 1, max = 255) int mask) {
    byte[] record = CommitRecordCodec.encode(group);
    int at = where % record.length;
    record[at] ^= (byte) mask;
    CorruptRecordException e =
        assertThrows(CorruptRecordException.class, () -> CommitRecordCodec.decode(record));
    // A checksum says which part is damaged, not which byte: the header, or the payload.
    long part = at < CommitRecordCodec.HEADER_BYTES ? 0 : CommitRecordCodec.HEADER_BYTES;
    assertEquals(part, e.offset(), e.getMessage());
    ByteBuffer buffer = ByteBuffer.wrap(record);
    assertThrows(CorruptRecordException.class, () -> CommitRecordCodec.decode(buffer));
    assertEquals(0, buffer.position(), "a refusal leaves the position where it was");
  }

  /**
   * The torn-tail rule of a standalone record: bytes that end inside it are refused as cut short at
   * the offset where they end (whether that is a torn write is recovery's question: {@link
   * Recovery}). Bytes after a whole record are refused where they start.
   */
  @Property(tries = 500)
  void everyCutIsRefusedWhereTheBytesEnd(
      @ForAll("groups") CommitRecordCodec.Group group,
      @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where) {
    byte[] record = CommitRecordCodec.encode(group);
    int length = where % record.length;
    CorruptRecordException e =
        assertThrows(
            CorruptRecordException.class,
            () -> CommitRecordCodec.decode(Arrays.copyOf(record, length)));
    assertEquals(length, e.offset(), e.getMessage());
    assertTrue(e.getMessage().contains("cut short"), e.getMessage());
    CorruptRecordException after =
        assertThrows(
            CorruptRecordException.class,
            () -> CommitRecordCodec.decode(Arrays.copyOf(record, record.length + 1 + length)));
    assertEquals(record.length, after.offset(), after.getMessage());
  }

  /**
   * What the durable log writes is exactly the codec's records: each record of a segment decodes,
   * is byte for byte what {@link CommitRecordCodec#encode} writes for what it holds, and together
   * they hold every commit the store made, with the watermark of the group.
   */
  @Property(tries = 30)
  void theLogOnDiskIsTheCodecsRecords(
      @ForAll @IntRange(min = 1, max = 4) int groupSize,
      @ForAll @IntRange(min = 1, max = 30) int versions,
      @ForAll @IntRange(min = 200, max = 2000) int recordLimit)
      throws IOException {
    Path dir = Files.createTempDirectory("zverse-codec-");
    try {
      Snapshot s;
      try (DurableLog log = RecoveryTest.open(dir, false)) {
        log.recordLimit = recordLimit; // small limits split a group into several records
        s = log.recovered();
        while (s.version() < versions) {
          Snapshot next = s;
          for (int i = 0; i < groupSize && next.version() < versions; i++) {
            next = next.apply(CrashWriter.batch(next.version() + 1));
          }
          log.append(s, next);
          s = next;
        }
      }
      List<CommitRecord> logged = new ArrayList<>();
      for (long first : DataDirectory.segmentVersions(dir)) {
        Path segment = dir.resolve(DataDirectory.segmentName(first));
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment));
        b.position(FileHeader.CHECKED_BYTES);
        while (b.hasRemaining()) {
          int start = b.position();
          CommitRecordCodec.Group g = CommitRecordCodec.decode(b);
          // Byte for byte what the public encoder, checked against the layout above, writes.
          byte[] onDisk = Arrays.copyOfRange(b.array(), start, b.position());
          assertArrayEquals(CommitRecordCodec.encode(g), onDisk);
          assertEquals(0, g.watermark());
          assertTrue(g.commits().size() <= groupSize);
          logged.addAll(g.commits());
        }
      }
      List<CommitRecord> made = new ArrayList<>();
      Iterator<CommitRecord> it = s.commits(0, s.version(), KeyRange.all(), false);
      it.forEachRemaining(made::add);
      assertEquals(made, logged);
    } finally {
      LogFiles.delete(dir);
    }
  }

  @Test
  void encodeRefusesWhatNoRecordHolds() {
    Change[] none = new Change[0];
    IllegalArgumentException empty =
        assertThrows(
            IllegalArgumentException.class,
            () -> CommitRecordCodec.encode(new CommitRecordCodec.Group(0, List.of())));
    assertTrue(empty.getMessage().contains("group.commits"), empty.getMessage());
    IllegalArgumentException gap =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CommitRecordCodec.encode(
                    new CommitRecordCodec.Group(
                        0, List.of(CommitRecord.of(4, 0, none), CommitRecord.of(6, 0, none)))));
    assertTrue(gap.getMessage().contains("commits[1] has version 6, must be 5"), gap.getMessage());
    IllegalArgumentException zero =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CommitRecordCodec.encode(
                    new CommitRecordCodec.Group(0, List.of(CommitRecord.of(0, 0, none)))));
    assertTrue(zero.getMessage().contains("at least 1, was 0"), zero.getMessage());
    IllegalArgumentException watermark =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CommitRecordCodec.encode(
                    new CommitRecordCodec.Group(-1, List.of(CommitRecord.of(1, 0, none)))));
    assertTrue(watermark.getMessage().contains("group.watermark"), watermark.getMessage());
    Snapshot s = Snapshot.empty().apply(WriteBatch.builder().put("k", "v").build());
    CommitRecord withPrevious = s.commit(1, KeyRange.all(), true);
    IllegalArgumentException previous =
        assertThrows(
            IllegalArgumentException.class,
            () -> CommitRecordCodec.encode(new CommitRecordCodec.Group(0, List.of(withPrevious))));
    assertTrue(previous.getMessage().contains("previous values"), previous.getMessage());
  }

  /**
   * A record whose checksums hold but whose versions run past {@code Long.MAX_VALUE}, or whose
   * watermark is negative, is refused: {@code encode} could never have written it, and a decoder
   * fed from the network must not hand out versions that wrapped around.
   */
  @Test
  void recordsEncodeCouldNotWriteAreRefused() {
    CorruptRecordException wrapped =
        assertThrows(
            CorruptRecordException.class,
            () -> CommitRecordCodec.decode(raw(Long.MAX_VALUE, 2, 0)));
    assertEquals(0, wrapped.offset(), "refused by its header");
    assertTrue(wrapped.getMessage().contains("versions"), wrapped.getMessage());
    CorruptRecordException negative =
        assertThrows(CorruptRecordException.class, () -> CommitRecordCodec.decode(raw(5, 1, -7)));
    assertEquals(CommitRecordCodec.HEADER_BYTES + 13, negative.offset());
  }

  /** A record of {@code count} empty commits from {@code first}, checksums right, as laid out. */
  private static byte[] raw(long first, int count, long watermark) {
    ByteBuffer body = ByteBuffer.allocate(1 + 8 + 4 + 8 + count * 12);
    body.put((byte) 1).putLong(first).putInt(count).putLong(watermark);
    for (int i = 0; i < count; i++) {
      body.putLong(1_000_000L + i).putInt(0);
    }
    ByteBuffer header = ByteBuffer.allocate(CommitRecordCodec.HEADER_BYTES);
    header.putInt(body.capacity()).putLong(first).putInt(count);
    header.putInt(crc(body.array(), 0, body.capacity()));
    header.putInt(crc(header.array(), 0, 20));
    return ByteBuffer.allocate(header.capacity() + body.capacity())
        .put(header.array())
        .put(body.array())
        .array();
  }

  /** The record of {@code g} as the class comment of {@link CommitRecordCodec} lays it out. */
  private static byte[] reference(CommitRecordCodec.Group g) throws IOException {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    DataOutputStream p = new DataOutputStream(payload);
    List<CommitRecord> commits = g.commits();
    p.writeByte(1);
    p.writeLong(g.firstVersion());
    p.writeInt(commits.size());
    p.writeLong(g.watermark());
    for (CommitRecord c : commits) {
      p.writeLong(c.commitTime().getEpochSecond() * 1_000_000L + c.commitTime().getNano() / 1000);
      p.writeInt(c.size());
      for (Change ch : c.changes()) {
        p.writeInt(ch.key().length);
        p.write(ch.key());
        if (ch.isDelete()) {
          p.writeInt(-1);
        } else {
          p.writeInt(ch.value().length);
          p.write(ch.value());
        }
      }
    }
    byte[] body = payload.toByteArray();
    ByteBuffer header = ByteBuffer.allocate(CommitRecordCodec.HEADER_BYTES);
    header.putInt(body.length).putLong(g.firstVersion()).putInt(commits.size());
    header.putInt(crc(body, 0, body.length));
    header.putInt(crc(header.array(), 0, 20));
    ByteBuffer out = ByteBuffer.allocate(header.capacity() + body.length);
    return out.put(header.array()).put(body).array();
  }

  private static int crc(byte[] b, int from, int length) {
    CRC32C crc = new CRC32C();
    crc.update(b, from, length);
    return (int) crc.getValue();
  }
}
