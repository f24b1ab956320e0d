/**
 * A store across a Pekko Cluster, first step: the writer runs as a cluster singleton wrapping a
 * local store, and writes from any node travel to it through the singleton proxy.
 *
 * <ul>
 *   <li>{@link dev.zverse.cluster.ClusterStore}: opened with the same name on every node; {@code
 *       write} from any node completes with the committed version or a typed failure.
 *   <li>{@link dev.zverse.cluster.ClusterSettings}: {@code zverse.cluster} in this module's {@code
 *       reference.conf}.
 *   <li>{@link dev.zverse.cluster.WireSerializer}: the binary serializer of every message the
 *       module sends between nodes; no Java serialization.
 * </ul>
 *
 * <p>Replicas on every node, state transfer, awaited and linearizable reads and writer failover are
 * not built yet.
 */
@NullMarked
package dev.zverse.cluster;

import org.jspecify.annotations.NullMarked;
