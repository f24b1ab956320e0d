/**
 * A store across a Pekko Cluster: the writer runs as a cluster singleton wrapping a local store,
 * writes from any node travel to it through the singleton proxy, and every node holds a replica
 * that follows the writer's commits and answers reads locally.
 *
 * <ul>
 *   <li>{@link dev.zverse.cluster.ClusterStore}: opened with the same name on every node; {@code
 *       write} from any node completes with the committed version or a typed failure; reads are
 *       local, at least a version ({@code awaitVersion}) or linearizable.
 *   <li>{@link dev.zverse.cluster.ReplicaStatus}: a replica's version, lag and reachability.
 *   <li>{@link dev.zverse.cluster.ClusterSettings}: {@code zverse.cluster} in this module's {@code
 *       reference.conf}.
 *   <li>{@link dev.zverse.cluster.WireSerializer}: the binary serializer of every message the
 *       module sends between nodes; no Java serialization.
 * </ul>
 *
 * <p>A replica behind the writer's retention catches up by state transfer ({@code StateTransfer}).
 * A write is answered once {@code replication.min-acks} replicas hold it; each writer incarnation
 * takes a term a majority promised and starts where the cluster is ({@code WriterElection}), so a
 * failover loses no acknowledged write; {@link dev.zverse.cluster.NotEnoughReplicasException} and
 * {@link dev.zverse.cluster.WriteOutcomeUnknownException} say what happened to a write that was not
 * answered with a version.
 */
@NullMarked
package dev.zverse.cluster;

import org.jspecify.annotations.NullMarked;
