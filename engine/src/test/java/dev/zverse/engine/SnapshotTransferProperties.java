package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * A snapshot exported in chunks ({@link SnapshotExport}) and imported ({@link SnapshotImport}) is
 * the same store at every version it retains, whatever the chunk size; the export holds no more
 * than a key and a few fields between chunks, however large the store and its values; and every
 * kind of damage to the chunks is refused naming the byte offset.
 */
class SnapshotTransferProperties {
  private static final int SCALE = Integer.getInteger("zverse.test.scale", 1);
  private static final int KEYS = 16;

  /** One operation: 0 put, 1 delete, 2 range delete of [key, key2]. */
  record Op(int kind, int key, int key2, int valueBytes) {}

  /** A batch, or (when {@code pruneAt >= 0}) a prune to a fraction of the latest version. */
  record Step(List<Op> ops, double pruneAt) {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<Integer> valueBytes =
        Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.integers().between(0, 40)),
            Tuple.of(1, Arbitraries.integers().between(1000, 5000)));
    Arbitrary<Op> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, KEYS - 1),
                Arbitraries.integers().between(0, KEYS - 1),
                valueBytes)
            .as(Op::new);
    Arbitrary<Step> batch = op.list().ofMinSize(0).ofMaxSize(6).map(ops -> new Step(ops, -1));
    Arbitrary<Step> prune = Arbitraries.doubles().between(0, 1).map(f -> new Step(List.of(), f));
    return Arbitraries.frequencyOf(Tuple.of(8, batch), Tuple.of(1, prune))
        .list()
        .ofMinSize(0)
        .ofMaxSize(40 * SCALE);
  }

  @Provide
  Arbitrary<Integer> chunkSizes() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.integers().between(1, 64)),
        Tuple.of(3, Arbitraries.integers().between(65, 4096)),
        Tuple.of(1, Arbitraries.integers().between(4097, 1 << 20)));
  }

  @Property(tries = 300)
  void anImportedSnapshotEqualsTheExportedOneAtEveryRetainedVersion(
      @ForAll("scripts") List<Step> script, @ForAll("chunkSizes") int chunkBytes) throws Exception {
    Snapshot source = build(script);
    List<byte[]> chunks = export(source, chunkBytes);
    SnapshotImport in = SnapshotImport.create(Limits.defaults(), ZIndexOptions.defaults());
    for (byte[] c : chunks) {
      assertFalse(in.isComplete());
      in.accept(c);
    }
    assertTrue(in.isComplete());
    assertSame(source, in.finish());
  }

  @Property(tries = 100)
  void theExportHoldsAKeyAndAFewFieldsWhateverTheChunkAndValueSizes(
      @ForAll("scripts") List<Step> script,
      @ForAll("chunkSizes") int chunkBytes,
      @ForAll @IntRange(min = 0, max = 3_000_000) int bigValueBytes) {
    Snapshot source = build(script);
    byte[] big = new byte[bigValueBytes];
    new Random(bigValueBytes).nextBytes(big);
    source =
        source.apply(
            WriteBatch.builder().put(key(3).getBytes(StandardCharsets.UTF_8), big).build());
    SnapshotExport export = SnapshotExport.of(source, chunkBytes);
    // The scratch buffer starts at 2 KiB (a piece of commit times) and grows only for a key longer
    // than that: nothing in the export grows with the store, its values or the chunk size.
    int bound = 2048 + SnapshotExport.FRAME_BYTES;
    long payload = 0;
    while (export.hasNext()) {
      byte[] c = export.next();
      assertTrue(c.length <= SnapshotExport.FRAME_BYTES + chunkBytes, c.length + " bytes");
      payload += c.length - SnapshotExport.FRAME_BYTES;
      assertTrue(export.heldBytes() <= bound, export.heldBytes() + " bytes held");
    }
    assertEquals(payload, export.position());
    assertTrue(payload > bigValueBytes, "the big value went out");
  }

  @Property(tries = 200)
  void aDamagedChunkIsRefusedNamingItsOffset(
      @ForAll("scripts") List<Step> script,
      @ForAll("chunkSizes") int chunkBytes,
      @ForAll long seed) {
    List<byte[]> chunks = export(build(script), chunkBytes);
    Random random = new Random(seed);
    int which = random.nextInt(chunks.size());
    byte[] bad = chunks.get(which).clone();
    bad[random.nextInt(bad.length)] ^= (byte) (1 + random.nextInt(255));
    long expected = offsetOf(chunks.get(which));
    CorruptSnapshotException e = refusal(chunks.subList(0, which), List.of(bad));
    assertEquals(expected, e.offset(), e.getMessage());
    assertTrue(e.getMessage().contains("at byte " + expected), e.getMessage());
  }

  @Property(tries = 200)
  void aLostRepeatedOrSwappedChunkIsRefusedAsOutOfOrder(
      @ForAll("scripts") List<Step> script,
      @ForAll @IntRange(min = 1, max = 64) int chunkBytes,
      @ForAll @IntRange(min = 0, max = 2) int fault,
      @ForAll long seed) {
    List<byte[]> chunks = export(build(script), chunkBytes);
    // A snapshot is at least its header, preamble, key count and tail: two chunks or more here.
    int at = new Random(seed).nextInt(chunks.size() - 1);
    List<byte[]> faulty = new ArrayList<>(chunks.subList(0, at));
    switch (fault) {
      case 0 -> faulty.add(chunks.get(at + 1));
      case 1 -> faulty.addAll(List.of(chunks.get(at), chunks.get(at)));
      default -> faulty.addAll(List.of(chunks.get(at + 1), chunks.get(at)));
    }
    long expected = offsetOf(chunks.get(fault == 1 ? at + 1 : at));
    CorruptSnapshotException e = refusal(faulty, List.of());
    assertEquals(expected, e.offset(), e.getMessage());
    assertTrue(e.getMessage().contains("out of order"), e.getMessage());
  }

  @Property(tries = 100)
  void aStreamCutShortIsRefusedAtTheFirstMissingByte(
      @ForAll("scripts") List<Step> script, @ForAll("chunkSizes") int chunkBytes, @ForAll long seed)
      throws Exception {
    List<byte[]> chunks = export(build(script), chunkBytes);
    int kept = new Random(seed).nextInt(chunks.size());
    SnapshotImport in = SnapshotImport.create(Limits.defaults(), ZIndexOptions.defaults());
    for (byte[] c : chunks.subList(0, kept)) {
      in.accept(c);
    }
    CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, in::finish);
    assertEquals(offsetOf(chunks.get(kept)), e.offset(), e.getMessage());
    assertTrue(e.getMessage().contains("ends early"), e.getMessage());
  }

  @Property(tries = 200)
  void damageReframedWithValidChunkChecksumsIsStillRefused(
      @ForAll("scripts") List<Step> script, @ForAll long seed) {
    Snapshot source = build(script);
    byte[] payload = payload(export(source, 1 << 20));
    Random random = new Random(seed);
    int at = random.nextInt(payload.length);
    payload[at] ^= (byte) (1 + random.nextInt(255));
    // An adversary's chunks: every frame holds, so only the body's own checks can see the damage.
    CorruptSnapshotException e = refusal(frame(payload, 1 + random.nextInt(300)), List.of());
    assertTrue(e.offset() >= 0 && e.offset() <= payload.length, e.getMessage());
  }

  @Example
  void keysOverTheReceivingStoresLimitAreRefusedNamingIt() {
    Snapshot source = Snapshot.empty().apply(WriteBatch.ofPut("a-key-of-20-bytes...", "v"));
    SnapshotImport in =
        SnapshotImport.create(Limits.defaults().withMaxKeyBytes(8), ZIndexOptions.defaults());
    CorruptSnapshotException e =
        assertThrows(
            CorruptSnapshotException.class,
            () -> {
              for (byte[] c : export(source, 64)) {
                in.accept(c);
              }
            });
    assertTrue(e.getMessage().contains("key length 20 is not in [0, 8]"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> in.accept(new byte[16]));
  }

  @Example
  void badArgumentsAreRefusedNamingTheLimit() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SnapshotExport.of(Snapshot.empty(), 0));
    assertTrue(e.getMessage().contains("chunkBytes must be in [1, 67108864], was 0"));
    assertThrows(NullPointerException.class, () -> SnapshotExport.of(null, 1));
  }

  // ------------------------------------------------------------------ helpers

  private static CorruptSnapshotException refusal(List<byte[]> good, List<byte[]> then) {
    SnapshotImport in = SnapshotImport.create(Limits.defaults(), ZIndexOptions.defaults());
    return assertThrows(
        CorruptSnapshotException.class,
        () -> {
          for (byte[] c : good) {
            in.accept(c);
          }
          for (byte[] c : then) {
            in.accept(c);
          }
          in.finish();
        });
  }

  static List<byte[]> export(Snapshot s, int chunkBytes) {
    List<byte[]> chunks = new ArrayList<>();
    SnapshotExport export = SnapshotExport.of(s, chunkBytes);
    export.forEachRemaining(chunks::add);
    return chunks;
  }

  private static long offsetOf(byte[] chunk) {
    return ByteBuffer.wrap(chunk).getLong(0);
  }

  private static byte[] payload(List<byte[]> chunks) {
    ByteBuffer all = ByteBuffer.allocate(chunks.stream().mapToInt(c -> c.length).sum());
    for (byte[] c : chunks) {
      all.put(c, SnapshotExport.FRAME_BYTES, c.length - SnapshotExport.FRAME_BYTES);
    }
    byte[] out = new byte[all.position()];
    all.flip().get(out);
    return out;
  }

  /** {@code payload} cut into chunks of {@code size} bytes with frames that hold. */
  private static List<byte[]> frame(byte[] payload, int size) {
    List<byte[]> chunks = new ArrayList<>();
    for (int at = 0; at < payload.length; at += size) {
      int n = Math.min(size, payload.length - at);
      ByteBuffer c = ByteBuffer.allocate(SnapshotExport.FRAME_BYTES + n);
      c.putLong(at).putInt(n).putInt(0).put(payload, at, n);
      CRC32C crc = new CRC32C();
      crc.update(c.array(), 0, 12);
      crc.update(c.array(), SnapshotExport.FRAME_BYTES, n);
      c.putInt(12, (int) crc.getValue());
      chunks.add(c.array());
    }
    return chunks;
  }

  private static String key(int i) {
    return "k" + (char) ('a' + i) + (i % 3 == 0 ? "/x" : "");
  }

  static Snapshot build(List<Step> script) {
    Snapshot s = Snapshot.empty();
    int unique = 0;
    for (Step step : script) {
      if (step.pruneAt() >= 0) {
        s = s.prune(Math.max(s.watermark(), (long) (step.pruneAt() * s.version())));
        continue;
      }
      WriteBatch.Builder b = WriteBatch.builder();
      for (Op o : step.ops()) {
        String k = key(o.key());
        switch (o.kind()) {
          case 0 -> {
            byte[] v = new byte[o.valueBytes()];
            new Random(unique).nextBytes(v);
            if (v.length > 0) {
              v[0] = (byte) unique;
            }
            unique++;
            b.put(k.getBytes(StandardCharsets.UTF_8), v);
          }
          case 1 -> b.delete(k);
          default -> {
            String a = key(Math.min(o.key(), o.key2()));
            String z = key(Math.max(o.key(), o.key2()));
            b.deleteRange(KeyRange.closed(a, z));
          }
        }
      }
      s = s.apply(b.build());
    }
    return s;
  }

  /** Every read at every retained version gives the same answer on both snapshots. */
  static void assertSame(Snapshot expected, Snapshot actual) {
    assertEquals(expected.version(), actual.version(), "version");
    assertEquals(expected.watermark(), actual.watermark(), "watermark");
    assertEquals(expected.size(), actual.size(), "size");
    assertEquals(expected.limits(), actual.limits(), "limits");
    long w = expected.watermark();
    long v = expected.version();
    TreeSet<String> keys = new TreeSet<>();
    for (long at = w; at <= v; at++) {
      assertEquals(
          expected.scan(KeyRange.all(), at), actual.scan(KeyRange.all(), at), "scan @" + at);
      assertEquals(
          expected.scan(KeyRange.all(), at, Direction.REVERSE, 5),
          actual.scan(KeyRange.all(), at, Direction.REVERSE, 5),
          "reverse scan @" + at);
      expected.scan(KeyRange.all(), at).forEach(e -> keys.add(e.keyUtf8()));
      if (at >= 1) {
        assertEquals(expected.commitTime(at), actual.commitTime(at), "commit time @" + at);
        assertEquals(
            expected.versionAt(expected.commitTime(at)),
            actual.versionAt(expected.commitTime(at)),
            "versionAt @" + at);
        assertEquals(expected.commit(at), actual.commit(at), "commit @" + at);
      }
    }
    for (int i = 0; i < KEYS; i++) {
      keys.add(key(i));
    }
    for (String k : keys) {
      byte[] kb = k.getBytes(StandardCharsets.UTF_8);
      assertEquals(expected.history(kb), actual.history(kb), "history of " + k);
      for (long at = w; at <= v; at++) {
        assertArrayEquals(expected.get(kb, at), actual.get(kb, at), k + " @" + at);
        assertEquals(expected.entry(kb, at), actual.entry(kb, at), k + " entry @" + at);
      }
    }
    for (QueryPath path : QueryPath.values()) {
      assertEquals(
          expected.changes(KeyRange.all(), w, v, path),
          actual.changes(KeyRange.all(), w, v, path),
          "changes " + path);
      assertEquals(
          expected.changes(KeyRange.prefix("kd"), w, v, path),
          actual.changes(KeyRange.prefix("kd"), w, v, path),
          "changes under kd " + path);
    }
    assertEquals(expected.versionAt(Instant.MAX), actual.versionAt(Instant.MAX), "versionAt max");
    if (w == 0) {
      assertEquals(expected.versionAt(Instant.MIN), actual.versionAt(Instant.MIN));
    }
  }
}
