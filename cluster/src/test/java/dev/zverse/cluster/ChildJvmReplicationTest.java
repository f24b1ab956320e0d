package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Three nodes in three child JVMs ({@link ChildCluster}), nothing shared but the wire: writes from
 * every node, every replica's state equal at the same versions (digests of whole snapshots); a
 * replica's process killed with SIGKILL while the others write, restarted on its port, catches up
 * and matches the others.
 *
 * <p>About a minute of the verify's budget (three JVMs start, one is killed and started again), so
 * opt-in: {@code -Dzverse.test.childJvm=true} (see the README).
 */
@EnabledIfSystemProperty(named = "zverse.test.childJvm", matches = "true")
class ChildJvmReplicationTest {
  @Test
  void replicasInSeparateJvmsAgreeAndAKilledReplicaCatchesUpAfterItsRestart() throws Exception {
    try (ChildCluster cluster = ChildCluster.start(3, "childjvm", "", null)) {
      // Writes from every node at once, 20 in flight per node.
      for (int i = 0; i < 3; i++) {
        cluster.node(i).send("writes 200 n" + i + "- 20");
      }
      long v1 = 0;
      for (int i = 0; i < 3; i++) {
        v1 = Math.max(v1, Long.parseLong(cluster.node(i).answer()));
      }
      assertTrue(v1 >= 600, "600 commits, the last at " + v1);
      String d1 = cluster.node(0).ask("digest " + v1);
      for (int i = 1; i < 3; i++) {
        assertEquals(d1, cluster.node(i).ask("digest " + v1), "node " + i + " at " + v1);
      }

      // Node 2 dies while nodes 0 and 1 write; they go on being answered.
      cluster.node(0).send("writes 300 a- 20");
      cluster.node(1).send("writes 300 b- 20");
      cluster.kill(2);
      assertFalse(cluster.node(2).process().isAlive());
      long v2 =
          Math.max(
              Long.parseLong(cluster.node(0).answer()), Long.parseLong(cluster.node(1).answer()));
      assertTrue(v2 >= v1 + 600, "600 more commits, the last at " + v2);

      // Restarted on its port, its replica starts empty and catches up, then takes writes again.
      cluster.restart(2);
      long v3 = cluster.node(2).askLong("put after restart");
      assertTrue(v3 > v2, v3 + " after " + v2);
      String d3 = cluster.node(0).ask("digest " + v3);
      for (int i = 1; i < 3; i++) {
        assertEquals(d3, cluster.node(i).ask("digest " + v3), "node " + i + " at " + v3);
      }
      assertEquals(d1, cluster.node(1).ask("digest " + v1), "node 1 still reads " + v1);
      String status = cluster.node(2).ask("status");
      assertTrue(Long.parseLong(status.split(" ")[0]) >= v3, status);
      assertTrue(status.endsWith("false true"), "following, reaching the writer: " + status);
    }
  }
}
