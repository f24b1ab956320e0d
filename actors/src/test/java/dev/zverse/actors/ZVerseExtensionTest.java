package dev.zverse.actors;

import static dev.zverse.actors.StoreTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.WriteBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The {@link ZVerse} extension as the registry of a system's stores, its setup, and WriteReply. */
@ExtendWith(LogCapturingExtension.class)
class ZVerseExtensionTest {
  @RegisterExtension static final StoreTestKit kit = StoreTestKit.create();

  @Test
  void aStoreOpenedEitherWayIsFoundByNameUntilClosed() {
    ZVerse zverse = ZVerse.get(kit.testKit.system());
    assertSame(zverse, ZVerse.get(kit.testKit.system()));
    String a = StoreTestKit.freshName("registry");
    String b = StoreTestKit.freshName("registry");
    assertEquals(Optional.empty(), zverse.store(a));

    ZVerseStore storeA = zverse.open(a);
    ZVerseStore storeB = ZVerseStore.open(kit.testKit.system(), b);
    assertSame(storeA, zverse.store(a).orElseThrow());
    assertSame(storeB, zverse.store(b).orElseThrow());
    assertTrue(zverse.stores().containsAll(List.of(storeA, storeB)), zverse.stores().toString());

    CompletableFuture<?> closed = storeA.close().toCompletableFuture();
    assertEquals(Optional.empty(), zverse.store(a), "a closing store is not handed out");
    assertFalse(zverse.stores().contains(storeA));
    await(closed);
    ZVerseStore reopened = zverse.open(a);
    assertSame(reopened, zverse.store(a).orElseThrow());
    await(reopened.close());
    await(storeB.close());
    assertEquals(Optional.empty(), zverse.store(b));
  }

  @Test
  void aSecondOpenOfAnOpenNameIsRefusedAndLeavesTheFirstOpen() {
    ZVerse zverse = ZVerse.get(kit.testKit.system());
    String name = StoreTestKit.freshName("registry");
    ZVerseStore first = zverse.open(name);
    await(first.put("k", "v"));

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> zverse.open(name, kit.settings()));
    assertTrue(e.getMessage().contains("[" + name + "] is already open"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> ZVerseStore.open(kit.testKit.system(), name));
    assertSame(first, zverse.store(name).orElseThrow());
    assertEquals("v", first.get("k"));
    await(first.close());
  }

  @Test
  void getOrOpenFromRacingThreadsOpensOneStore() throws Exception {
    ZVerse zverse = ZVerse.get(kit.testKit.system());
    String name = StoreTestKit.freshName("registry");
    int threads = 4;
    CyclicBarrier start = new CyclicBarrier(threads);
    List<CompletableFuture<ZVerseStore>> got = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      CompletableFuture<ZVerseStore> f = new CompletableFuture<>();
      got.add(f);
      new Thread(
              () -> {
                try {
                  start.await();
                  f.complete(zverse.getOrOpen(name));
                } catch (Throwable e) {
                  f.completeExceptionally(e);
                }
              })
          .start();
    }
    ZVerseStore store = got.get(0).get(10, TimeUnit.SECONDS);
    for (CompletableFuture<ZVerseStore> f : got) {
      assertSame(store, f.get(10, TimeUnit.SECONDS));
    }
    assertSame(store, zverse.store(name).orElseThrow());
    await(store.close());
  }

  @Test
  void coordinatedShutdownClosesEveryOpenStore() {
    ActorTestKit own =
        ActorTestKit.create("zverse-shutdown", kit.testKit.system().settings().config());
    ZVerse zverse = ZVerse.get(own.system());
    List<ZVerseStore> stores =
        List.of(zverse.open("one"), zverse.open("two"), zverse.open("three"));
    await(stores.get(0).put("k", "v"));
    assertEquals(3, zverse.stores().size());

    own.shutdownTestKit();

    for (ZVerseStore store : stores) {
      assertTrue(store.isClosed(), store + " closed by coordinated shutdown");
      await(store.close());
    }
    assertEquals(List.of(), zverse.stores());
  }

  @Test
  void aZVerseSetupSuppliesTheSettingsOfStoresOpenedByName() {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "zverse-setup",
            ActorSystemSetup.create(BootstrapSetup.create(kit.testKit.system().settings().config()))
                .withSetup(
                    ZVerseSetup.withSettings(
                        (s, name) ->
                            StoreSettings.create(s, name)
                                .withMaxPendingWrites(name.equals("small") ? 7 : 9))));
    try {
      assertEquals(7, ZVerse.get(system).open("small").settings().maxPendingWrites());
      assertEquals(9, ZVerseStore.open(system, "other").settings().maxPendingWrites());
      assertEquals(9, ZVerse.get(system).getOrOpen("third").settings().maxPendingWrites());
      assertEquals(
          3,
          ZVerse.get(system)
              .open("explicit", kit.settings().withMaxPendingWrites(3))
              .settings()
              .maxPendingWrites(),
          "explicit settings win over the setup");
    } finally {
      ActorTestKit.shutdown(system);
    }
  }

  /** A user actor that writes through the store and adapts its replies without a cast. */
  private interface Command {}

  private record Send(WriteBatch batch) implements Command {}

  private record Written(WriteReply reply) implements Command {}

  private static Behavior<Command> writerClient(ZVerseStore store, ActorRef<WriteReply> report) {
    return Behaviors.setup(
        context -> {
          ActorRef<WriteReply> written = context.messageAdapter(WriteReply.class, Written::new);
          return Behaviors.receive(Command.class)
              .onMessage(
                  Send.class,
                  send -> {
                    store.write(send.batch(), written);
                    return Behaviors.same();
                  })
              .onMessage(
                  Written.class,
                  w -> {
                    report.tell(w.reply());
                    return Behaviors.same();
                  })
              .build();
        });
  }

  @Test
  void anActorAdaptsWriteRepliesThroughAMessageAdapter() {
    ZVerseStore store = kit.open(kit.settings());
    TestProbe<WriteReply> probe = kit.testKit.createTestProbe();
    ActorRef<Command> client = kit.testKit.spawn(writerClient(store, probe.getRef()));

    client.tell(new Send(WriteBatch.ofPut("k", "v")));
    WriteReply committed = probe.receiveMessage();
    assertTrue(committed.isCommitted(), committed.toString());
    assertEquals(1, committed.version());
    assertNull(committed.failure());

    client.tell(new Send(WriteBatch.builder().requireAbsent("k").put("k", "w").build()));
    WriteReply refused = probe.receiveMessage();
    assertFalse(refused.isCommitted());
    assertEquals(0, refused.version());
    assertInstanceOf(ConditionFailedException.class, refused.failure());
    assertEquals("v", store.get("k"));
    await(store.close());
  }

  @Test
  void aWriteReplyIsEitherACommitOrAFailure() {
    IllegalArgumentException negative =
        assertThrows(IllegalArgumentException.class, () -> WriteReply.committed(-1));
    assertEquals("version must be at least 0, was -1", negative.getMessage());
    IllegalArgumentException both =
        assertThrows(
            IllegalArgumentException.class, () -> new WriteReply(3, new RuntimeException("x")));
    assertTrue(both.getMessage().startsWith("version must be 0 in a failed reply, was 3"));
    assertThrows(NullPointerException.class, () -> WriteReply.failed(null));
  }
}
