package dev.zverse.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SnapshotTest {
  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static List<String> keys(List<Entry> entries) {
    List<String> out = new ArrayList<>();
    for (Entry e : entries) {
      out.add(e.keyUtf8());
    }
    return out;
  }

  // ------------------------------------------------------------ the origin's behaviours

  @Test
  void putGetUpdateAndReadTheOldVersion() {
    Snapshot s0 = Snapshot.empty();
    Snapshot s1 = s0.apply(WriteBatch.ofPut("key1", "value1"));
    Snapshot s2 = s1.apply(WriteBatch.ofPut("key2", "value2"));
    Snapshot s3 = s2.apply(WriteBatch.ofPut("key1", "value1b"));
    assertEquals(1, s1.version());
    assertEquals(2, s2.version());
    assertEquals(3, s3.version());
    assertEquals("value1b", s3.get("key1"));
    assertEquals("value1", s3.get("key1", 1));
    assertEquals("value1", s3.get("key1", 2));
    assertNull(s3.get("key2", 1));
    assertEquals("value2", s3.get("key2"));
  }

  private static Instant ms(long millis, long micros) {
    return Instant.ofEpochMilli(millis).plusNanos(micros * 1_000);
  }

  @Test
  void versionAtFindsTheNewestCommitAtOrBeforeATime() {
    Transient t = Snapshot.empty().asTransient();
    t.apply(WriteBatch.ofPut("a", "1"), ms(1_000, 0)); // committed at 1,000 ms + 1 us
    t.apply(WriteBatch.ofPut("a", "2"), ms(2_000, 0));
    t.apply(WriteBatch.ofPut("a", "3"), ms(1_500, 0)); // the clock went back: 2,000 ms + 2 us
    t.apply(WriteBatch.ofPut("a", "4"), ms(3_000, 0));
    Snapshot s = t.persistent();
    assertEquals(0, s.versionAt(ms(1_000, 0)), "the clock's reading itself is before the commit");
    assertEquals(1, s.versionAt(ms(1_000, 1)));
    assertEquals(1, s.versionAt(ms(2_000, 0)));
    assertEquals(2, s.versionAt(ms(2_000, 1)));
    assertEquals(3, s.versionAt(ms(2_000, 2)));
    assertEquals(4, s.versionAt(Instant.ofEpochMilli(10_000)));
    assertEquals(ms(1_000, 1), s.commitTime(1));
    assertEquals(ms(2_000, 2), s.commitTime(3));
    assertThrows(IllegalArgumentException.class, () -> s.commitTime(0));
    assertThrows(IllegalArgumentException.class, () -> s.commitTime(5));

    Snapshot pruned = s.prune(3);
    assertEquals(3, pruned.versionAt(ms(2_000, 2)));
    VersionCompactedException e =
        assertThrows(VersionCompactedException.class, () -> pruned.versionAt(ms(2_000, 1)));
    assertEquals(3, e.watermark());
    assertThrows(VersionCompactedException.class, () -> pruned.commitTime(2));
  }

  @Test
  void commitTimesKeepMicrosecondsAndTiesStillIncrease() {
    Transient t = Snapshot.empty().asTransient();
    Instant reading = Instant.parse("2026-01-01T00:00:00.123456789Z");
    t.apply(WriteBatch.ofPut("a", "1"), reading);
    t.apply(WriteBatch.ofPut("a", "2"), reading);
    t.apply(WriteBatch.ofPut("a", "3"), reading.plusNanos(500));
    Snapshot s = t.persistent();
    assertEquals(Instant.parse("2026-01-01T00:00:00.123457Z"), s.commitTime(1));
    assertEquals(Instant.parse("2026-01-01T00:00:00.123458Z"), s.commitTime(2));
    assertEquals(Instant.parse("2026-01-01T00:00:00.123459Z"), s.commitTime(3));
    assertEquals(0, s.versionAt(reading));
    assertEquals(1, s.versionAt(reading.plusNanos(500)), "read after commit 1's time");
    assertEquals(1, s.versionAt(Instant.parse("2026-01-01T00:00:00.1234579Z")));
  }

  @Test
  void versionAtTakesEveryInstant() {
    Snapshot empty = Snapshot.empty();
    assertEquals(0, empty.versionAt(Instant.MIN));
    assertEquals(0, empty.versionAt(Instant.MAX));
    Transient t = empty.asTransient();
    t.apply(WriteBatch.ofPut("a", "1"), Instant.MIN);
    t.apply(WriteBatch.ofPut("a", "2"), Instant.EPOCH);
    t.apply(WriteBatch.ofPut("a", "3"), Instant.MAX);
    t.apply(WriteBatch.ofPut("a", "4"), Instant.MAX);
    Snapshot s = t.persistent();
    assertEquals(0, s.versionAt(Instant.MIN));
    assertEquals(1, s.versionAt(s.commitTime(1)));
    assertEquals(2, s.versionAt(Instant.EPOCH.plusNanos(1_000)));
    assertEquals(4, s.versionAt(Instant.MAX));
    // Past the microsecond range (about 292,000 years) readings count as its end, where commit
    // times stop increasing.
    assertEquals(s.commitTime(3), s.commitTime(4));
    assertEquals(2, s.versionAt(s.commitTime(3).minusNanos(1_000)));
  }

  @Test
  void deleteHidesTheKeyButNotItsPast() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.ofPut("k", "v")).apply(WriteBatch.ofDelete("k"));
    assertNull(s.get("k"));
    assertEquals("v", s.get("k", 1));
    assertFalse(s.containsKey(b("k")));
    assertEquals(0, s.size());
  }

  @Test
  void scanReturnsLiveKeysInOrder() {
    WriteBatch batch =
        WriteBatch.builder().put("b", "2").put("a", "1").put("c", "3").put("d", "4").build();
    Snapshot s = Snapshot.empty().apply(batch).apply(WriteBatch.ofDelete("c"));
    assertEquals(List.of("a", "b", "d"), keys(s.scan(KeyRange.all())));
    assertEquals(List.of("a", "b", "c", "d"), keys(s.scan(KeyRange.all(), 1)));
    assertEquals(List.of("b"), keys(s.scan(KeyRange.closedOpen("b", "d"))));
    assertEquals(List.of("b", "d"), keys(s.scan(KeyRange.closed("b", "d"))));
    assertEquals(
        List.of("d", "b"), keys(s.scan(KeyRange.atLeast(b("b")), 2, Direction.REVERSE, 10)));
    assertEquals(List.of("a"), keys(s.scan(KeyRange.all(), 2, Direction.FORWARD, 1)));
  }

  @Test
  void historyListsEveryChangeOldestFirstWithTombstones() {
    Snapshot s = Snapshot.empty();
    s = s.apply(WriteBatch.ofPut("k", "a")); // 1
    s = s.apply(WriteBatch.ofPut("other", "x")); // 2
    s = s.apply(WriteBatch.ofPut("k", "b")); // 3
    s = s.apply(WriteBatch.ofDelete("k")); // 4
    s = s.apply(WriteBatch.ofPut("k", "c")); // 5
    List<Change> h = s.history(b("k"));
    assertEquals(List.of(1L, 3L, 4L, 5L), h.stream().map(Change::version).toList());
    assertTrue(h.get(2).isDelete());
    assertNull(h.get(2).value());
    assertEquals("c", h.get(3).valueUtf8());
    assertEquals(List.of(3L, 4L), s.history("k", 2, 4).stream().map(Change::version).toList());
  }

  @Test
  void entryTellsCreateAndModifyVersionAcrossDeleteAndRecreate() {
    Snapshot s = Snapshot.empty();
    s = s.apply(WriteBatch.ofPut("k", "a")); // 1: created
    s = s.apply(WriteBatch.ofPut("k", "b")); // 2
    s = s.apply(WriteBatch.ofDelete("k")); // 3
    s = s.apply(WriteBatch.ofPut("k", "c")); // 4: created again
    s = s.apply(WriteBatch.ofPut("k", "d")); // 5
    Entry now = s.entry("k");
    assertEquals(4, now.createVersion());
    assertEquals(5, now.modVersion());
    Entry then = s.entry(b("k"), 2);
    assertEquals(1, then.createVersion());
    assertEquals(2, then.modVersion());
    assertNull(s.entry(b("k"), 3));
    // Pruning to 5 keeps the creation of the incarnation it retains.
    Snapshot pruned = s.prune(5);
    assertEquals(4, pruned.entry("k").createVersion());
  }

  // ------------------------------------------------------------ versions and batches

  @Test
  void emptyStoreIsVersionZeroAndReadsNothing() {
    Snapshot s = Snapshot.empty();
    assertEquals(0, s.version());
    assertEquals(0, s.watermark());
    assertNull(s.get("k"));
    assertNull(s.get("k", 0));
    assertEquals(List.of(), s.scan(KeyRange.all()));
    assertEquals(List.of(), s.scan(KeyRange.all(), 0, Direction.REVERSE, 5));
    assertEquals(List.of(), s.history(b("k")));
    assertEquals(new Stats(0, 0, 0, 0, 0, 0, 0), s.stats());
  }

  @Test
  void everyBatchTakesOneVersionEvenWhenItChangesNothing() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.builder().build());
    assertEquals(1, s.version());
    s = s.apply(WriteBatch.ofDelete("absent"));
    assertEquals(2, s.version());
    assertEquals(List.of(), s.history(b("absent")));
    assertEquals(0, s.stats().keys());
  }

  @Test
  void aBatchIsOneVersionAndItsLastWriteToAKeyWins() {
    WriteBatch batch = WriteBatch.builder().put("k", "1").put("k", "2").put("j", "x").build();
    Snapshot s = Snapshot.empty().apply(batch);
    assertEquals(1, s.version());
    assertEquals("2", s.get("k"));
    assertEquals(1, s.history(b("k")).size());
  }

  @Test
  void putThenDeleteOfANewKeyInOneBatchLeavesNoTrace() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.builder().put("k", "1").delete("k").build());
    assertEquals(1, s.version());
    assertEquals(List.of(), s.history(b("k")));
    assertEquals(0, s.stats().keys());
    assertEquals(0, s.stats().storedVersions());
  }

  @Test
  void deleteRangeDeletesOnlyLiveKeysInTheRange() {
    Snapshot s =
        Snapshot.empty()
            .apply(
                WriteBatch.builder()
                    .put("a", "1")
                    .put("b", "2")
                    .put("c", "3")
                    .put("d", "4")
                    .build())
            .apply(WriteBatch.ofDelete("b"))
            .apply(
                WriteBatch.builder()
                    .deleteRange(KeyRange.closedOpen("b", "d"))
                    .put("e", "5")
                    .build());
    assertEquals(List.of("a", "d", "e"), keys(s.scan(KeyRange.all())));
    assertEquals(2, s.history(b("b")).size(), "b was already deleted: no second tombstone");
    assertTrue(s.history(b("c")).get(1).isDelete());
  }

  @Test
  void failedConditionsRejectTheWholeBatchAndListEveryFailure() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.ofPut("k", "v")); // version 1
    WriteBatch batch =
        WriteBatch.builder()
            .requireAbsent("k")
            .requireModVersion("k", 1)
            .requireModVersion("missing", 3)
            .requireValue("k", "other")
            .put("k", "new")
            .put("z", "z")
            .build();
    ConditionFailedException e = assertThrows(ConditionFailedException.class, () -> s.apply(batch));
    assertEquals(3, e.failures().size());
    assertEquals(Condition.absent("k"), e.failures().get(0).condition());
    assertEquals(Condition.modVersion("missing", 3), e.failures().get(1).condition());
    assertEquals("absent", e.failures().get(1).actual());
    assertEquals(Condition.valueEquals("k", "other"), e.failures().get(2).condition());
    assertTrue(e.getMessage().contains("3 condition(s) failed"), e.getMessage());
  }

  @Test
  void conditionsThatHoldLetTheBatchThrough() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.ofPut("k", "v"));
    Snapshot t =
        s.apply(
            WriteBatch.builder()
                .requireModVersion("k", 1)
                .requireValue("k", "v")
                .requireAbsent("j")
                .requireModVersion("j", 0)
                .put("k", "w")
                .build());
    assertEquals("w", t.get("k"));
  }

  @Test
  void conditionsSeeEarlierBatchesOfTheSameTransient() {
    Transient t = Snapshot.empty().asTransient();
    long v1 = t.apply(WriteBatch.ofPut("k", "v"));
    assertThrows(
        ConditionFailedException.class,
        () -> t.apply(WriteBatch.builder().requireAbsent("k").put("k", "x").build()));
    long v2 = t.apply(WriteBatch.builder().requireModVersion("k", v1).put("k", "y").build());
    Snapshot s = t.persistent();
    assertEquals(2, v2);
    assertEquals(2, s.version());
    assertEquals("v", s.get("k", 1));
    assertEquals("y", s.get("k"));
  }

  @Test
  void transientIsUnusableAfterPersistent() {
    Transient t = Snapshot.empty().asTransient();
    t.apply(WriteBatch.ofPut("k", "v"));
    t.persistent();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> t.apply(WriteBatch.ofPut("k", "w")));
    assertTrue(e.getMessage().contains("after persistent()"));
    assertThrows(IllegalStateException.class, t::persistent);
    assertThrows(IllegalStateException.class, () -> t.prune(0));
  }

  @Test
  void snapshotsAreUnchangedByLaterBatchesOfATransient() {
    Snapshot s1 = Snapshot.empty().apply(WriteBatch.builder().put("a", "1").put("b", "1").build());
    Transient t = s1.asTransient();
    for (int i = 0; i < 500; i++) {
      t.apply(WriteBatch.ofPut("k" + i, "v"));
      t.apply(WriteBatch.ofPut("a", "v" + i));
    }
    Snapshot s2 = t.persistent();
    assertEquals(List.of("a", "b"), keys(s1.scan(KeyRange.all())));
    assertEquals("1", s1.get("a"));
    assertEquals(1, s1.version());
    assertEquals(1001, s2.version());
    assertEquals(502, s2.size());
  }

  @Test
  void aCommitListsTheTreesOwnKeyArrayWhenABatchPutsDeletesAndPutsAgain() {
    Snapshot s =
        Snapshot.empty()
            .apply(
                WriteBatch.builder()
                    .put(b("k"), b("1"))
                    .delete(b("k"))
                    .put(b("k"), b("2"))
                    .build());
    TreeCursor c = new TreeCursor(s.root, s.height);
    c.seekFirst();
    Commit commit = s.commits.get(1);
    assertEquals(1, commit.keys.length);
    assertSame(c.key(), commit.keys[0], "no second copy of the key kept by the commit log");
    assertArrayEquals(b("2"), commit.values[0]);
  }

  // ------------------------------------------------------------ pruning

  @Test
  void pruneKeepsWhatReadsAtTheWatermarkNeedAndRefusesOlderReads() {
    Snapshot s = Snapshot.empty();
    s = s.apply(WriteBatch.ofPut("k", "1")); // 1
    s = s.apply(WriteBatch.ofPut("k", "2")); // 2
    s = s.apply(WriteBatch.ofPut("j", "x")); // 3
    s = s.apply(WriteBatch.ofPut("k", "4")); // 4
    Snapshot before = s;
    Snapshot p = s.prune(3);
    assertEquals(3, p.watermark());
    assertEquals("2", p.get("k", 3), "the newest version below the watermark survives");
    assertEquals("4", p.get("k"));
    VersionCompactedException e =
        assertThrows(VersionCompactedException.class, () -> p.get("k", 2));
    assertEquals(3, e.watermark());
    assertEquals(2, e.requestedVersion());
    assertThrows(VersionCompactedException.class, () -> p.history(b("k"), 1, 4));
    assertEquals(List.of(4L), p.history(b("k")).stream().map(Change::version).toList());
    // k@1 is the one version k@2 superseded: no read needs it, but it stays until k's next write or
    // a prune past k@4 (whose put went over two older versions), which drop it.
    assertEquals(4, p.stats().storedVersions(), "k@4, k@2, j@3 and k@1");
    assertEquals(2, p.prune(4).stats().storedVersions(), "k@4 and j@3");
    // The snapshot held from before the prune still answers everything.
    assertEquals("1", before.get("k", 1));
    assertEquals(4, before.stats().storedVersions());
  }

  @Test
  void aChangeExactlyAtTheWatermarkStaysInHistory() {
    Snapshot s = Snapshot.empty();
    s = s.apply(WriteBatch.ofPut("k", "1")); // 1
    s = s.apply(WriteBatch.ofDelete("k")); // 2
    s = s.apply(WriteBatch.ofPut("j", "x")); // 3
    Snapshot p = s.prune(2);
    List<Change> h = p.history(b("k"));
    assertEquals(1, h.size());
    assertTrue(h.get(0).isDelete());
    assertEquals(2, h.get(0).version());
    Snapshot q = p.prune(3);
    assertEquals(List.of(), q.history(b("k")), "a tombstone below the watermark goes with its key");
    assertEquals(1, q.stats().keys());
    assertNull(q.get("k", 3));
  }

  @Test
  void pruneToALowerWatermarkChangesNothingAndAboveTheVersionIsRefused() {
    Snapshot s =
        Snapshot.empty().apply(WriteBatch.ofPut("k", "1")).apply(WriteBatch.ofPut("k", "2"));
    Snapshot p = s.prune(2);
    assertEquals(2, p.prune(1).watermark());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.prune(3));
    assertTrue(e.getMessage().contains("watermark must be in [0, 2], was 3"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.prune(-1));
  }

  // ------------------------------------------------------------ aliasing

  @Test
  void changingTheCallersArraysNeverChangesTheStore() {
    byte[] key = b("key");
    byte[] value = b("value");
    WriteBatch.Builder builder = WriteBatch.builder().put(key, value);
    key[0] = 'X';
    value[0] = 'X';
    WriteBatch batch = builder.build();
    Snapshot s = Snapshot.empty().apply(batch);
    assertEquals("value", s.get("key"));
    key[0] = 'k';
    byte[] out = s.get(key);
    out[0] = 'Z';
    assertEquals("value", s.get("key"));
    Entry e = s.entry("key");
    e.value()[0] = 'Z';
    e.key()[0] = 'Z';
    assertEquals("value", e.valueUtf8());
    assertEquals("key", e.keyUtf8());
    assertTrue(e.valueBuffer().isReadOnly());
    s.history(key).get(0).value()[0] = 'Z';
    assertEquals("value", s.get("key"));
    s.scan(KeyRange.all()).get(0).value()[1] = 'Z';
    assertEquals("value", s.get("key"));
  }

  @Test
  void keyRangeCopiesItsArrays() {
    byte[] start = b("b");
    KeyRange r = KeyRange.closedOpen(start, b("d"));
    start[0] = 'z';
    assertTrue(r.contains(b("c")));
    r.start()[0] = 'z';
    assertTrue(r.contains(b("b")));
  }

  // ------------------------------------------------------------ key order

  @Test
  void keysOrderUnsignedAndAPrefixSortsFirst() {
    byte[][] ks = {
      {}, {0x00}, {0x00, 0x00}, {0x01}, {0x7F}, {(byte) 0x80}, {(byte) 0xFF}, {(byte) 0xFF, 0x00},
    };
    WriteBatch.Builder w = WriteBatch.builder();
    for (int i = ks.length - 1; i >= 0; i--) {
      w.put(ks[i], new byte[] {(byte) i});
    }
    Snapshot s = Snapshot.empty().apply(w.build());
    List<Entry> all = s.scan(KeyRange.all());
    assertEquals(ks.length, all.size());
    for (int i = 0; i < ks.length; i++) {
      assertArrayEquals(ks[i], all.get(i).key());
      assertArrayEquals(
          ks[i], s.scan(KeyRange.all(), 1, Direction.REVERSE, 100).get(ks.length - 1 - i).key());
    }
  }

  @Test
  void keysSharingLongPrefixesAndPrefixKeysAreDistinct() {
    String base = "user/0000000000000000/profile";
    WriteBatch.Builder w = WriteBatch.builder();
    List<String> expected = new ArrayList<>();
    for (String suffix :
        new String[] {"", "\0", "/", "/a", "/a/b", "a", "ab", "abcdefghijklmnop"}) {
      w.put(base + suffix, suffix);
      expected.add(base + suffix);
    }
    w.put("user", "short");
    w.put("use", "shorter");
    w.put("user/", "slash");
    Snapshot s = Snapshot.empty().apply(w.build());
    expected.sort((x, y) -> Arrays.compareUnsigned(b(x), b(y)));
    assertEquals(expected, keys(s.scan(KeyRange.prefix(base))));
    assertEquals("short", s.get("user"));
    assertEquals("shorter", s.get("use"));
    assertEquals("", s.get(base));
    assertEquals("\0", s.get(base + "\0"));
    assertEquals(3 + expected.size(), s.scan(KeyRange.prefix("use")).size());
  }

  @Test
  void prefixRangeOfHighBytesIsUnboundedAbove() {
    Snapshot s =
        Snapshot.empty()
            .apply(
                WriteBatch.builder()
                    .put(new byte[] {(byte) 0xFF}, b("1"))
                    .put(new byte[] {(byte) 0xFF, (byte) 0xFF, 0x01}, b("2"))
                    .put(new byte[] {(byte) 0xFE}, b("0"))
                    .build());
    assertEquals(2, s.scan(KeyRange.prefix(new byte[] {(byte) 0xFF})).size());
    assertEquals(3, s.scan(KeyRange.prefix(new byte[0])).size());
  }

  @Test
  void singleKeyStore() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.ofPut("only", "one"));
    assertEquals(List.of("only"), keys(s.scan(KeyRange.all())));
    assertEquals(List.of("only"), keys(s.scan(KeyRange.all(), 1, Direction.REVERSE, 5)));
    assertEquals(List.of(), s.scan(KeyRange.greaterThan(b("only"))));
    assertEquals(List.of(), s.scan(KeyRange.lessThan(b("only"))));
    assertEquals(List.of("only"), keys(s.scan(KeyRange.singleton(b("only")))));
    assertEquals(List.of(), s.scan(KeyRange.closedOpen("only", "only")));
  }

  // ------------------------------------------------------------ bad input

  @Test
  void nullArgumentsAreNamed() {
    Snapshot s = Snapshot.empty();
    assertEquals(
        "key", assertThrows(NullPointerException.class, () -> s.get((byte[]) null)).getMessage());
    assertEquals(
        "value",
        assertThrows(NullPointerException.class, () -> WriteBatch.builder().put(b("k"), null))
            .getMessage());
    assertEquals(
        "key",
        assertThrows(
                NullPointerException.class, () -> WriteBatch.builder().put((byte[]) null, b("v")))
            .getMessage());
    assertEquals(
        "range", assertThrows(NullPointerException.class, () -> s.scan(null)).getMessage());
    assertEquals(
        "batch", assertThrows(NullPointerException.class, () -> s.apply(null)).getMessage());
    assertEquals(
        "start",
        assertThrows(NullPointerException.class, () -> KeyRange.closedOpen((byte[]) null, b("x")))
            .getMessage());
  }

  @Test
  void oversizedKeysAndValuesAreRefusedNamingTheLimitAndChangeNothing() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.ofPut("k", "v"));
    byte[] bigKey = new byte[Limits.DEFAULT_MAX_KEY_BYTES + 1];
    WriteBatch badKey = WriteBatch.builder().put("ok", "fine").put(bigKey, b("v")).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> s.apply(badKey));
    assertTrue(e.getMessage().contains("maxKeyBytes = 4096"), e.getMessage());
    assertTrue(e.getMessage().contains("4097 bytes"), e.getMessage());

    Snapshot small = Snapshot.empty(Limits.defaults().withMaxValueBytes(10));
    WriteBatch badValue = WriteBatch.builder().put("a", "fine").put(b("b"), new byte[11]).build();
    e = assertThrows(IllegalArgumentException.class, () -> small.apply(badValue));
    assertTrue(e.getMessage().contains("maxValueBytes = 10"), e.getMessage());

    Transient t = s.asTransient();
    assertThrows(IllegalArgumentException.class, () -> t.apply(badKey));
    assertEquals(1, t.version(), "a refused batch takes no version");
    Snapshot after = t.persistent();
    assertNull(after.get("ok"));
    assertEquals(1, after.version());
    assertThrows(IllegalArgumentException.class, () -> s.get(bigKey));
  }

  @Test
  void limitsOutOfRangeAreRefused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Limits.defaults().withMaxKeyBytes(0));
    assertEquals("maxKeyBytes must be in [1, 65536], was 0", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Limits.defaults().withMaxValueBytes(-1));
  }

  @Test
  void versionsOutOfRangeAreRefused() {
    Snapshot s = Snapshot.empty().apply(WriteBatch.ofPut("k", "v"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.get("k", 2));
    assertEquals("atVersion must be in [0, 1], was 2", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.get("k", -1));
    assertThrows(IllegalArgumentException.class, () -> s.scan(KeyRange.all(), 5));
    assertThrows(IllegalArgumentException.class, () -> s.history(b("k"), 0, 2));
    e = assertThrows(IllegalArgumentException.class, () -> s.history(b("k"), 1, 0));
    assertTrue(e.getMessage().contains("fromVersion 1 is after toVersion 0"));
    assertThrows(
        IllegalArgumentException.class, () -> s.scan(KeyRange.all(), 1, Direction.FORWARD, -1));
  }

  @Test
  void reversedRangesAreRefused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> KeyRange.closedOpen("b", "a"));
    assertTrue(e.getMessage().contains("is after its end"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> KeyRange.closed(b("b"), b("a")));
    assertThrows(IllegalArgumentException.class, () -> KeyRange.open(b("ab"), b("a")));
  }

  @Test
  void negativeModVersionConditionIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Condition.modVersion("k", -1));
  }

  // ------------------------------------------------------------ scale

  @Test
  void largeTreesMatchAModelThroughSplitsMergesAndPrunes() {
    Random rnd = new Random(42);
    ReferenceModel model = new ReferenceModel();
    Snapshot s = Snapshot.empty();
    List<byte[]> keys = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      byte[] k = new byte[4 + rnd.nextInt(12)];
      rnd.nextBytes(k);
      keys.add(k);
    }
    for (int round = 0; round < 40; round++) {
      Transient t = s.asTransient();
      for (int b = 0; b < 5; b++) {
        WriteBatch.Builder w = WriteBatch.builder();
        List<ReferenceModel.Op> ops = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
          byte[] k = keys.get(rnd.nextInt(keys.size()));
          if (rnd.nextInt(4) == 0) {
            w.delete(k);
            ops.add(new ReferenceModel.Delete(k));
          } else {
            byte[] v = new byte[] {(byte) round, (byte) b, (byte) i};
            w.put(k, v);
            ops.add(new ReferenceModel.Put(k, v));
          }
        }
        assertEquals(model.apply(ops), t.apply(w.build()));
      }
      if (round % 3 == 2) {
        t.prune(model.version - rnd.nextInt(8));
      }
      s = t.persistent();
      TreeInvariants.check(s);
      long[] retained = model.retained(s.watermark());
      assertEquals(retained[0], s.stats().keys());
      assertStoredVersions(retained, s);
    }
    for (long v = s.watermark(); v <= s.version(); v += 7) {
      assertEquals(model.scan(KeyRange.all(), v), s.scan(KeyRange.all(), v));
    }
    Iterator<Entry> it = s.iterator(KeyRange.all(), s.version(), Direction.REVERSE);
    List<Entry> rev = new ArrayList<>();
    it.forEachRemaining(rev::add);
    List<Entry> fwd = s.scan(KeyRange.all());
    Collections.reverse(rev);
    assertEquals(fwd, rev);
    // Prune everything old: tombstoned keys leave the tree and nodes merge. What stays is each live
    // key's current value, plus the tombstones of the last batch, which sit exactly at the
    // watermark.
    Snapshot p = s.prune(s.version());
    TreeInvariants.check(p);
    long[] retained = model.retained(p.version());
    assertEquals(retained[0], p.stats().keys());
    assertEquals(retained[0], retained[1], "one version per key is all reads need");
    assertStoredVersions(retained, p);
    assertTrue(p.stats().keys() > p.size());
  }

  /**
   * The versions {@code s} holds: what reads at its watermark need ({@code retained}, from {@link
   * ReferenceModel#retained}), plus at most one superseded version per key that a write left.
   */
  private static void assertStoredVersions(long[] retained, Snapshot s) {
    long stored = s.stats().storedVersions();
    assertTrue(
        stored >= retained[1] && stored <= retained[1] + retained[0],
        stored + " versions stored, " + retained[1] + " needed, " + retained[0] + " keys");
  }
}
