package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static dev.zverse.actors.StoreTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.ScriptedApplier.InjectedFault;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

@ExtendWith(LogCapturingExtension.class)
class WriterFaultTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  /**
   * Pauses the writer in the first write of a group, so that what is sent next joins that group.
   */
  private static final class Group {
    final ScriptedApplier applier = new ScriptedApplier();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final WriteBatch first = WriteBatch.ofPut("first", "1");

    CompletionStage<Long> open(ZVerseStore store) throws InterruptedException {
      applier.pause(first, entered, release);
      CompletionStage<Long> v = store.write(first);
      entered.await();
      return v;
    }
  }

  @Test
  void aFaultFailsOnlyItsWriteAndNothingOfItIsPublished() throws Exception {
    Group group = new Group();
    ZVerseStore store = kit.open(kit.settings().withCallerRuns(false), group.applier);
    await(store.put("before", "0"));
    long publishesBefore =
        StoreTestKit.awaitStats(store, s -> s.version() == 1, "first write").publishes();
    InjectedFault fault = new InjectedFault("injected fault");
    WriteBatch poisoned = WriteBatch.ofPut("c", "3");
    group.applier.breakHalfway(poisoned, WriteBatch.ofPut("poison", "half-applied"), fault);

    CompletionStage<Long> a = group.open(store);
    CompletionStage<Long> b = store.put("b", "2");
    CompletionStage<Long> c = store.write(poisoned);
    CompletionStage<Long> d = store.put("d", "4");
    CompletionStage<Long> e = store.delete("before");
    LoggingTestKit.error("applying a write failed")
        .withCause(InjectedFault.class)
        .expect(
            kit.testKit.system(),
            () -> {
              group.release.countDown();
              return await(a);
            });

    assertSame(fault, awaitFailure(c), "the faulty write's caller gets the fault");
    assertEquals(
        List.of(2L, 3L, 4L, 5L),
        List.of(await(a), await(b), await(d), await(e)),
        "the others commit, with no version lost to the fault");
    Snapshot s = store.snapshot();
    assertEquals(5, s.version());
    assertTrue(s.history("poison", 0, 5).isEmpty(), "the half-applied change was never published");
    assertNull(s.get("c"));
    assertEquals("2", s.get("b"));
    assertEquals("4", s.get("d"));
    assertNull(s.get("before"));
    EpochStats stats = StoreTestKit.awaitStats(store, st -> st.version() == 5, "the group");
    assertEquals(publishesBefore + 1, stats.publishes(), "the group was published once");
    assertEquals(6, await(store.put("after", "6")), "the writer goes on");
    await(store.close());
  }

  @Test
  void aFaultInTheFirstWriteOfAGroupLeavesTheStoreAsItWas() {
    ScriptedApplier applier = new ScriptedApplier();
    ZVerseStore store = kit.open(kit.settings(), applier);
    await(store.put("k", "1"));
    WriteBatch poisoned = WriteBatch.ofPut("k", "2");
    InjectedFault fault = new InjectedFault("injected fault");
    applier.breakHalfway(poisoned, WriteBatch.ofDelete("k"), fault);

    Throwable failure =
        LoggingTestKit.error("applying a write failed")
            .expect(kit.testKit.system(), () -> awaitFailure(store.write(poisoned)));

    assertSame(fault, failure);
    assertEquals(1, store.version());
    assertEquals("1", store.get("k"));
    assertEquals(2, await(store.put("k", "3")));
    assertEquals(
        List.of("1", "3"),
        store.snapshot().history("k", 0, 2).stream()
            .map(ch -> ch.valueUtf8())
            .collect(Collectors.toList()));
    await(store.close());
  }

  @Test
  void whenTheReplayFailsTooTheWholeGroupFailsAndTheSupervisorRestartsTheWriter() throws Exception {
    Group group = new Group();
    ZVerseStore store = kit.open(kit.settings().withCallerRuns(false), group.applier);
    await(store.put("k", "0"));
    WriteBatch second = WriteBatch.ofPut("b", "2");
    group.applier.on(
        second,
        (tx, call) -> {
          if (call > 1) {
            throw new InjectedFault("injected replay fault");
          }
        });
    WriteBatch poisoned = WriteBatch.ofPut("c", "3");
    InjectedFault fault = new InjectedFault("injected fault");
    group.applier.breakHalfway(poisoned, WriteBatch.ofPut("poison", "x"), fault);

    CompletionStage<Long> a = group.open(store);
    CompletionStage<Long> b = store.write(second);
    CompletionStage<Long> c = store.write(poisoned);
    LoggingTestKit.error("injected replay fault")
        .expect(
            kit.testKit.system(),
            () -> {
              group.release.countDown();
              return awaitFailure(a);
            });
    CompletionStage<Long> d = store.put("d", "4");

    Throwable failedA = awaitFailure(a);
    assertInstanceOf(IllegalStateException.class, failedA);
    assertTrue(failedA.getMessage().contains("not applied"), failedA.getMessage());
    assertEquals("injected replay fault", failedA.getCause().getMessage());
    assertInstanceOf(IllegalStateException.class, awaitFailure(b));
    assertSame(fault, awaitFailure(c));
    assertEquals(2, await(d), "the restarted writer goes on from the last published snapshot");
    Snapshot s = store.snapshot();
    assertEquals(2, s.count(KeyRange.all(), 2), "k and d, nothing of the failed group");
    assertTrue(s.history("poison", 0, 2).isEmpty());
    assertNull(s.get("first"));
    await(store.close());
  }

  @Test
  void aRefusedBatchFailsOnlyItsWriterAndTheGroupGoesOn() throws Exception {
    Group group = new Group();
    ZVerseStore store =
        kit.open(kit.settings().withMaxKeyBytes(8).withCallerRuns(false), group.applier);

    CompletionStage<Long> a = group.open(store);
    CompletionStage<Long> conflict =
        store.write(WriteBatch.builder().requireAbsent("first").put("x", "y").build());
    CompletionStage<Long> tooLong = store.put("123456789", "v");
    CompletionStage<Long> b = store.put("b", "2");
    group.release.countDown();

    assertEquals(1, await(a));
    ConditionFailedException e =
        assertInstanceOf(ConditionFailedException.class, awaitFailure(conflict));
    assertEquals(1, e.failures().size());
    assertInstanceOf(IllegalArgumentException.class, awaitFailure(tooLong));
    assertEquals(2, await(b));
    assertNull(store.get("x"));
    await(store.close());
  }
}
