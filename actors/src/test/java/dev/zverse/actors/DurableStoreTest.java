package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.CorruptLogException;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.LogFaults;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.SyncPolicy;
import dev.zverse.engine.UnsupportedFormatException;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A durable store: recovery on open, the directory lock, I/O faults, sync policies, checkpoints.
 */
@ExtendWith(LogCapturingExtension.class)
class DurableStoreTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static StoreSettings durable(Path dir) {
    return kit.settings().withDataDirectory(dir).withRetentionVersions(Long.MAX_VALUE);
  }

  /**
   * Sends 40 writes without waiting (so they share group commits): puts, deletes, a range delete.
   */
  private static List<CompletionStage<Long>> writeSome(ZVerseStore store, String tag) {
    List<CompletionStage<Long>> sent = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      if (i % 7 == 6) {
        sent.add(store.delete("k" + (i % 5)));
      } else if (i == 20) {
        sent.add(
            store.write(
                WriteBatch.builder().deleteRange(KeyRange.prefix("k1")).put("r", tag).build()));
      } else {
        sent.add(
            store.write(
                WriteBatch.builder()
                    .put("k" + (i % 5), tag + i)
                    .put("t" + (i % 3), tag + i)
                    .build()));
      }
    }
    return sent;
  }

  /**
   * Every kind of read of {@code got} agrees with {@code want} at every version of {@code want}.
   */
  static void assertSameHistory(Snapshot want, Snapshot got) {
    assertEquals(want.version(), got.version(), "version");
    assertEquals(want.watermark(), got.watermark(), "watermark");
    for (long v = want.watermark(); v <= want.version(); v++) {
      assertEquals(want.scan(KeyRange.all(), v), got.scan(KeyRange.all(), v), "scan at " + v);
      assertEquals(
          want.changes(KeyRange.all(), v, v), got.changes(KeyRange.all(), v, v), "changes at " + v);
      if (v > 0) {
        assertEquals(want.commitTime(v), got.commitTime(v), "commit time of " + v);
      }
    }
    assertEquals(
        want.changes(KeyRange.all(), want.watermark(), want.version()),
        got.changes(KeyRange.all(), got.watermark(), got.version()),
        "the whole retained history, for a change feed's replay");
  }

  @Test
  void reopeningRecoversEveryVersionAndContinuesAtTheNext(@TempDir Path dir) {
    ZVerseStore store = kit.open(durable(dir));
    assertEquals(0, store.version(), "a fresh directory opens empty");
    writeSome(store, "a").forEach(StoreTestKit::await);
    Snapshot before = store.snapshot();
    await(store.close());

    ZVerseStore reopened = kit.open(durable(dir));
    assertTrue(
        reopened.recoveryReport().orElseThrow().contains("checkpoint"),
        reopened.recoveryReport().get());
    assertSameHistory(before, reopened.snapshot());
    assertEquals(before.version() + 1, await(reopened.put("after", "1")), "versions continue");
    assertEquals("1", reopened.get("after"));
    await(reopened.close());
  }

  @Test
  void aMemoryOnlyStoreHasNoRecoveryReportAndNoDirectory() {
    ZVerseStore store = kit.open(kit.settings());
    assertTrue(store.recoveryReport().isEmpty());
    assertTrue(store.failure().isEmpty());
    assertTrue(store.settings().dataDirectory().isEmpty());
    await(store.close());
  }

  @Test
  void aSecondStoreOnTheSameDirectoryIsRefusedUntilTheFirstCloses(@TempDir Path dir) {
    ZVerseStore first = kit.open(durable(dir));
    await(first.put("a", "1"));

    IllegalStateException sameSystem =
        assertThrows(IllegalStateException.class, () -> kit.open(durable(dir)));
    assertTrue(sameSystem.getMessage().contains("already open"), sameSystem.getMessage());
    StoreTestKit other = StoreTestKit.create();
    try {
      IllegalStateException otherSystem =
          assertThrows(
              IllegalStateException.class,
              () -> ZVerseStore.open(other.testKit.system(), "other", durable(dir)));
      assertTrue(otherSystem.getMessage().contains(dir.toString()), otherSystem.getMessage());
    } finally {
      other.shutdown();
    }
    assertEquals("1", first.get("a"), "the first store is unharmed");
    await(first.put("b", "2"));
    await(first.close());

    ZVerseStore second = kit.open(durable(dir));
    assertEquals("2", second.get("b"));
    await(second.close());
  }

  @Test
  void anIoErrorFailsItsGroupAndEveryLaterWriteButReadsGoOn(@TempDir Path dir) {
    ZVerseStore store = kit.open(durable(dir));
    long acked = await(store.put("a", "1"));
    IOException diskFull = new IOException("No space left on device (injected)");
    LogFaults.failWrites(store.durableLog(), diskFull);

    Throwable failed =
        LoggingTestKit.error("to the durable log failed")
            .expect(kit.testKit.system(), () -> awaitFailure(store.put("b", "2")));
    StoreFailedException f = assertInstanceOf(StoreFailedException.class, failed);
    assertSame(diskFull, f.getCause(), "the cause is the I/O error");
    assertTrue(f.getMessage().contains(store.name()), f.getMessage());
    assertSame(f, store.failure().orElseThrow());

    assertSame(
        f, awaitFailure(store.put("c", "3")), "later writes are refused with the same failure");
    assertEquals(acked, store.version(), "nothing of the failed group is published");
    assertEquals("1", store.get("a"), "reads go on");
    assertNull(store.get("b"));
    await(store.close());

    ZVerseStore reopened = kit.open(durable(dir));
    assertEquals("1", reopened.get("a"), "what was acknowledged survives");
    assertTrue(reopened.version() >= acked);
    assertTrue(reopened.failure().isEmpty(), "a reopened store takes writes again");
    assertEquals(reopened.version() + 1, await(reopened.put("d", "4")));
    await(reopened.close());
  }

  @Test
  void aVersionTheLogCannotTakeIsRefusedWithoutFailingTheStore(@TempDir Path dir) {
    ZVerseStore store = kit.open(durable(dir));
    long acked = await(store.put("a", "1"));
    LogFaults.limitRecords(store.durableLog(), 200);
    Throwable refused = awaitFailure(store.put("big", "x".repeat(500)));
    IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class, refused);
    assertTrue(e.getMessage().contains("over the largest record of 200 bytes"), e.getMessage());
    assertTrue(store.failure().isEmpty(), "one caller's write does not fail the store");
    assertEquals(acked, store.version(), "nothing of the refused group is published");
    assertEquals(acked + 1, await(store.put("c", "3")), "later writes go on");
    await(store.close());

    ZVerseStore reopened = kit.open(durable(dir));
    assertEquals("1", reopened.get("a"));
    assertEquals("3", reopened.get("c"));
    assertNull(reopened.get("big"));
    await(reopened.close());
  }

  @ParameterizedTest
  @EnumSource(SyncPolicy.class)
  void everySyncPolicyKeepsWhatWasAcknowledgedAcrossAReopen(SyncPolicy sync, @TempDir Path dir) {
    StoreSettings settings =
        durable(dir).withDurability(d -> d.withSync(sync).withSyncInterval(Duration.ofMillis(5)));
    ZVerseStore store = kit.open(settings);
    assertEquals(sync, store.settings().durability().sync());
    writeSome(store, sync.name()).forEach(StoreTestKit::await);
    if (sync == SyncPolicy.INTERVAL) {
      await(store.journal().intervalSynced()); // the policy's own timer has forced the log too
    }
    Snapshot before = store.snapshot();
    await(store.close());
    ZVerseStore reopened = kit.open(settings);
    assertSameHistory(before, reopened.snapshot());
    await(reopened.close());
  }

  @Test
  void checkpointsAreWrittenEveryNVersionsAndOnCloseAndDropTheLogTheyCover(@TempDir Path dir)
      throws IOException {
    StoreSettings settings =
        durable(dir).withDurability(d -> d.withCheckpointEveryVersions(25).withSegmentBytes(4096));
    ZVerseStore store = kit.open(settings);
    for (int i = 0; i < 120; i++) {
      await(store.put("key" + (i % 10), "value-" + i + "-" + "x".repeat(40)));
    }
    // Polls for the checkpoint thread's effect (a file), which has no other signal to wait on;
    // the poll ends as soon as the file is there, so it waits for work, not for time to pass.
    long deadline = System.nanoTime() + StoreTestKit.TIMEOUT.toNanos();
    while (files(dir, "checkpoint-").isEmpty() && System.nanoTime() < deadline) {
      StoreTestKit.sleep(5);
    }
    assertTrue(!files(dir, "checkpoint-").isEmpty(), "a checkpoint by versions before the close");
    Snapshot before = store.snapshot();
    await(store.close());

    List<String> checkpoints = files(dir, "checkpoint-");
    assertEquals(
        String.format("checkpoint-%020d.zvc", 120),
        checkpoints.get(checkpoints.size() - 1),
        "on close");
    assertTrue(checkpoints.size() <= 2, "older checkpoints are deleted: " + checkpoints);
    List<String> segments = files(dir, "wal-");
    assertTrue(segments.size() < 10, "segments covered by a checkpoint are deleted: " + segments);
    ZVerseStore reopened = kit.open(settings);
    assertTrue(
        reopened.recoveryReport().orElseThrow().contains(checkpoints.get(checkpoints.size() - 1)));
    assertSameHistory(before, reopened.snapshot());
    await(reopened.close());
  }

  @Test
  void aDamagedLogRecordStopsTheOpenUnlessRecoveryPastItIsChosen(@TempDir Path dir)
      throws IOException {
    ZVerseStore store = kit.open(durable(dir));
    for (int i = 1; i <= 5; i++) {
      await(store.put("k", "v" + i)); // one record per version
    }
    await(store.close());
    for (String c : files(dir, "checkpoint-")) {
      Files.delete(dir.resolve(c)); // recovery must read the log
    }
    Path segment = dir.resolve(files(dir, "wal-").get(0));
    long offset = 16 + 24 + 10; // the segment header, the first record's header, into its payload
    flipByte(segment, offset);

    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> kit.open(durable(dir)));
    CorruptLogException corrupt = assertInstanceOf(CorruptLogException.class, e.getCause());
    assertEquals(segment, corrupt.file());
    assertTrue(e.getMessage().contains(segment.getFileName().toString()), e.getMessage());

    ZVerseStore recovered =
        kit.open(durable(dir).withDurability(d -> d.withRecoverPastCorruption(true)));
    assertEquals(0, recovered.version(), "everything from the damaged record on is given up");
    assertEquals(1, await(recovered.put("k", "again")), "and versions continue from there");
    await(recovered.close());
  }

  @Test
  void aNewerFormatIsRefusedWithAClearError(@TempDir Path dir) throws IOException {
    ZVerseStore store = kit.open(durable(dir));
    await(store.put("k", "v"));
    await(store.close());
    Path checkpoint = dir.resolve(files(dir, "checkpoint-").get(0));
    try (FileChannel ch =
        FileChannel.open(checkpoint, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.write(
          ByteBuffer.allocate(4).putInt(0, 99), 8); // the format version after the magic number
      // A newer ZVerse writes a whole header: its checksum holds (a damaged one would fall back).
      ByteBuffer header = ByteBuffer.allocate(12);
      ch.read(header, 0);
      CRC32C crc = new CRC32C();
      crc.update(header.array());
      ch.write(ByteBuffer.allocate(4).putInt(0, (int) crc.getValue()), 12);
    }
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> kit.open(durable(dir)));
    UnsupportedFormatException unsupported =
        assertInstanceOf(UnsupportedFormatException.class, e.getCause());
    assertEquals(checkpoint, unsupported.file());
    ZVerseStore again = assertDoesNotStayLocked(dir);
    await(again.close());
  }

  /** After a refused open the directory is not left locked: fix the file and open it. */
  private static ZVerseStore assertDoesNotStayLocked(Path dir) throws IOException {
    for (String c : files(dir, "checkpoint-")) {
      Files.delete(dir.resolve(c));
    }
    ZVerseStore store = kit.open(durable(dir));
    assertEquals("v", store.get("k"), "recovered from the log alone");
    return store;
  }

  private static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.put(0, (byte) (b.get(0) ^ 0x40)).position(0);
      ch.write(b, offset);
    }
  }

  static List<String> files(Path dir, String prefix) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(prefix) && !n.endsWith(".tmp"))
          .sorted()
          .collect(Collectors.toList());
    }
  }
}
