package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.zverse.engine.Change;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Direction;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

@ExtendWith(LogCapturingExtension.class)
class ZVerseStoreTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  private static ZVerseStore open() {
    return kit.open(kit.settings());
  }

  @Test
  void putsGetsAndDeletesTakeOneVersionEach() {
    ZVerseStore store = open();
    assertEquals(0, store.version());
    assertEquals(1, await(store.put("a", "1")));
    assertEquals(2, await(store.put("b".getBytes(StandardCharsets.UTF_8), new byte[] {7})));
    assertEquals(3, await(store.put("a", "2")));
    assertEquals(4, await(store.delete("b")));

    assertEquals(4, store.version());
    assertEquals("2", store.get("a"));
    assertEquals("1", store.snapshot().get("a", 1));
    assertNull(store.get("b"));
    assertArrayEquals(
        new byte[] {7}, store.snapshot().get("b".getBytes(StandardCharsets.UTF_8), 2));
    Entry a = store.snapshot().entry("a");
    assertEquals(1, a.createVersion());
    assertEquals(3, a.modVersion());
    List<Change> history = store.snapshot().history("a", 0, 4);
    assertEquals(List.of(1L, 3L), history.stream().map(Change::version).toList());
    assertEquals(
        List.of(2L, 4L),
        store.snapshot().history("b".getBytes(StandardCharsets.UTF_8)).stream()
            .map(Change::version)
            .toList());
    assertEquals(1, store.snapshot().scan(KeyRange.all()).size());
    assertEquals(2, store.snapshot().scan(KeyRange.all(), 2, Direction.REVERSE, 10).size());
    await(store.close());
  }

  @Test
  void aTransactionCommitsAtomicallyAsOneVersion() {
    ZVerseStore store = open();
    await(store.put("orders/1", "open"));
    await(store.put("holds/1", "h"));
    await(store.put("carts/1/a", "x"));
    await(store.put("carts/1/b", "y"));
    Entry order = store.snapshot().entry("orders/1");

    long v =
        await(
            store.write(
                WriteBatch.builder()
                    .requireModVersion("orders/1", order.modVersion())
                    .put("orders/1", "paid")
                    .delete("holds/1")
                    .deleteRange(KeyRange.prefix("carts/1/"))
                    .build()));

    assertEquals(5, v);
    Snapshot s = store.snapshot();
    assertEquals("paid", s.get("orders/1"));
    assertNull(s.get("holds/1"));
    assertEquals(0, s.count(KeyRange.prefix("carts/1/"), v));
    assertEquals(4, s.count(KeyRange.all(), v - 1), "the version before shows none of it");
    await(store.close());
  }

  @Test
  void aFailedConditionFailsTheStageWithEveryFailedConditionAndChangesNothing() {
    ZVerseStore store = open();
    await(store.put("k", "v"));
    WriteBatch batch =
        WriteBatch.builder()
            .requireAbsent("k")
            .requireValue("k", "other")
            .requireModVersion("k", 1)
            .put("k", "new")
            .build();

    Throwable failure = awaitFailure(store.write(batch));

    ConditionFailedException e = assertInstanceOf(ConditionFailedException.class, failure);
    assertEquals(2, e.failures().size(), e.getMessage());
    assertEquals(1, store.version(), "a refused batch takes no version");
    assertEquals("v", store.get("k"));
    assertEquals(2, await(store.put("k", "w")), "the next write takes the next version");
  }

  @Test
  void keysAndValuesOverTheConfiguredLimitsAreRefused() {
    ZVerseStore store = kit.open(kit.settings().withMaxKeyBytes(4).withMaxValueBytes(8));

    Throwable longKey = awaitFailure(store.put("12345", "v"));
    Throwable longValue = awaitFailure(store.put("k", "123456789"));

    assertInstanceOf(IllegalArgumentException.class, longKey);
    assertTrue(longKey.getMessage().contains("maxKeyBytes = 4"), longKey.getMessage());
    assertTrue(longValue.getMessage().contains("maxValueBytes = 8"), longValue.getMessage());
    assertEquals(1, await(store.put("1234", "12345678")));
    assertThrows(IllegalArgumentException.class, () -> store.get("12345"));
  }

  @Test
  void writesFromOneThreadCommitInTheOrderSent() {
    ZVerseStore store = open();
    List<CompletionStage<Long>> stages = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      stages.add(store.put("k", Integer.toString(i)));
    }
    long previous = 0;
    for (CompletionStage<Long> stage : stages) {
      long v = await(stage);
      assertTrue(v > previous, v + " after " + previous);
      previous = v;
    }
    assertEquals("1999", store.get("k"));
    assertEquals(2000, store.snapshot().history("k", 1, store.version()).size());
  }

  @Test
  void actorsWriteWithReplyToAndGetRepliesInTheOrderSent() {
    ZVerseStore store = open();
    TestProbe<WriteReply> probe = kit.testKit.createTestProbe();
    for (int i = 0; i < 50; i++) {
      store.write(WriteBatch.ofPut("k", "v" + i), probe.getRef());
    }
    store.write(WriteBatch.builder().requireAbsent("k").put("k", "x").build(), probe.getRef());

    for (long v = 1; v <= 50; v++) {
      WriteReply reply = probe.receiveMessage();
      assertTrue(reply.isCommitted(), reply.toString());
      assertEquals(v, reply.version());
    }
    WriteReply refused = probe.receiveMessage();
    assertFalse(refused.isCommitted());
    assertInstanceOf(ConditionFailedException.class, refused.failure());
  }

  @Test
  void aReadTransactionReadsOneVersionWhateverCommitsMeanwhile() {
    ZVerseStore store = open();
    await(store.put("a", "1"));
    await(store.put("b", "1"));
    try (ReadTransaction tx = store.readTransaction()) {
      await(store.put("a", "2"));
      await(store.delete("b"));
      await(store.put("c", "2"));

      assertEquals(2, tx.version());
      assertEquals("1", tx.snapshot().get("a"));
      assertEquals("1", tx.snapshot().get("b"));
      assertNull(tx.snapshot().get("c"));
      assertEquals(2, tx.snapshot().count(KeyRange.all()));
      assertEquals(2, tx.snapshot().scan(KeyRange.all()).size());
      assertEquals("b", tx.snapshot().scan(KeyRange.all(), Direction.REVERSE, 1).get(0).keyUtf8());
      assertTrue(tx.snapshot().iterator(KeyRange.all(), Direction.FORWARD).hasNext());
      assertEquals(1, tx.snapshot().history("a", 0, tx.version()).size());
      assertEquals(1, tx.snapshot().entry("a").modVersion());
      assertEquals("2", store.get("a"));
    }
  }

  @Test
  void closingAReadTransactionTwiceIsHarmlessButUsingItAfterwardsIsNot() {
    ZVerseStore store = open();
    await(store.put("a", "1"));
    ReadTransaction tx = store.readTransaction();
    tx.close();
    tx.close();

    assertTrue(tx.isClosed());
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> tx.snapshot().get("a"));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    assertThrows(IllegalStateException.class, tx::version);
    assertThrows(IllegalStateException.class, tx::snapshot);
    assertThrows(IllegalStateException.class, () -> tx.snapshot().scan(KeyRange.all()));
    assertThrows(IllegalStateException.class, () -> tx.snapshot().entry("a"));
    assertThrows(IllegalStateException.class, () -> tx.snapshot().history("a", 0, 1));
  }

  @Test
  void changesInAKeyRangeBetweenTwoVersionsAreTheSameWithAndWithoutTheZIndex() {
    ZVerseStore indexed = kit.open(kit.settings().withZIndex(z -> z.withSegmentEntries(4)));
    ZVerseStore plain = kit.open(kit.settings().withZIndex(z -> z.withEnabled(false)));
    for (ZVerseStore store : List.of(indexed, plain)) {
      for (int i = 0; i < 40; i++) {
        await(store.put((i % 2 == 0 ? "orders/" : "users/") + (i % 5), "v" + i));
      }
      await(store.delete("orders/0"));
    }

    List<Change> changes = indexed.snapshot().changes(KeyRange.prefix("orders/"), 11, 41);
    assertEquals(plain.snapshot().changes(KeyRange.prefix("orders/"), 11, 41), changes);
    assertEquals(16, changes.size(), changes.toString());
    assertTrue(changes.stream().allMatch(c -> c.keyUtf8().startsWith("orders/")));
    assertEquals(41, changes.get(changes.size() - 1).version());
    assertTrue(changes.get(changes.size() - 1).isDelete());
    try (ReadTransaction tx = indexed.readTransaction()) {
      assertEquals(changes, tx.snapshot().changes(KeyRange.prefix("orders/"), 11, 41));
    }
  }

  @Test
  void versionAtFindsTheNewestVersionCommittedAtOrBeforeAnInstant() {
    Instant t = Instant.parse("2026-11-29T12:00:00Z");
    ManualClock clock = new ManualClock(t);
    ZVerseStore store = kit.open(kit.settings().withClock(clock));
    Instant beforeAll = t.minusSeconds(1);
    await(store.put("k", "1")); // at t
    Instant between = clock.move(Duration.ofMillis(20));
    clock.move(Duration.ofMillis(20));
    await(store.put("k", "2"));
    await(store.put("k", "3"));

    assertEquals(0, store.snapshot().versionAt(beforeAll));
    assertEquals(1, store.snapshot().versionAt(between));
    assertEquals(3, store.snapshot().versionAt(clock.instant().plusSeconds(1)));
    assertEquals("1", store.snapshot().get("k", store.snapshot().versionAt(between)));
  }

  @Test
  void callsAfterCloseThrowIllegalStateException() {
    ZVerseStore store = open();
    await(store.put("k", "v"));
    ReadTransaction open = store.readTransaction();
    CompletionStage<?> closing = store.close();
    await(closing);

    assertTrue(store.isClosed());
    List<Runnable> calls =
        List.of(
            store::snapshot,
            store::version,
            store::readTransaction,
            store::epochStats,
            () -> store.get("k"),
            () -> store.snapshot().get("k", 1),
            () -> store.get(new byte[] {1}),
            () -> store.snapshot().entry("k"),
            () -> store.snapshot().scan(KeyRange.all()),
            () -> store.snapshot().history("k", 0, 1),
            () -> store.snapshot().versionAt(Instant.now()),
            () -> store.put("k", "w"),
            () -> store.delete("k"),
            () -> store.write(WriteBatch.ofPut("k", "w")),
            () ->
                store.write(
                    WriteBatch.ofPut("k", "w"),
                    kit.testKit.<WriteReply>createTestProbe().getRef()));
    for (Runnable call : calls) {
      IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
      assertTrue(e.getMessage().contains("is closed"), e.getMessage());
    }
    assertTrue(
        store.close().toCompletableFuture().isDone(), "closing again returns the completed stage");
    assertEquals(
        "v",
        open.snapshot().get("k"),
        "a read transaction reads its own snapshot after the store closed");
    open.close();
  }

  @Test
  void aNameIsOpenOnceAtATimeAndCanBeReopenedAfterClose() {
    String name = StoreTestKit.freshName("named");
    ZVerseStore first = ZVerseStore.open(kit.testKit.system(), name);
    await(first.put("k", "v"));

    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> ZVerseStore.open(kit.testKit.system(), name));
    assertTrue(e.getMessage().contains(name), e.getMessage());

    await(first.close());
    ZVerseStore second = ZVerseStore.open(kit.testKit.system(), name);
    assertEquals(0, second.version(), "a reopened store starts empty");
    assertEquals(1, await(second.put("k", "w")));
    await(second.close());
  }

  @Test
  void malformedNamesAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ZVerseStore.open(kit.testKit.system(), "a.b"));
    assertTrue(e.getMessage().contains("[A-Za-z0-9][A-Za-z0-9_-]*"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ZVerseStore.open(kit.testKit.system(), ""));
    assertThrows(NullPointerException.class, () -> ZVerseStore.open(kit.testKit.system(), null));
  }

  @Test
  void coordinatedShutdownClosesTheStore() {
    StoreTestKit own = StoreTestKit.create();
    ZVerseStore store = ZVerseStore.open(own.testKit.system(), "orders");
    await(store.put("k", "v"));
    CompletionStage<?> pending = store.put("k", "w");

    own.shutdown();

    assertTrue(store.isClosed());
    assertEquals(2L, await(pending), "a write in flight at shutdown is committed");
    assertTrue(store.close().toCompletableFuture().isDone(), "the store's actors have stopped");
    assertThrows(IllegalStateException.class, () -> store.get("k"));
  }

  @Test
  void settingsComeFromTheStoresOwnSectionOverTheDefaults() {
    StoreTestKit own =
        StoreTestKit.create(
            ConfigFactory.parseString(
                "zverse.stores.small { max-key-bytes = 3, writer.max-pending-writes = 7 }"));
    try {
      ZVerseStore small = ZVerseStore.open(own.testKit.system(), "small");
      ZVerseStore other = ZVerseStore.open(own.testKit.system(), "other");
      assertEquals(3, small.settings().maxKeyBytes());
      assertEquals(7, small.settings().maxPendingWrites());
      assertEquals(1000, small.settings().retentionVersions(), "not overridden: the default");
      assertEquals(4096, other.settings().maxKeyBytes());
      assertInstanceOf(IllegalArgumentException.class, awaitFailure(small.put("abcd", "v")));
      assertSame(other.settings(), other.settings());
    } finally {
      own.shutdown();
    }
  }

  @Test
  void nullArgumentsAreRefusedWithTheirName() {
    ZVerseStore store = open();
    NullPointerException e = assertThrows(NullPointerException.class, () -> store.write(null));
    assertEquals("batch", e.getMessage());
    assertThrows(NullPointerException.class, () -> store.write(WriteBatch.ofPut("k", "v"), null));
    assertThrows(NullPointerException.class, () -> store.put((String) null, "v"));
    assertThrows(NullPointerException.class, () -> store.snapshot().versionAt(null));
    assertFalse(store.isClosed());
  }

  /**
   * A publish listener that throws, even an Error such as a failed assertion, is logged and
   * ignored: every write is still answered with its version, and close completes.
   */
  @Test
  void aThrowingPublishListenerNeitherStopsNorRestartsTheWriter() {
    ZVerseStore store = kit.open(kit.settings());
    AtomicInteger published = new AtomicInteger();
    AtomicInteger stopped = new AtomicInteger();
    store
        .advanced()
        .addPublishListener(
            new PublishListener() {
              @Override
              public void published(Snapshot snapshot) {
                published.incrementAndGet();
                throw new AssertionError("listener bug on version " + snapshot.version());
              }

              @Override
              public void stopped(Snapshot last) {
                stopped.incrementAndGet();
                throw new IllegalStateException("listener bug at stop");
              }
            });
    for (long v = 1; v <= 5; v++) {
      assertEquals(v, await(store.put("k", "v" + v)));
    }
    assertEquals("v5", store.get("k"));
    assertEquals(5, published.get(), "one publish per awaited put");
    await(store.close());
    assertEquals(1, stopped.get());
  }
}
