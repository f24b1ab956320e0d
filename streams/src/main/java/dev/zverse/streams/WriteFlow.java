package dev.zverse.streams;

import dev.zverse.actors.ZVerseStore;
import dev.zverse.engine.WriteBatch;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Write batches in, committed versions out: a store's writes as a stream stage.
 *
 * <p>Each batch is one {@link ZVerseStore#write(WriteBatch)}; a single mutation is a one-operation
 * batch ({@link WriteBatch#ofPut(String, String)}, {@link WriteBatch#ofDelete(String)}). Up to
 * {@code parallelism} writes are in flight at once (they share the writer's group commits, which is
 * where the throughput comes from), and results come out in the order the batches came in. The
 * batches of one flow also commit in that order: the flow sends them from one stage, and the store
 * commits the writes of one sender in the order sent. Back-pressure: past {@code parallelism}
 * unanswered writes the flow stops pulling.
 *
 * <p><b>Errors.</b> {@link #create} fails the stream with the first batch that was not committed
 * (failed conditions, a key or value over its limit, {@link
 * dev.zverse.actors.StoreOverloadedException}, a closed store): the batches after it may or may not
 * have been committed, as with any failed stream. {@link #results} never fails for a store error:
 * it emits a {@link WriteResult} per batch, committed or not, and the stream goes on. Keep {@code
 * parallelism} below the store's {@code writer.max-pending-writes} (shared by every writer of the
 * store), or expect overload failures under load.
 *
 * <p>The default parallelism is {@code zverse.streams.write-flow.parallelism}, read from the actor
 * system the stream runs in.
 */
public final class WriteFlow {
  private WriteFlow() {}

  /**
   * A flow of batches to committed versions that fails on the first batch not committed.
   *
   * @param store the store to write to
   * @param parallelism writes in flight, in [1, 65536]
   * @throws NullPointerException if {@code store} is null
   * @throws IllegalArgumentException if {@code parallelism} is out of bounds
   */
  public static Flow<WriteBatch, Long, NotUsed> create(ZVerseStore store, int parallelism) {
    Objects.requireNonNull(store, "store");
    StreamsSettings.requireParallelism(parallelism, "parallelism");
    return Flow.<WriteBatch>create().mapAsync(parallelism, batch -> store.write(batch));
  }

  /**
   * {@link #create(ZVerseStore, int)} with the configured parallelism.
   *
   * @throws NullPointerException if {@code store} is null
   */
  public static Flow<WriteBatch, Long, NotUsed> create(ZVerseStore store) {
    Objects.requireNonNull(store, "store");
    return Flow.<WriteBatch, Long, NotUsed>fromMaterializer(
            (mat, attributes) ->
                create(store, StreamsSettings.create(mat.system()).writeParallelism()))
        .mapMaterializedValue(unused -> NotUsed.getInstance());
  }

  /**
   * A flow of batches to {@link WriteResult}s, one per batch in order, committed or not; a store
   * error never fails it.
   *
   * @param store the store to write to
   * @param parallelism writes in flight, in [1, 65536]
   * @throws NullPointerException if {@code store} is null
   * @throws IllegalArgumentException if {@code parallelism} is out of bounds
   */
  public static Flow<WriteBatch, WriteResult, NotUsed> results(ZVerseStore store, int parallelism) {
    Objects.requireNonNull(store, "store");
    StreamsSettings.requireParallelism(parallelism, "parallelism");
    return Flow.<WriteBatch>create().mapAsync(parallelism, batch -> resultOf(store, batch));
  }

  /**
   * {@link #results(ZVerseStore, int)} with the configured parallelism.
   *
   * @throws NullPointerException if {@code store} is null
   */
  public static Flow<WriteBatch, WriteResult, NotUsed> results(ZVerseStore store) {
    Objects.requireNonNull(store, "store");
    return Flow.<WriteBatch, WriteResult, NotUsed>fromMaterializer(
            (mat, attributes) ->
                results(store, StreamsSettings.create(mat.system()).writeParallelism()))
        .mapMaterializedValue(unused -> NotUsed.getInstance());
  }

  /**
   * A sink that writes every batch, {@code parallelism} at a time, and fails on the first batch not
   * committed, like {@link #create(ZVerseStore, int)}.
   *
   * @return the sink; it materializes to a stage that completes when every batch is committed, or
   *     exceptionally with the first failure
   * @throws NullPointerException if {@code store} is null
   * @throws IllegalArgumentException if {@code parallelism} is out of bounds
   */
  public static Sink<WriteBatch, CompletionStage<Done>> sink(ZVerseStore store, int parallelism) {
    return create(store, parallelism).toMat(Sink.ignore(), Keep.right());
  }

  /** {@link #sink(ZVerseStore, int)} with the configured parallelism; throws like it. */
  public static Sink<WriteBatch, CompletionStage<Done>> sink(ZVerseStore store) {
    return create(store).toMat(Sink.ignore(), Keep.right());
  }

  private static CompletionStage<WriteResult> resultOf(ZVerseStore store, WriteBatch batch) {
    CompletionStage<Long> written;
    try {
      written = store.write(batch);
    } catch (RuntimeException e) {
      // A closed store refuses at once: still one result for the batch.
      return CompletableFuture.completedFuture(WriteResult.failed(batch, e));
    }
    return written.handle(
        (version, failure) ->
            failure == null
                ? WriteResult.committed(batch, version)
                : WriteResult.failed(
                    batch,
                    failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause()
                        : failure));
  }
}
