package dev.zverse.cluster;

/**
 * How many of a store's nodes must promise a term before its writer may serve.
 *
 * <p>An acknowledged version is on the writer's node and {@code k} = {@code min-acks} others. A
 * quorum of {@code max(majority, N - k)} of the {@code N} store nodes meets every set of {@code k +
 * 1} nodes ({@code N - k + k + 1 > N}), so as long as at most {@code k} nodes were lost since the
 * write (the writer's node included; a node that left counts as lost), the promises include one
 * that holds it; and it meets every other quorum (a majority), so two writers never share a term.
 * With {@code k = 0} nothing is replicated before the answer, and a majority only orders terms.
 *
 * <p>Stateless.
 */
final class Quorum {
  private Quorum() {}

  /**
   * The promises a writer needs.
   *
   * @param nodes the store's nodes, at least 1
   * @param minAcks the replicas on other nodes that acknowledge a write, at least 0
   * @return {@code max(nodes / 2 + 1, nodes - minAcks)} if {@code minAcks > 0}, else the majority
   * @throws IllegalArgumentException if {@code nodes < 1} or {@code minAcks < 0}
   */
  static int needed(int nodes, int minAcks) {
    if (nodes < 1) {
      throw new IllegalArgumentException("nodes must be at least 1, was " + nodes);
    }
    if (minAcks < 0) {
      throw new IllegalArgumentException("minAcks must be at least 0, was " + minAcks);
    }
    int majority = nodes / 2 + 1;
    return minAcks == 0 ? majority : Math.max(majority, nodes - minAcks);
  }
}
