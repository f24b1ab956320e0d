package dev.zverse.persistence;

import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.scaladsl.DurableStateStorePagedPersistenceIdsQuery;
import org.apache.pekko.persistence.query.scaladsl.DurableStateStoreQuery;
import org.apache.pekko.persistence.query.typed.scaladsl.DurableStateStoreBySliceQuery;
import org.apache.pekko.persistence.state.scaladsl.DurableStateUpdateStore;
import org.apache.pekko.persistence.state.scaladsl.GetObjectResult;
import org.apache.pekko.stream.scaladsl.Source;
import scala.Option;
import scala.collection.immutable.Range;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;
import scala.jdk.javaapi.OptionConverters;

/**
 * The Scala DSL of the plug-in: each method converts the Java DSL's answer ({@link
 * ZVerseDurableStateStore} says what they do).
 *
 * <p>Thread-safe.
 *
 * @param <A> the type of the state objects
 */
final class ScalaDurableStateStore<A>
    implements DurableStateUpdateStore<A>,
        DurableStateStoreQuery<A>,
        DurableStateStoreBySliceQuery<A>,
        DurableStateStorePagedPersistenceIdsQuery<A> {
  private final ZVerseDurableStateStore<A> store;

  ScalaDurableStateStore(ZVerseDurableStateStore<A> store) {
    this.store = store;
  }

  @Override
  public Future<GetObjectResult<A>> getObject(String persistenceId) {
    return FutureConverters.asScala(store.getObject(persistenceId).thenApply(r -> r.toScala()));
  }

  @Override
  public Future<Done> upsertObject(String persistenceId, long revision, A value, String tag) {
    return FutureConverters.asScala(store.upsertObject(persistenceId, revision, value, tag));
  }

  @Deprecated
  @Override
  public Future<Done> deleteObject(String persistenceId) {
    return FutureConverters.asScala(store.deleteObject(persistenceId));
  }

  @Override
  public Future<Done> deleteObject(String persistenceId, long revision) {
    return FutureConverters.asScala(store.deleteObject(persistenceId, revision));
  }

  @Override
  public Source<DurableStateChange<A>, NotUsed> currentChanges(String tag, Offset offset) {
    return store.currentChanges(tag, offset).asScala();
  }

  @Override
  public Source<DurableStateChange<A>, NotUsed> changes(String tag, Offset offset) {
    return store.changes(tag, offset).asScala();
  }

  @Override
  public Source<DurableStateChange<A>, NotUsed> currentChangesBySlices(
      String entityType, int minSlice, int maxSlice, Offset offset) {
    return store.currentChangesBySlices(entityType, minSlice, maxSlice, offset).asScala();
  }

  @Override
  public Source<DurableStateChange<A>, NotUsed> changesBySlices(
      String entityType, int minSlice, int maxSlice, Offset offset) {
    return store.changesBySlices(entityType, minSlice, maxSlice, offset).asScala();
  }

  @Override
  public int sliceForPersistenceId(String persistenceId) {
    return store.sliceForPersistenceId(persistenceId);
  }

  @Override
  public Seq<Range> sliceRanges(int numberOfRanges) {
    return store.scalaSliceRanges(numberOfRanges);
  }

  @Override
  public Source<String, NotUsed> currentPersistenceIds(Option<String> afterId, long limit) {
    return store.currentPersistenceIds(OptionConverters.toJava(afterId), limit).asScala();
  }
}
