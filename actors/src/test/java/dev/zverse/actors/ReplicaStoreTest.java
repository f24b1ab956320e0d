package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static dev.zverse.actors.StoreTestKit.freshName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.VersionCompactedException;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica ({@link ZVerse#openReplica}) follows another store's commits through {@link
 * AdvancedOperations#applyCommits}: every snapshot it publishes equals the writer's at that
 * version, it refuses a gap or a duplicate and its own writes, it can be reset to a base snapshot,
 * and its reads, transactions and pins are a local store's.
 */
class ReplicaStoreTest {
  private static StoreTestKit kit;

  @BeforeAll
  static void start() {
    kit = StoreTestKit.create();
  }

  @AfterAll
  static void stop() {
    kit.shutdown();
  }

  private static ZVerseStore replica(StoreSettings settings) {
    return ZVerse.get(kit.testKit.system()).openReplica(freshName("replica"), settings);
  }

  /** Random batches on {@code writer}, conditional ones included, each awaited. */
  private static void writeRandomly(ZVerseStore writer, int batches, long seed) {
    Random random = new Random(seed);
    for (int i = 0; i < batches; i++) {
      WriteBatch.Builder b = WriteBatch.builder();
      int ops = 1 + random.nextInt(4);
      for (int o = 0; o < ops; o++) {
        String k = "k" + random.nextInt(12);
        switch (random.nextInt(5)) {
          case 0 -> b.delete(k);
          case 1 -> b.deleteRange(KeyRange.closed("k" + random.nextInt(6), "k" + (6 + o)));
          case 2 -> b.requireAbsent("never-" + i).put(k, "c" + i);
          default -> b.put(k, "v" + i + "." + o);
        }
      }
      await(writer.write(b.build()));
    }
  }

  /** The writer's commits {@code from} to {@code to} as the wire carries them. */
  private static CommitRecordCodec.Group commits(Snapshot writer, long from, long to) {
    List<CommitRecord> commits = new ArrayList<>();
    for (long v = from; v <= to; v++) {
      commits.add(writer.commit(v));
    }
    return new CommitRecordCodec.Group(writer.watermark(), commits);
  }

  private static void assertSameAt(Snapshot expected, Snapshot actual, long v) {
    assertEquals(expected.scan(KeyRange.all(), v), actual.scan(KeyRange.all(), v), "scan @" + v);
    if (v > 0) {
      assertEquals(expected.commit(v), actual.commit(v), "commit " + v);
      assertEquals(expected.commitTime(v), actual.commitTime(v));
    }
  }

  @Test
  void everySnapshotTheReplicaPublishesIsTheWritersAtItsVersion() {
    ZVerseStore writer = kit.open(kit.settings());
    ZVerseStore replica = replica(kit.settings());
    List<Snapshot> seen = new CopyOnWriteArrayList<>();
    replica
        .advanced()
        .addPublishListener(
            new PublishListener() {
              @Override
              public void published(Snapshot snapshot) {
                seen.add(snapshot);
              }

              @Override
              public void stopped(Snapshot last) {}
            });
    writeRandomly(writer, 200, 16);
    Snapshot w = writer.snapshot();
    Random random = new Random(17);
    List<CompletionStage<Long>> applied = new ArrayList<>();
    // Sent without waiting, in groups of random sizes: applied in the order sent.
    for (long from = 1; from <= w.version(); ) {
      long to = Math.min(w.version(), from + random.nextInt(5));
      applied.add(replica.advanced().applyCommits(commits(w, from, to)));
      from = to + 1;
    }
    long previous = 0;
    for (CompletionStage<Long> a : applied) {
      long v = await(a);
      assertTrue(v > previous, "groups applied in order");
      previous = v;
    }
    assertEquals(w.version(), replica.version());
    assertFalse(seen.isEmpty());
    long last = 0;
    for (Snapshot s : seen) {
      assertTrue(s.version() > last, "published versions rise");
      last = s.version();
      for (long v = s.watermark(); v <= s.version(); v++) {
        assertSameAt(w, s, v);
      }
    }
    assertEquals(w.version(), last);
    try (ReadTransaction tx = replica.readTransaction(w.version() / 2, "test")) {
      assertEquals(
          w.scan(KeyRange.all(), w.version() / 2),
          tx.snapshot().scan(KeyRange.all(), tx.version()));
    }
    await(writer.close());
    await(replica.close());
  }

  @Test
  void aGapOrADuplicateIsRefusedNamingBothVersionsAndChangesNothing() {
    ZVerseStore writer = kit.open(kit.settings());
    ZVerseStore replica = replica(kit.settings());
    writeRandomly(writer, 6, 18);
    Snapshot w = writer.snapshot();
    await(replica.advanced().applyCommits(commits(w, 1, 2)));
    IllegalArgumentException gap =
        assertInstanceOf(
            IllegalArgumentException.class,
            awaitFailure(replica.advanced().applyCommits(commits(w, 4, 5))));
    assertEquals(
        "commits[0] has version 4, must be 3: the replica is at version 2 (a gap)",
        gap.getMessage());
    IllegalArgumentException duplicate =
        assertInstanceOf(
            IllegalArgumentException.class,
            awaitFailure(replica.advanced().applyCommits(commits(w, 2, 3))));
    assertEquals(
        "commits[0] has version 2, must be 3: the replica is at version 2 (a duplicate)",
        duplicate.getMessage());
    assertEquals(2, replica.version());
    assertEquals(3L, await(replica.advanced().applyCommits(commits(w, 3, 3))));
    assertSameAt(w, replica.snapshot(), 3);
    await(writer.close());
    await(replica.close());
  }

  @Test
  void aStoreOpenedFromAReplicasSnapshotContinuesItsVersionsAndHistory() {
    ZVerseStore writer = kit.open(kit.settings());
    ZVerseStore replica = replica(kit.settings());
    writeRandomly(writer, 8, 19);
    Snapshot w = writer.snapshot();
    await(replica.advanced().applyCommits(commits(w, 1, w.version())));
    Snapshot base = replica.advanced().lastPublished();
    ZVerseStore next =
        ZVerse.get(kit.testKit.system()).openFrom(freshName("next"), kit.settings(), base);
    assertEquals(w.version(), next.snapshot().version());
    long v = await(next.write(WriteBatch.ofPut("after", "1")));
    assertEquals(w.version() + 1, v, "versions continue");
    Snapshot s = next.snapshot();
    for (long at = 1; at <= w.version(); at++) {
      assertEquals(w.commit(at).changes(), s.commit(at).changes(), "history at " + at);
    }
    assertEquals("1", s.get("after"));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ZVerse.get(kit.testKit.system())
                .openFrom(
                    freshName("durable"),
                    kit.settings().withDataDirectory(java.nio.file.Path.of("/tmp/never")),
                    base));
    await(next.close());
  }

  @Test
  void aReplicasOwnWritesFailAtOnceSayingWritesGoThroughTheClusterStore() {
    ZVerseStore replica = replica(kit.settings());
    UnsupportedOperationException e =
        assertThrows(UnsupportedOperationException.class, () -> replica.put("k", "v"));
    assertTrue(e.getMessage().contains("writes go through the cluster store"), e.getMessage());
    assertTrue(replica.advanced().isReplica());
    assertEquals(0, replica.version());
    ZVerseStore local = kit.open(kit.settings());
    assertFalse(local.advanced().isReplica());
    assertThrows(
        UnsupportedOperationException.class,
        () -> local.advanced().resetTo(Snapshot.empty()),
        "a store that takes writes is not reset");
    await(local.close());
    await(replica.close());
  }

  @Test
  void aResetInstallsTheBaseAndTheReplicaFollowsOnFromIt() {
    ZVerseStore writer = kit.open(kit.settings());
    ZVerseStore replica = replica(kit.settings());
    writeRandomly(writer, 20, 19);
    Snapshot base = writer.snapshot();
    writeRandomly(writer, 5, 20);
    Snapshot w = writer.snapshot();
    Snapshot before = replica.snapshot();
    assertEquals(base.version(), await(replica.advanced().resetTo(base)));
    assertEquals(0, before.version(), "a snapshot taken before keeps its state");
    assertSameAt(w, replica.snapshot(), base.version());
    await(replica.advanced().applyCommits(commits(w, base.version() + 1, w.version())));
    for (long v = 0; v <= w.version(); v++) {
      assertSameAt(w, replica.snapshot(), v);
    }
    IllegalArgumentException back =
        assertInstanceOf(
            IllegalArgumentException.class, awaitFailure(replica.advanced().resetTo(base)));
    assertEquals(
        "base.version must be at least the replica's version "
            + w.version()
            + ", was "
            + base.version(),
        back.getMessage());
    await(writer.close());
    await(replica.close());
  }

  @Test
  void aResetCostsTheReplicaItsHistoryBelowTheBasesWatermarkWhateverItsOwnRetention() {
    // The replica follows a writer that keeps everything; its own retention (the default, 1,000
    // versions) keeps all of it too.
    ZVerseStore writer = kit.open(kit.settings());
    ZVerseStore replica = replica(kit.settings());
    writeRandomly(writer, 10, 31);
    Snapshot early = writer.snapshot();
    await(replica.advanced().applyCommits(commits(early, 1, early.version())));
    Snapshot before = replica.snapshot();
    assertEquals(0, before.watermark());
    // The base comes from a store that keeps 5 versions, pruned past the replica's versions.
    ZVerseStore pruned =
        kit.open(kit.settings().withRetentionVersions(5).withEpochTick(Duration.ofMillis(10)));
    writeRandomly(pruned, 30, 32);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (pruned.snapshot().watermark() <= early.version() + 1) {
      // Each write gives the epoch another chance to prune.
      assertTrue(System.nanoTime() < deadline, "the base's store did not prune");
      await(pruned.put("tick", "t"));
    }
    Snapshot base = pruned.snapshot();
    long w = base.watermark();
    assertEquals(base.version(), await(replica.advanced().resetTo(base)));
    Snapshot after = replica.snapshot();
    assertEquals(w, after.watermark(), "the base's watermark becomes the replica's");
    VersionCompactedException below =
        assertThrows(VersionCompactedException.class, () -> after.get("k1", early.version()));
    assertTrue(below.getMessage().contains(String.valueOf(w)), below.getMessage());
    assertEquals(base.scan(KeyRange.all(), w), after.scan(KeyRange.all(), w), "at the watermark");
    assertSameAt(base, after, base.version());
    for (long v = 0; v <= before.version(); v++) {
      // A snapshot taken before the reset reads on.
      assertSameAt(early, before, v);
    }
    await(writer.close());
    await(pruned.close());
    await(replica.close());
  }

  @Test
  void aDurableReplicaRecoversToTheVersionItApplied(@TempDir Path dir) throws Exception {
    ZVerseStore writer = kit.open(kit.settings());
    writeRandomly(writer, 30, 21);
    Snapshot w = writer.snapshot();
    String name = freshName("durable-replica");
    StoreSettings durable = kit.settings().withDataDirectory(Files.createDirectories(dir));
    ZVerseStore replica = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    await(replica.advanced().applyCommits(commits(w, 1, 20)));
    await(replica.close());
    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    assertEquals(20, again.version());
    await(again.advanced().applyCommits(commits(w, 21, w.version())));
    for (long v = 0; v <= w.version(); v++) {
      assertSameAt(w, again.snapshot(), v);
    }
    assertNull(again.get("never-there"));
    await(again.close());
    await(writer.close());
  }

  @Test
  void aDurableReplicaResetToABaseRecoversItAndFollowsOnFromIt(@TempDir Path dir) throws Exception {
    ZVerseStore writer = kit.open(kit.settings());
    writeRandomly(writer, 40, 22);
    String name = freshName("durable-reset");
    StoreSettings durable = kit.settings().withDataDirectory(Files.createDirectories(dir));
    ZVerseStore replica = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    await(replica.advanced().applyCommits(commits(writer.snapshot(), 1, 10)));
    Snapshot early = replica.snapshot();
    // The writer's state at its version with history from 30 on: versions 11 to 29 are skipped.
    Snapshot base = writer.snapshot().prune(30);
    // Sent together: the reset is applied after the group before it, and the group after it
    // follows the base.
    CompletionStage<Long> before =
        replica.advanced().applyCommits(commits(writer.snapshot(), 11, 12));
    CompletionStage<Long> reset = replica.advanced().resetTo(base);
    writeRandomly(writer, 10, 23);
    Snapshot w = writer.snapshot();
    CompletionStage<Long> after =
        replica.advanced().applyCommits(commits(w, base.version() + 1, w.version()));
    assertEquals(12, await(before));
    assertEquals(base.version(), await(reset));
    assertEquals(w.version(), await(after));
    assertEquals(10, early.version(), "a snapshot taken before the reset reads on");
    await(replica.close());
    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    Snapshot recovered = again.snapshot();
    assertEquals(w.version(), recovered.version(), "the base and the versions after it");
    assertEquals(30, base.watermark());
    assertEquals(base.watermark(), recovered.watermark(), "the base's history, no more");
    for (long v = base.watermark(); v <= w.version(); v++) {
      assertSameAt(w, recovered, v);
    }
    await(again.close());
    await(writer.close());
  }

  /** A directory with a file in it where the store means to create a file: it cannot. */
  private static Path block(Path path) throws IOException {
    Files.createDirectories(path);
    Files.writeString(path.resolve("blocker"), "a directory where a file is expected");
    return path;
  }

  private static void unblock(Path path) throws IOException {
    Files.delete(path.resolve("blocker"));
    Files.delete(path);
  }

  @Test
  void aDurableReplicasResetFailingBeforeItsCheckpointIsInPlaceLeavesTheStoreAsItWas(
      @TempDir Path dir) throws Exception {
    ZVerseStore writer = kit.open(kit.settings());
    writeRandomly(writer, 30, 24);
    Snapshot w = writer.snapshot();
    String name = freshName("durable-reset-refused");
    StoreSettings durable = kit.settings().withDataDirectory(Files.createDirectories(dir));
    ZVerseStore replica = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    await(replica.advanced().applyCommits(commits(w, 1, 10)));
    Snapshot base = w.prune(20);
    Path blocked = block(dir.resolve(String.format("checkpoint-%020d.tmp", base.version())));
    Throwable failed = awaitFailure(replica.advanced().resetTo(base));
    assertInstanceOf(IOException.class, failed);
    assertEquals(Optional.empty(), replica.failure(), "the store goes on");
    assertEquals(10, replica.version());
    assertEquals(12, await(replica.advanced().applyCommits(commits(w, 11, 12))));
    unblock(blocked);
    assertEquals(base.version(), await(replica.advanced().resetTo(base)), "and may retry");
    await(replica.close());
    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    assertEquals(base.version(), again.version());
    await(again.close());
    await(writer.close());
  }

  @Test
  void aDurableReplicasResetFailingOnceItsCheckpointIsDurableFailsTheStoreAndAReopenHasTheBase(
      @TempDir Path dir) throws Exception {
    ZVerseStore writer = kit.open(kit.settings());
    writeRandomly(writer, 30, 25);
    Snapshot w = writer.snapshot();
    String name = freshName("durable-reset-failed");
    StoreSettings durable = kit.settings().withDataDirectory(Files.createDirectories(dir));
    ZVerseStore replica = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    await(replica.advanced().applyCommits(commits(w, 1, 10)));
    Snapshot base = w.prune(20);
    // The base's checkpoint goes into place; the log cannot restart after it.
    Path blocked = block(dir.resolve(String.format("wal-%020d.log", base.version() + 1)));
    Throwable failed = awaitFailure(replica.advanced().resetTo(base));
    assertInstanceOf(StoreFailedException.class, failed);
    assertTrue(replica.failure().isPresent(), "the store failed: a retry would fail again");
    assertInstanceOf(
        StoreFailedException.class, awaitFailure(replica.advanced().resetTo(base)), "refused");
    assertEquals(10, replica.version(), "reads go on at the version published");
    replica.close().toCompletableFuture().handle((ok, e) -> ok).join();
    unblock(blocked);
    ZVerseStore again = ZVerse.get(kit.testKit.system()).openReplica(name, durable);
    assertEquals(base.version(), again.version(), "the base's checkpoint was durable");
    for (long v = base.watermark(); v <= w.version(); v++) {
      assertSameAt(w, again.snapshot(), v);
    }
    await(again.close());
    await(writer.close());
  }
}
