package dev.zverse.cluster;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;

/**
 * The nodes whose replicas followed a writer in its term, and when a node removed from the cluster
 * stops counting.
 *
 * <p>A later election counts every node of the set among the store's nodes ({@link Quorum}), so
 * that a node that left, and may have held an acknowledged version, can only be missing from the
 * promises. A node removed from the cluster is dropped once it no longer matters: when it was
 * removed the writer's acknowledged version was {@code c}; once {@code k} = min-acks followers on
 * nodes that are still members received at least {@code c}, every version acknowledged up to {@code
 * c} is again on the writer's node and {@code k} current nodes, as one acknowledged later is
 * anyway. With {@code k = 0} nothing was replicated, and the node is dropped at once.
 *
 * <p>Each change takes the next sequence number, so a replica keeps, and an election takes, the
 * newest set of the highest term. A node's acknowledgements count only once every other follower
 * acknowledged a set that names it ({@link #joinedAt}): until then a candidate that learns the
 * store's nodes from the promises might not count it, and a quorum without it could miss a write
 * only it and the lost writer held. Writer-confined: not thread-safe.
 */
final class FollowerSet {
  private final Set<Address> nodes = new HashSet<>();

  /** Removed nodes still in {@link #nodes}, with the acknowledged version at their removal. */
  private final Map<Address, Long> removals = new HashMap<>();

  /** The sequence number of the set that first named each node. */
  private final Map<Address, Long> joined = new HashMap<>();

  /**
   * Nodes removed while not in {@link #nodes}, with the acknowledged version at their removal: a
   * follow sent before a node's removal may still arrive after it (a starting writer keeps the
   * follows that came during its election), and must not make the node count for ever.
   */
  private final Map<Address, Long> removedBeforeAdded = new HashMap<>();

  private long seq;

  /**
   * Adds a node that follows.
   *
   * @param node the follower's node
   * @return whether the set grew (its sequence number moved)
   */
  boolean add(Address node) {
    if (!nodes.add(node)) {
      return false;
    }
    Long removedAt = removedBeforeAdded.remove(node);
    if (removedAt != null) {
      removals.put(node, removedAt);
    }
    seq++;
    joined.put(node, seq);
    return true;
  }

  /**
   * The sequence number of the set that first named {@code node}: its acknowledgements count once
   * every other follower acknowledged this set or a later one of the term.
   *
   * @param node a node
   * @return that number, 0 if the set does not name it (a follower whose node is not in the set
   *     counts at once: nobody needs to learn of it)
   */
  long joinedAt(Address node) {
    return joined.getOrDefault(node, 0L);
  }

  /**
   * A node was removed from the cluster. Not in the set, it is remembered: if a late follow adds
   * it, it is a removed node from then on (dropped as {@link #dropCaughtUp} says).
   *
   * @param node the removed node
   * @param acknowledged the writer's acknowledged version now, at least 0
   */
  void removed(Address node, long acknowledged) {
    if (nodes.contains(node)) {
      // Removed again (back on the same address in between): the later version is the stricter.
      removals.merge(node, acknowledged, Math::max);
    } else {
      removedBeforeAdded.merge(node, acknowledged, Math::max);
    }
  }

  /**
   * Drops every removed node whose acknowledged versions are again on {@code minAcks} current
   * nodes.
   *
   * @param minAcks k, at least 0
   * @param received the last version each node's follower received, one per node other than the
   *     writer's that is still a member
   * @param following the nodes a follower is on now: never dropped (a node back on the same address
   *     follows again)
   * @return whether the set shrank (its sequence number moved)
   */
  boolean dropCaughtUp(int minAcks, Collection<Long> received, Set<Address> following) {
    boolean shrank = false;
    for (Iterator<Map.Entry<Address, Long>> i = removals.entrySet().iterator(); i.hasNext(); ) {
      Map.Entry<Address, Long> e = i.next();
      if (following.contains(e.getKey())) {
        continue;
      }
      long holding = 0;
      for (long r : received) {
        if (r >= e.getValue()) {
          holding++;
        }
      }
      if (holding >= minAcks) {
        i.remove();
        nodes.remove(e.getKey());
        joined.remove(e.getKey());
        shrank = true;
      }
    }
    if (shrank) {
      seq++;
    }
    return shrank;
  }

  /**
   * Whether a removed node still waits to be dropped.
   *
   * @return true if one does
   */
  boolean removalsPending() {
    return !removals.isEmpty();
  }

  /**
   * The nodes.
   *
   * @return a copy
   */
  Set<Address> nodes() {
    return Set.copyOf(nodes);
  }

  /**
   * The set's sequence number within the term.
   *
   * @return it, 0 while empty; it moves with every change
   */
  long seq() {
    return seq;
  }
}
