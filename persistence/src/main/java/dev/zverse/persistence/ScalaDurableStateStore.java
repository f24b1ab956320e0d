package dev.zverse.persistence;

import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.scaladsl.DurableStateStoreQuery;
import org.apache.pekko.persistence.state.scaladsl.DurableStateUpdateStore;
import org.apache.pekko.persistence.state.scaladsl.GetObjectResult;
import org.apache.pekko.stream.scaladsl.Source;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * The Scala DSL of the plug-in: each method converts the Java DSL's answer ({@link
 * ZVerseDurableStateStore} says what they do).
 *
 * <p>Thread-safe.
 *
 * @param <A> the type of the state objects
 */
final class ScalaDurableStateStore<A>
    implements DurableStateUpdateStore<A>, DurableStateStoreQuery<A> {
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
}
