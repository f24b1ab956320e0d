package dev.zverse.persistence;

import static dev.zverse.persistence.PersistenceTestKit.await;
import static dev.zverse.persistence.PersistenceTestKit.awaitFailure;
import static dev.zverse.persistence.PersistenceTestKit.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.VersionCompactedException;
import dev.zverse.streams.ChangeFeedCompactedException;
import dev.zverse.testkit.ZVerseTestKit;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.javadsl.DurableStateStoreQuery;
import org.apache.pekko.persistence.state.DurableStateStoreRegistry;
import org.apache.pekko.persistence.state.exception.DeleteRevisionException;
import org.apache.pekko.persistence.state.javadsl.GetObjectResult;
import org.apache.pekko.persistence.state.scaladsl.DurableStateUpdateStore;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import scala.Option;
import scala.jdk.javaapi.FutureConverters;

/**
 * What Pekko's durable state stores promise (the JDBC plug-in, {@code
 * PersistenceTestKitDurableStateStore}, the {@code DurableStateUpdateStore} and {@code
 * DurableStateStoreQuery} contracts), checked on the ZVerse plug-in.
 */
class DurableStateContractTest {
  private static final String TIME_BASED_UUID = "49225740-2019-11ea-a752-ffae2393b6e4";
  private static PersistenceTestKit kit;

  @BeforeAll
  static void start() {
    kit = new PersistenceTestKit();
  }

  @AfterAll
  static void stop() {
    kit.shutdown();
  }

  /**
   * The two queries that follow the objects {@code E|...} written under tag {@code t}: by the tag,
   * and by every slice of entity type {@code E}; the tests of replay, live and completion run on
   * both.
   */
  enum Follow {
    BY_TAG,
    BY_SLICES;

    Source<DurableStateChange<Object>, NotUsed> current(
        ZVerseDurableStateStore<Object> s, Offset from) {
      return this == BY_TAG
          ? s.currentChanges("t", from)
          : s.currentChangesBySlices("E", 0, 1023, from);
    }

    Source<DurableStateChange<Object>, NotUsed> live(
        ZVerseDurableStateStore<Object> s, Offset from) {
      return this == BY_TAG ? s.changes("t", from) : s.changesBySlices("E", 0, 1023, from);
    }
  }

  private static GetObjectResult<Object> get(ZVerseDurableStateStore<Object> s, String id) {
    return await(s.getObject(id));
  }

  private static void upsert(
      ZVerseDurableStateStore<Object> s, String id, long rev, Object v, String tag) {
    await(s.upsertObject(id, rev, v, tag));
  }

  @Test
  void theConfiguredPluginIsTheOneBothRegistriesAnswer() {
    DurableStateStoreRegistry registry = registry();
    @SuppressWarnings("unchecked")
    ZVerseDurableStateStore<Object> javadsl =
        registry.getDurableStateStoreFor(ZVerseDurableStateStore.class, "");
    DurableStateUpdateStore<Object> scaladsl =
        registry.durableStateStoreFor("zverse.persistence.state");
    assertEquals("durable-state", javadsl.store().name());

    upsert(javadsl, "registry-1", 1, "hello", "");
    var read = await(FutureConverters.asJava(scaladsl.getObject("registry-1")));
    assertEquals("hello", read.value().get());
    assertEquals(1, read.revision());
    await(FutureConverters.asJava(scaladsl.upsertObject("registry-1", 2, "again", "")));
    assertEquals(new GetObjectResult<>(Optional.of("again"), 2), get(javadsl, "registry-1"));
    assertInstanceOf(
        org.apache.pekko.persistence.query.scaladsl.DurableStateStoreQuery.class, scaladsl);
    assertInstanceOf(DurableStateStoreQuery.class, javadsl);
  }

  @Test
  void thePluginSharesAStoreTheApplicationOpenedThroughTheRegistry() {
    ZVerseStore opened = ZVerse.get(kit.system()).open("opened-by-the-application");
    ZVerseDurableStateStore<Object> plugin = kit.plugin("opened-by-the-application");
    assertSame(opened, plugin.store());
    assertSame(plugin.store(), kit.plugin("opened-by-the-application").store());
    assertSame(opened, ZVerse.get(kit.system()).store("opened-by-the-application").orElseThrow());
  }

