package dev.zverse.cluster;

import static dev.zverse.cluster.ClusterHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerse;
import dev.zverse.cluster.FailoverChecker.Acked;
import dev.zverse.cluster.FailoverChecker.History;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Leave;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The writer moves and no acknowledged write is lost: three nodes in one JVM, clients on the nodes
 * other than the writer's write all the time, and the writer's node (a) leaves gracefully, (b) is
 * terminated without leaving (the Split Brain Resolver downs it) or (c) is downed, at a random
 * moment. After each failover, every acknowledged write is present with its content on every
 * surviving replica, versions continue without a gap, and no version has two contents on any node,
 * the lost ones included. A new node then joins, so that every round starts with three.
 *
 * <p>Rounds: {@code -Dzverse.failover.rounds=N}, default {@link #DEFAULT_ROUNDS} (two of each kind)
 * to stay within the verify's budget; the issue asks for 20 (see the README).
 */
@ExtendWith(LogCapturingExtension.class)
class FailoverTest {
  /** Rounds by default: what fits the verify's budget on a two-core machine with the kill test. */
  static final int DEFAULT_ROUNDS = 6;

  private static final Duration WAIT = Duration.ofSeconds(60);

  /**
   * The clients' write timeout: a write in flight to a writer that is gone ends only by it (as an
   * unknown outcome), so it must be well under {@link #WAIT}, which bounds how long the test waits
   * for the new writer's acknowledgements.
   */
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(4);

  /** Terminating a node does not leave the cluster: the crash of case (b). */
  private static final String CONFIG =
      """
      pekko.coordinated-shutdown.run-by-actor-system-terminate = off
      """;

  private enum Kind {
    LEAVE,
    CRASH,
    DOWN
  }

  @Test
  void theWriterMovesWithoutLosingAnAcknowledgedWrite() throws Exception {
    int rounds = Integer.getInteger("zverse.failover.rounds", DEFAULT_ROUNDS);
    Random random = new Random(Long.getLong("zverse.failover.seed", 17L));
    String name = "failover";
    try (ClusterHarness cluster = ClusterHarness.start(3, CONFIG)) {
      Map<Integer, ClusterStore> stores = new HashMap<>();
      for (int i = 0; i < 3; i++) {
        stores.put(i, open(cluster, i, name));
      }
      for (ClusterStore s : stores.values()) {
        await(s.following());
      }
      Map<Long, Acked> acked = new ConcurrentHashMap<>();
      List<Snapshot> lost = new ArrayList<>();
      // The previous round's clients, stopped, with writes to a lost writer still in flight.
      List<Thread> stopping = new ArrayList<>();
      List<Throwable> unexpected = new CopyOnWriteArrayList<>();
      for (int round = 0; round < rounds; round++) {
        Kind kind = Kind.values()[round % Kind.values().length];
        // The singleton, the writer, runs on the oldest member: that node is the victim.
        int victim = oldest(cluster, stores.keySet());
        List<Integer> survivors = new ArrayList<>(stores.keySet());
        survivors.remove(Integer.valueOf(victim));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger ackedThisRound = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        for (int node : survivors) {
          ClusterStore store = stores.get(node);
          String tag = "r" + round + "n" + node;
          Thread t =
              new Thread(
                  () -> write(store, tag, stop, acked, ackedThisRound, unexpected),
                  "client-" + tag);
          clients.add(t);
          t.start();
        }
        // Let some writes be acknowledged, then fail the writer at a random moment.
        awaitCount(ackedThisRound, 5 + random.nextInt(20));
        join(stopping);
        long failed = System.nanoTime();
        ActorSystem<Void> dying = cluster.node(victim);
        Address at = Cluster.get(dying).selfMember().address();
        switch (kind) {
          case LEAVE -> Cluster.get(dying).manager().tell(Leave.create(at));
          case CRASH -> dying.terminate();
          case DOWN -> Cluster.get(cluster.node(survivors.get(0))).manager().tell(new Down(at));
        }
        // The next round's node starts its actor system while the survivors fail over.
        CompletableFuture<ActorSystem<Void>> next =
            CompletableFuture.supplyAsync(cluster::prepareNode);
        dying.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        lost.add(stores.remove(victim).replica().advanced().lastPublished());
        // The new writer serves: writes go on being acknowledged.
        int before = ackedThisRound.get();
        awaitCount(ackedThisRound, before + 10);
        long served = System.nanoTime();
        stop.set(true);
        // A client's write in flight to the lost writer ends only by its timeout: this round's
        // clients end while it checks, the next node joins and the next round writes; they are
        // awaited before the next failure (so that none writes on a node that fails) and the next
        // check, or the last one below, covers what they acknowledged.
        stopping = clients;
        assertTrue(unexpected.isEmpty(), () -> kind + ": unexpected failures " + unexpected);
        check(kind, stores, acked, lost);
        long checked = System.nanoTime();
        // The next node joins only once the victim is out of every survivor's membership: with
        // the victim still a member (downed, not yet removed) and the new node in, one survivor
        // paused past the failure detector on a loaded machine splits the members 2 to 2, and the
        // Split Brain Resolver downs the side without the lowest address, the survivors here.
        awaitRemoved(cluster, survivors, at);
        int added = cluster.join(next.get(WAIT.toSeconds(), TimeUnit.SECONDS), survivors.get(0));
        stores.put(added, open(cluster, added, name));
        await(stores.get(added).following());
        System.out.printf(
            "FailoverTest round %d (%s): new writer acknowledged 10 writes at %d ms, checked at %d"
                + " ms, next node follows at %d ms%n",
            round, kind, ms(served - failed), ms(checked - failed), ms(System.nanoTime() - failed));
      }
      join(stopping);
      assertTrue(unexpected.isEmpty(), () -> "unexpected failures " + unexpected);
      check("end", stores, acked, lost);
    }
  }

  private static void join(List<Thread> threads) throws InterruptedException {
    for (Thread t : threads) {
      t.join();
    }
  }

  @Test
  void aStoreIsNotOpenedWithoutADowningProviderUnlessItOptsOut() throws Exception {
    try (ClusterHarness one =
        ClusterHarness.start(1, "pekko.cluster.downing-provider-class = \"\"")) {
      ActorSystem<Void> system = one.node(0);
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> ClusterStore.open(system, "nodowning"));
      assertTrue(e.getMessage().contains(ClusterStore.SPLIT_BRAIN_RESOLVER), e.getMessage());
      assertTrue(ZVerse.get(system).store("nodowning").isEmpty(), "the replica was left open");
      // A one-node cluster opts out, and needs min-acks = 0 to write.
      ClusterSettings single =
          ClusterSettings.create(system).withRequireDowningProvider(false).withMinAcks(0);
      ClusterStore store =
          ClusterStore.open(system, "nodowning", StoreSettings.create(system, "x"), single);
      assertEquals(1L, await(store.write(WriteBatch.ofPut("k", "v"))));
      await(store.close());
    }
  }

  private static ClusterStore open(ClusterHarness cluster, int node, String name) {
    ActorSystem<Void> system = cluster.node(node);
    return ClusterStore.open(
        system,
        name,
        StoreSettings.create(system, name),
        ClusterSettings.create(system).withWriteTimeout(WRITE_TIMEOUT));
  }

  /** Writes puts of its own keys until {@code stop}, a few in flight, recording those acked. */
  static void write(
      ClusterStore store,
      String tag,
      AtomicBoolean stop,
      Map<Long, Acked> acked,
      AtomicInteger count,
      List<Throwable> unexpected) {
    List<Map.Entry<Acked, CompletionStage<Long>>> inFlight = new ArrayList<>();
    for (int i = 0; !stop.get(); i++) {
      Acked a = new Acked(tag + "-" + i, "v" + tag + "-" + i);
      CompletionStage<Long> written;
      try {
        written = store.write(WriteBatch.ofPut(a.key(), a.value()));
      } catch (RuntimeException refused) {
        // The node's store closed under the client (its node was downed): the test says so.
        unexpected.add(refused);
        return;
      }
      inFlight.add(Map.entry(a, written));
      if (inFlight.size() < 4) {
        continue;
      }
      for (Map.Entry<Acked, CompletionStage<Long>> e : inFlight) {
        try {
          Acked earlier = acked.putIfAbsent(await(e.getValue()), e.getKey());
          if (earlier != null) {
            unexpected.add(new AssertionError("two writes acknowledged as one version"));
          }
          count.incrementAndGet();
          synchronized (count) {
            count.notifyAll();
          }
        } catch (ExecutionException failed) {
          // An unknown outcome, or a write not committed (too few replicas, or the writer stopped
          // before committing it), is what a failover may cause; anything else is a defect.
          Throwable cause = failed.getCause();
          boolean notWritten =
              cause instanceof IllegalStateException
                  && String.valueOf(cause.getMessage()).contains("before committing the write");
          if (!(cause instanceof WriteOutcomeUnknownException)
              && !(cause instanceof NotEnoughReplicasException)
              && !notWritten) {
            unexpected.add(failed.getCause());
          }
        } catch (Exception other) {
          unexpected.add(other);
        }
      }
      inFlight.clear();
    }
  }

  /** The node among {@code nodes} whose member is the oldest: where the singleton runs. */
  static int oldest(ClusterHarness cluster, Collection<Integer> nodes) {
    int oldest = -1;
    Member oldestMember = null;
    for (int node : nodes) {
      Member m = Cluster.get(cluster.node(node)).selfMember();
      if (oldestMember == null || m.isOlderThan(oldestMember)) {
        oldest = node;
        oldestMember = m;
      }
    }
    return oldest;
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** Waits until no survivor counts {@code gone} among the cluster's members any more. */
  static void awaitRemoved(ClusterHarness cluster, List<Integer> survivors, Address gone)
      throws Exception {
    List<CompletableFuture<Void>> removed = new ArrayList<>();
    for (int node : survivors) {
      removed.add(cluster.removed(node, gone));
    }
    CompletableFuture.allOf(removed.toArray(CompletableFuture[]::new))
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** Waits until the clients counted {@code atLeast} acknowledged writes (they notify). */
  static void awaitCount(AtomicInteger count, int atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    synchronized (count) {
      while (count.get() < atLeast) {
        long left = deadline - System.nanoTime();
        assertTrue(left > 0, "fewer than " + atLeast + " writes acknowledged");
        TimeUnit.NANOSECONDS.timedWait(count, left);
      }
    }
  }

  /** {@link FailoverChecker#check} on the survivors, each at the highest acknowledged version. */
  private static void check(
      Object label, Map<Integer, ClusterStore> stores, Map<Long, Acked> acked, List<Snapshot> lost)
      throws Exception {
    // The acknowledged writes first, then the histories: a client of the round may still get one
    // acknowledged while the replicas are read, at a version beyond what they show.
    Map<Long, Acked> seen = Map.copyOf(acked);
    long max = seen.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    List<History> survivors = new ArrayList<>();
    for (Map.Entry<Integer, ClusterStore> s : stores.entrySet()) {
      survivors.add(History.of("node " + s.getKey(), await(s.getValue().awaitVersion(max, WAIT))));
    }
    List<History> lostHistories = new ArrayList<>();
    for (Snapshot s : lost) {
      lostHistories.add(History.of("lost node " + lostHistories.size(), s));
    }
    FailoverChecker.check(label.toString(), survivors, lostHistories, seen);
  }
}