  @Test
  void anObjectNeverWrittenHasNoValueAndRevisionZero() {
    assertEquals(new GetObjectResult<>(Optional.empty(), 0), get(kit.freshPlugin(), "nobody"));
  }

  @Test
  void readsSeeTheirOwnUpserts() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    for (int rev = 1; rev <= 5; rev++) {
      upsert(s, "p", rev, "v" + rev, "t");
      assertEquals(new GetObjectResult<>(Optional.of("v" + rev), rev), get(s, "p"));
    }
  }

  @Test
  void stateGoesThroughTheConfiguredSerializerAndIsStoredWithItsIdAndManifest() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    Cart cart = new Cart(List.of("apple", "pear"));
    upsert(s, "cart-1", 1, cart, "carts");
    assertEquals(new GetObjectResult<>(Optional.of(cart), 1), get(s, "cart-1"));

    List<Entry> stored = s.store().snapshot().scan(KeyRange.prefix("pekko-state/t/"));
    assertEquals(1, stored.size());
    StateRecord r = StateRecord.decode(stored.get(0).value());
    assertEquals(Cart.Serializer.ID, r.serializerId());
    assertEquals("cart-v1", r.manifest());
    assertEquals("apple,pear", new String(r.payload(), java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void aStateWithoutASerializerFailsTheUpsertAndChangesNothing() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    Throwable e = awaitFailure(s.upsertObject("p", 1, new Object(), "t"));
    assertTrue(
        e.getMessage().contains("java.lang.Object"), "the refusal does not name the class: " + e);
    assertEquals(0, s.store().version());
    assertEquals(new GetObjectResult<>(Optional.empty(), 0), get(s, "p"));
  }

  @Test
  void theScalaDslQueriesAreTheJavaDslQueries() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    upsert(s, "a", 1, "a1", "t");
    upsert(s, "b", 1, "b1", "t");
    var scaladsl = new ScalaDurableStateStore<>(s);
    List<String> scala =
        kit.collect(scaladsl.currentChanges("t", Offset.noOffset()).asJava()).stream()
            .map(PersistenceTestKit::describe)
            .toList();
    assertEquals(texts(s.currentChanges("t", Offset.noOffset())), scala);
    List<String> live =
        kit.collect(scaladsl.changes("t", Offset.sequence(0)).asJava().take(2)).stream()
            .map(PersistenceTestKit::describe)
            .toList();
    assertEquals(scala, live);
  }

  @Test
  void anUpsertWithAStaleOrSkippedRevisionFailsNamingTheIdAndRevisionsAndChangesNothing() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    upsert(s, "p-1", 1, "a", "t");
    upsert(s, "p-1", 2, "b", "t");
    long version = s.store().version();

    for (long stale : new long[] {1, 2, 4}) {
      Throwable e = awaitFailure(s.upsertObject("p-1", stale, "x", "t"));
      RevisionConflictException c = assertInstanceOf(RevisionConflictException.class, e);
      assertEquals("p-1", c.persistenceId());
      assertEquals(stale, c.revision());
      assertEquals(2, c.currentRevision());
      assertTrue(
          c.getMessage().contains("[" + stale + "]")
              && c.getMessage().contains("[p-1]")
              && c.getMessage().contains("expected [3]"),
          c.getMessage());
    }
    assertEquals(new GetObjectResult<>(Optional.of("b"), 2), get(s, "p-1"));
    assertEquals(version, s.store().version(), "a refused upsert took a version");

    Throwable fresh = awaitFailure(s.upsertObject("p-2", 2, "x", "t"));
    assertEquals(0, assertInstanceOf(RevisionConflictException.class, fresh).currentRevision());
  }

  @Test
  void badArgumentsAreRefusedNamingTheArgument() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> s.upsertObject("p", 0, "x", "t"));
    assertEquals("revision must be >= 1, was 0", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.deleteObject("p", -1));
    assertThrows(NullPointerException.class, () -> s.upsertObject(null, 1, "x", "t"));
    assertThrows(NullPointerException.class, () -> s.upsertObject("p", 1, null, "t"));
    IllegalArgumentException o =
        assertThrows(
            IllegalArgumentException.class,
            () -> s.currentChanges("t", Offset.timeBasedUUID(UUID.fromString(TIME_BASED_UUID))));
    assertTrue(
        o.getMessage().startsWith("offset must be NoOffset or Offset.sequence(version)"),
        o.getMessage());
    assertEquals(0, s.store().version());
  }

  @Test
  void anIdOrStateOverTheStoresLimitsFailsTheWriteAndChangesNothing() {
    ZVerseDurableStateStore<Object> s = kit.plugin("small");
    upsert(s, "p", 1, "fits", "t");
    long version = s.store().version();
    String longId = "x".repeat(64);
    for (CompletionStage<Done> refused :
        List.of(
            s.upsertObject(longId, 1, "v", "t"),
            s.deleteObject(longId, 1),
            s.upsertObject("p", 2, "v".repeat(200), "t"))) {
      Throwable e = awaitFailure(refused);
      assertInstanceOf(IllegalArgumentException.class, e);
      assertTrue(e.getMessage().contains("64") || e.getMessage().contains("100"), e.getMessage());
    }
    assertEquals(version, s.store().version());
    assertEquals(new GetObjectResult<>(Optional.of("fits"), 1), get(s, "p"));
  }

  @Test
  void aDeleteChecksTheRevisionAndKeepsItForTheNextUpsert() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    upsert(s, "p", 1, "a", "t");
    upsert(s, "p", 2, "b", "t");

    for (long wrong : new long[] {2, 4}) {
      Throwable e = awaitFailure(s.deleteObject("p", wrong));
      assertInstanceOf(DeleteRevisionException.class, e);
      assertTrue(
          e.getMessage().contains("persistenceId [p] and revision [" + wrong + "]")
              && e.getMessage().contains("[2], so expected [3]"),
          e.getMessage());
    }
    assertEquals(new GetObjectResult<>(Optional.of("b"), 2), get(s, "p"));

    await(s.deleteObject("p", 3));
    assertEquals(new GetObjectResult<>(Optional.empty(), 3), get(s, "p"));
    upsert(s, "p", 4, "c", "t");
    assertEquals(new GetObjectResult<>(Optional.of("c"), 4), get(s, "p"));
  }

  @Test
  @SuppressWarnings("deprecation")
  void theDeprecatedDeleteRemovesTheObjectAndItsRevision() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    upsert(s, "p", 1, "a", "t");
    await(s.deleteObject("p"));
    assertEquals(new GetObjectResult<>(Optional.empty(), 0), get(s, "p"));
    await(s.deleteObject("never-written"));
    upsert(s, "p", 1, "again", "t");
    assertEquals(new GetObjectResult<>(Optional.of("again"), 1), get(s, "p"));
  }

  @Test
  void concurrentUpsertsOfOneRevisionLetExactlyOneWin() throws Exception {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    int writers = 8;
    int rounds = 30;
    for (int round = 1; round <= rounds; round++) {
      long rev = round;
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<CompletionStage<Done>>> sent = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        String value = "r" + round + "w" + w;
        sent.add(
            CompletableFuture.supplyAsync(
                () -> {
                  awaitLatch(go);
                  return s.upsertObject("contended", rev, value, "t");
                }));
      }
      go.countDown();
      int won = 0;
      for (CompletableFuture<CompletionStage<Done>> f : sent) {
        CompletableFuture<Done> result = f.get().toCompletableFuture();
        try {
          result.get();
          won++;
        } catch (ExecutionException e) {
          RevisionConflictException c =
              assertInstanceOf(RevisionConflictException.class, e.getCause());
          assertEquals(rev, c.currentRevision(), "the loser saw the winner's revision");
        }
      }
      assertEquals(1, won, "round " + round);
      GetObjectResult<Object> now = get(s, "contended");
      assertEquals(rev, now.revision());
      assertTrue(((String) now.value().get()).startsWith("r" + round + "w"), now.toString());
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void currentChangesListTheLatestChangeOfEachObjectOfTheTagFromAnyOffset() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    long base = s.store().version();
    upsert(s, "a", 1, "a1", "blue"); // base + 1
    upsert(s, "b", 1, "b1", "blue"); // + 2
    upsert(s, "c", 1, "c1", "green"); // + 3
    upsert(s, "a", 2, "a2", "blue"); // + 4
    await(s.deleteObject("b", 2)); // + 5
    upsert(s, "c", 2, "c2", "blue"); // + 6: c moves from green to blue

    assertEquals(
        List.of("a@2=a2@" + (base + 4), "b@2 deleted@" + (base + 5), "c@2=c2@" + (base + 6)),
        texts(s.currentChanges("blue", Offset.noOffset())));
    assertEquals(
        texts(s.currentChanges("blue", Offset.noOffset())),
        texts(s.currentChanges("blue", Offset.sequence(base))));
    assertEquals(
        List.of("b@2 deleted@" + (base + 5), "c@2=c2@" + (base + 6)),
        texts(s.currentChanges("blue", Offset.sequence(base + 4))));
    assertEquals(List.of(), texts(s.currentChanges("blue", Offset.sequence(base + 6))));
    assertEquals(List.of(), texts(s.currentChanges("green", Offset.noOffset())));
    assertEquals(List.of(), texts(s.currentChanges("green", Offset.sequence(base))));
    assertEquals(List.of(), texts(s.currentChanges("no-such-tag", Offset.noOffset())));
  }

  @ParameterizedTest
  @EnumSource(Follow.class)
  void currentChangesCompleteAtTheVersionOfTheirStart(Follow query) {
    for (Offset from : List.of(Offset.sequence(0), Offset.noOffset())) {
      ZVerseDurableStateStore<Object> s = kit.freshPlugin();
      upsert(s, "E|a", 1, "a1", "t");
      long started = s.store().version();
      ZVerseTestKit.Pull<DurableStateChange<Object>> p = kit.pull(query.current(s, from));
      assertEquals("E|a@1=a1@" + started, describe(p.next()));
      upsert(s, "E|b", 1, "b1", "t");
      assertTrue(p.completed(), "a current query from " + from + " went on past its start");
    }
  }

  @ParameterizedTest
  @EnumSource(Follow.class)
  void changesReplayThenFollowLiveWithNoGapAndNoDuplicate(Follow query) {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    long base = s.store().version();
    upsert(s, "E|a", 1, "a1", "t");
    upsert(s, "E|b", 1, "b1", "t");
    upsert(s, "E|a", 2, "a2", "t");
    upsert(s, "F|x", 1, "x1", "other");

    ZVerseTestKit.Pull<DurableStateChange<Object>> fromStart =
        kit.pull(query.live(s, Offset.noOffset()));
    ZVerseTestKit.Pull<DurableStateChange<Object>> fromOffset =
        kit.pull(query.live(s, Offset.sequence(base + 1)));
    // From the start: the objects at the latest version, oldest change first.
    assertEquals("E|b@1=b1@" + (base + 2), describe(fromStart.next()));
    assertEquals("E|a@2=a2@" + (base + 3), describe(fromStart.next()));
    // From an offset: every change after it (the live query is not collapsed per object).
    assertEquals("E|b@1=b1@" + (base + 2), describe(fromOffset.next()));
    assertEquals("E|a@2=a2@" + (base + 3), describe(fromOffset.next()));

    upsert(s, "E|b", 2, "b2", "t");
    await(s.deleteObject("E|a", 3));
    upsert(s, "F|y", 1, "y1", "other");
    upsert(s, "E|z", 1, "z1", "t");
    for (ZVerseTestKit.Pull<DurableStateChange<Object>> p : List.of(fromStart, fromOffset)) {
      assertEquals("E|b@2=b2@" + (base + 5), describe(p.next()));
      assertEquals("E|a@3 deleted@" + (base + 6), describe(p.next()));
      assertEquals("E|z@1=z1@" + (base + 8), describe(p.next()));
      p.cancel();
    }
  }

  @ParameterizedTest
  @EnumSource(Follow.class)
  void changesAreBackPressured(Follow query) {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    int n = 20;
    for (int i = 1; i <= n; i++) {
      upsert(s, "E|p" + i, 1, "v", "t");
    }
    for (Offset from : List.of(Offset.sequence(0), Offset.noOffset())) {
      ZVerseTestKit.Pull<DurableStateChange<Object>> p = kit.pull(query.live(s, from));
      for (int pulled = 1; pulled <= n; pulled++) {
        p.next();
        // The queue asks for one element ahead; anything more was pushed without demand.
        int emitted = p.emitted().get();
        assertTrue(emitted <= pulled + 1, emitted + " emitted, " + pulled + " pulled");
      }
      p.cancel();
    }
  }

  /**
   * An offset whose following changes retention pruned fails every query from it with the compacted
   * error, naming the offset and the watermark: listing the objects changed since would hand a
   * consumer a history with holes it cannot see. The offset just below the watermark (its next
   * change is retained) still replays, and {@code NoOffset} still starts from the retained state.
   * Reading an object below the watermark fails too.
   */
  @Test
  void anOffsetBelowTheWatermarkFailsWithTheCompactedErrorAndNeverSkips() {
    ZVerseDurableStateStore<Object> s = kit.plugin("short-history");
    upsert(s, "q", 1, "q1", "t");
    long qVersion = s.store().version();
    for (int rev = 1; rev <= 10; rev++) {
      upsert(s, "p", rev, "v" + rev, "t");
    }
    long latest = s.store().version();
    // The epoch actor prunes on its ticks, in steps; this waits for the last step (the watermark
    // retention alone gives, nothing being pinned), an event, not for time to pass.
    long deadline = System.nanoTime() + PersistenceTestKit.TIMEOUT.toNanos();
    while (s.store().snapshot().watermark() < s.store().retentionWatermark()
        && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    long watermark = s.store().snapshot().watermark();
    assertTrue(watermark >= qVersion + 5, "the epoch actor did not prune: watermark " + watermark);

    for (long pruned : new long[] {0, qVersion, watermark - 2}) {
      List<Source<DurableStateChange<Object>, NotUsed>> queries =
          List.of(
              s.currentChanges("t", Offset.sequence(pruned)),
              s.changes("t", Offset.sequence(pruned)),
              s.currentChangesBySlices("", 0, 1023, Offset.sequence(pruned)),
              s.changesBySlices("", 0, 1023, Offset.sequence(pruned)));
      for (Source<DurableStateChange<Object>, NotUsed> query : queries) {
        Throwable e = awaitFailure(query.runWith(Sink.seq(), kit.system()));
        ChangeFeedCompactedException compacted =
            assertInstanceOf(ChangeFeedCompactedException.class, e, "offset " + pruned);
        assertEquals(pruned, compacted.afterVersion());
        assertEquals(pruned + 1, compacted.requestedVersion());
        assertTrue(compacted.watermark() >= watermark, e.getMessage());
        assertTrue(e.getMessage().contains("after version " + pruned), e.getMessage());
      }
    }
    // The offset whose next change is at the watermark replays it: nothing there was pruned.
    List<String> fromEdge = texts(s.currentChanges("t", Offset.sequence(watermark - 1)));
    assertEquals("p@10=v10@" + latest, fromEdge.get(fromEdge.size() - 1));
    // NoOffset starts from the retained state: both objects, oldest change first.
    assertEquals(
        List.of("q@1=q1@" + qVersion, "p@10=v10@" + latest),
        texts(s.currentChanges("t", Offset.noOffset())));
    ZVerseTestKit.Pull<DurableStateChange<Object>> live =
        kit.pull(s.changes("t", Offset.noOffset()));
    assertEquals("q@1=q1@" + qVersion, PersistenceTestKit.describe(live.next()));
    assertEquals("p@10=v10@" + latest, PersistenceTestKit.describe(live.next()));
    upsert(s, "q", 2, "q2", "t"); // then live, after the listed version
    assertEquals("q@2=q2@" + s.store().version(), PersistenceTestKit.describe(live.next()));
    live.cancel();

    assertEquals(
        watermark - 1,
        assertThrows(VersionCompactedException.class, () -> s.getObject("p", watermark - 1))
            .requestedVersion());
  }

  @Test
  void anOffsetAfterTheLatestVersionIsRefused() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    Throwable e =
        awaitFailure(s.currentChanges("t", Offset.sequence(5)).runWith(Sink.seq(), kit.system()));
    assertInstanceOf(IllegalArgumentException.class, e);
    assertTrue(e.getMessage().contains("was 5"), e.getMessage());
  }

  @Test
  void anObjectCanBeReadAtAnyRetainedVersion() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    upsert(s, "p", 1, "first", "t");
    long v1 = s.store().version();
    upsert(s, "p", 2, "second", "u");
    long v2 = s.store().version();
    await(s.deleteObject("p", 3));

    assertEquals(new GetObjectResult<>(Optional.empty(), 0), s.getObject("p", v1 - 1));
    assertEquals(new GetObjectResult<>(Optional.of("first"), 1), s.getObject("p", v1));
    assertEquals(new GetObjectResult<>(Optional.of("second"), 2), s.getObject("p", v2));
    assertEquals(new GetObjectResult<>(Optional.empty(), 3), s.getObject("p", s.store().version()));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> s.getObject("p", s.store().version() + 1));
    assertTrue(e.getMessage().startsWith("atVersion must be in ["), e.getMessage());
  }

  /**
   * Every timestamp is the store's clock's reading when the upsert or delete was asked for: the
   * clock the actor system's {@code ZVerseSetup} gave the store, which the test moves by hand.
   */
  @Test
  void timestampsComeFromTheStoresClock() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    assertSame(kit.now.get(), s.store().settings().clock().instant());
    Instant t1 = PersistenceTestKit.START.plusSeconds(3600).plusMillis(7);
    kit.now.set(t1);
    upsert(s, "E|p", 1, "v", "t");
    Instant t2 = t1.plusSeconds(1);
    kit.now.set(t2);
    await(s.deleteObject("E|q", 1));
    long v = s.store().version();
    kit.now.set(t2.plusSeconds(60)); // reading the changes later does not restamp them

    List<String> expected =
        List.of(
            "E|p@1=v@" + (v - 1) + " at " + t1.toEpochMilli(),
            "E|q@1 deleted@" + v + " at " + t2.toEpochMilli());
    assertEquals(expected.subList(0, 1), timed(s.currentChanges("t", Offset.noOffset())));
    assertEquals(expected, timed(s.currentChangesBySlices("E", 0, 1023, Offset.noOffset())));
    assertEquals(expected, timed(s.changesBySlices("E", 0, 1023, Offset.sequence(0)).take(2)));
    assertEquals(expected.subList(0, 1), timed(s.changes("t", Offset.sequence(0)).take(1)));
  }

  // ---------------------------------------------------------------- by slices

  @Test
  void bySliceQueriesChooseObjectsByEntityTypeAndSliceWhateverTheirTag() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    long base = s.store().version();
    upsert(s, "Cart|a", 1, "ca", "red"); // base + 1
    upsert(s, "Order|a", 1, "oa", "red"); // + 2
    upsert(s, "Cart|b", 1, "cb", "blue"); // + 3
    upsert(s, "plain", 1, "p", ""); // + 4: entity type ""
    upsert(s, "Cart|a", 2, "ca2", "blue"); // + 5: moves from red to blue
    await(s.deleteObject("Cart|b", 2)); // + 6
    upsert(s, "Carts|x", 1, "other", "red"); // + 7: another type sharing the name's start
    int a = s.sliceForPersistenceId("Cart|a");
    int b = s.sliceForPersistenceId("Cart|b");
    assertTrue(a != b, "the test needs two slices");

    List<String> carts = List.of("Cart|a@2=ca2@" + (base + 5), "Cart|b@2 deleted@" + (base + 6));
    assertEquals(carts, texts(s.currentChangesBySlices("Cart", 0, 1023, Offset.noOffset())));
    assertEquals(
        carts.subList(0, 1), texts(s.currentChangesBySlices("Cart", a, a, Offset.noOffset())));
    assertEquals(
        carts.subList(1, 2), texts(s.currentChangesBySlices("Cart", b, b, Offset.sequence(base))));
    assertEquals(
        carts.subList(1, 2),
        texts(s.currentChangesBySlices("Cart", 0, 1023, Offset.sequence(base + 5))));
    assertEquals(
        List.of("plain@1=p@" + (base + 4)),
        texts(s.currentChangesBySlices("", 0, 1023, Offset.noOffset())));
    assertEquals(
        List.of("Carts|x@1=other@" + (base + 7)),
        texts(s.currentChangesBySlices("Carts", 0, 1023, Offset.sequence(base))));
    assertEquals(List.of(), texts(s.currentChangesBySlices("Nope", 0, 1023, Offset.noOffset())));
    assertEquals(
        List.of(
            "Cart|a@1=ca@" + (base + 1),
            "Cart|b@1=cb@" + (base + 3),
            "Cart|a@2=ca2@" + (base + 5),
            "Cart|b@2 deleted@" + (base + 6)),
        texts(s.changesBySlices("Cart", 0, 1023, Offset.sequence(base)).take(4)));
  }

  @Test
  void slicesAreThoseOfPekkosPersistenceExtension() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    Persistence persistence = Persistence.get(Adapter.toClassic(kit.system()));
    for (String id : List.of("", "a", "Cart|1", "pid-1", "pid-2", "Ünïcödé|😀", "x".repeat(40))) {
      assertEquals(persistence.sliceForPersistenceId(id), s.sliceForPersistenceId(id), id);
    }
    var scaladsl = new ScalaDurableStateStore<>(s);
    for (int n : new int[] {1, 2, 4, 128, 1024}) {
      assertEquals(persistence.getSliceRanges(n), s.sliceRanges(n));
      assertEquals(persistence.sliceRanges(n), scaladsl.sliceRanges(n));
    }
    assertEquals(Math.abs("Cart|1".hashCode() % 1024), scaladsl.sliceForPersistenceId("Cart|1"));
  }

  @Test
  void badSliceArgumentsAreRefusedNamingTheArgumentAndLimit() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    for (int n : new int[] {0, -4, 3, 2048}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> s.sliceRanges(n));
      assertEquals(
          "numberOfRanges must be a divisor of the 1024 slices, in [1, 1024], was " + n,
          e.getMessage());
      assertThrows(
          IllegalArgumentException.class, () -> new ScalaDurableStateStore<>(s).sliceRanges(n));
    }
    assertEquals(
        "minSlice must be in [0, 1023], was -1",
        assertThrows(
                IllegalArgumentException.class,
                () -> s.currentChangesBySlices("E", -1, 5, Offset.noOffset()))
            .getMessage());
    assertEquals(
        "maxSlice must be in [minSlice, 1023] = [5, 1023], was 4",
        assertThrows(
                IllegalArgumentException.class,
                () -> s.changesBySlices("E", 5, 4, Offset.noOffset()))
            .getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> s.changesBySlices("E", 0, 1024, Offset.noOffset()));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            s.currentChangesBySlices(
                "E", 0, 1023, Offset.timeBasedUUID(UUID.fromString(TIME_BASED_UUID))));
    assertThrows(
        NullPointerException.class, () -> s.changesBySlices(null, 0, 1, Offset.noOffset()));
    assertThrows(NullPointerException.class, () -> s.sliceForPersistenceId(null));
  }

  @Test
  void theScalaDslBySliceAndPersistenceIdQueriesAreTheJavaDsls() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    upsert(s, "E|a", 1, "a1", "t");
    upsert(s, "E|b", 1, "b1", "u");
    var scaladsl = new ScalaDurableStateStore<>(s);
    List<String> java = texts(s.currentChangesBySlices("E", 0, 1023, Offset.noOffset()));
    assertEquals(2, java.size());
    assertEquals(
        java, texts(scaladsl.currentChangesBySlices("E", 0, 1023, Offset.noOffset()).asJava()));
    assertEquals(
        java, texts(scaladsl.changesBySlices("E", 0, 1023, Offset.sequence(0)).asJava().take(2)));
    assertEquals(
        List.of("E|b"),
        kit.collect(scaladsl.currentPersistenceIds(Option.apply("E|a"), 10).asJava()));
    assertEquals(
        List.of("E|a"), kit.collect(scaladsl.currentPersistenceIds(Option.empty(), 1).asJava()));
  }

  // ---------------------------------------------------------------- persistence ids

  @Test
  void currentPersistenceIdsPageInKeyOrder() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    for (String id : List.of("b", "A|2", "A|10", "c", "a")) {
      upsert(s, id, 1, "v", id.startsWith("A") ? "t" : "");
    }
    await(s.deleteObject("c", 2)); // deleted with a revision: it keeps it, and its id
    @SuppressWarnings("deprecation")
    CompletionStage<Done> removed = s.deleteObject("b"); // removed with its revision
    await(removed);

    List<String> all = List.of("A|10", "A|2", "a", "c");
    assertEquals(all, kit.collect(s.currentPersistenceIds(Optional.empty(), Long.MAX_VALUE)));
    assertEquals(all.subList(0, 2), kit.collect(s.currentPersistenceIds(Optional.empty(), 2)));
    assertEquals(all.subList(2, 4), kit.collect(s.currentPersistenceIds(Optional.of("A|2"), 2)));
    assertEquals(List.of(), kit.collect(s.currentPersistenceIds(Optional.of("c"), 2)));
    assertEquals(
        all.subList(2, 4),
        kit.collect(s.currentPersistenceIds(Optional.of("A|3"), 5)),
        "an id not stored pages from where it would be");
    assertEquals(
        List.of(), kit.collect(kit.freshPlugin().currentPersistenceIds(Optional.empty(), 5)));

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> s.currentPersistenceIds(Optional.empty(), 0));
    assertEquals("limit must be >= 1, was 0", e.getMessage());
    assertThrows(NullPointerException.class, () -> s.currentPersistenceIds(null, 1));
  }

  @Test
  void currentPersistenceIdsReadOneSnapshotTakenWhenTheStreamStarts() {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    for (String id : List.of("b", "d", "f")) {
      upsert(s, id, 1, "v", "");
    }
    Source<String, NotUsed> ids = s.currentPersistenceIds(Optional.empty(), Long.MAX_VALUE);
    upsert(s, "a", 1, "v", ""); // before the stream starts: seen
    ZVerseTestKit.Pull<String> p = kit.pull(ids);
    assertEquals("a", p.next());
    upsert(s, "c", 1, "v", ""); // after it started: not seen, nor is the removal of d
    @SuppressWarnings("deprecation")
    CompletionStage<Done> removed = s.deleteObject("d");
    await(removed);
    upsert(s, "e", 1, "v", "");
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      rest.add(p.next());
    }
    assertEquals(List.of("b", "d", "f"), rest);
    assertTrue(p.completed());
  }

  @Test
  void theProviderIsCreatedOncePerPluginAndSharesTheStore() {
    DurableStateStoreRegistry registry = registry();
    String path = "zverse.persistence.state";
    assertSame(
        registry.getDurableStateStoreFor(ZVerseDurableStateStore.class, path),
        registry.getDurableStateStoreFor(ZVerseDurableStateStore.class, path));
  }

  private static DurableStateStoreRegistry registry() {
    return DurableStateStoreRegistry.get(Adapter.toClassic(kit.system()));
  }

  private static List<String> texts(Source<DurableStateChange<Object>, NotUsed> src) {
    return kit.collect(src).stream().map(PersistenceTestKit::describe).toList();
  }

  private static List<String> timed(Source<DurableStateChange<Object>, NotUsed> src) {
    return kit.collect(src).stream().map(PersistenceTestKit::describeWithTime).toList();
  }
}
