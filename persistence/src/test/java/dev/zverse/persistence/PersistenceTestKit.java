package dev.zverse.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.zverse.actors.StoreSettings;
import dev.zverse.actors.ZVerseSetup;
import dev.zverse.testkit.ZVerseTestKit;
import dev.zverse.testkit.ZVerseTestKit.Pull;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.query.DeletedDurableState;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.persistence.query.UpdatedDurableState;
import org.apache.pekko.stream.javadsl.Source;

/**
 * An actor system with the plug-in selected and a manual clock, and what the tests share: fresh
 * plug-ins, waits.
 */
final class PersistenceTestKit {
  static final Duration TIMEOUT = ZVerseTestKit.TIMEOUT;

  /** The test configuration: the plug-in selected, a serializer for {@link Cart}, fast epochs. */
  static final Config CONFIG =
      ConfigFactory.parseString(
              """
              pekko.loglevel = WARNING
              pekko.log-dead-letters = off
              pekko.persistence.state.plugin = "zverse.persistence.state"
              pekko.actor.serializers.cart = "dev.zverse.persistence.Cart$Serializer"
              pekko.actor.serialization-bindings { "dev.zverse.persistence.Cart" = cart }
              zverse.store.epoch.tick = 5ms
              zverse.stores.short-history.retention.versions = 2
              zverse.stores.small { max-key-bytes = 64, max-value-bytes = 100 }
              """)
          .withFallback(ConfigFactory.load());

  /** Where {@link #now} starts. */
  static final Instant START = Instant.parse("2026-11-29T12:00:00Z");

  final ZVerseTestKit kit;

  /**
   * The clock of every store the kit's system opens by name, the plug-ins' stores included: it
   * stamps their commits and the changes' timestamps, and moves only when a test sets it.
   */
  final AtomicReference<Instant> now = new AtomicReference<>(START);

  PersistenceTestKit() {
    InstantSource clock = now::get;
    this.kit =
        ZVerseTestKit.create(
            "zverse-persistence-test",
            CONFIG,
            ZVerseSetup.withSettings(
                (system, name) -> StoreSettings.create(system, name).withClock(clock)));
  }

  ActorSystem<Void> system() {
    return kit.system();
  }

  void shutdown() {
    kit.shutdown();
  }

  /** A plug-in on a fresh memory-only store with the default store settings. */
  ZVerseDurableStateStore<Object> freshPlugin() {
    return plugin(ZVerseTestKit.freshName("state"));
  }

  /**
   * A plug-in on the store {@code storeName}, opened with its settings from {@link #CONFIG} ({@code
   * short-history} keeps 2 versions; {@code small} takes keys up to 64 bytes and values up to 100).
   */
  ZVerseDurableStateStore<Object> plugin(String storeName) {
    Config block =
        ConfigFactory.parseString("store = " + storeName)
            .withFallback(CONFIG.getConfig("zverse.persistence.state"));
    ExtendedActorSystem classic = (ExtendedActorSystem) Adapter.toClassic(system());
    @SuppressWarnings("unchecked")
    ZVerseDurableStateStore<Object> store =
        (ZVerseDurableStateStore<Object>)
            new ZVerseDurableStateStoreProvider(classic, block, "test." + storeName)
                .javadslDurableStateStore();
    return store;
  }

  /** See {@link ZVerseTestKit#pull}. */
  <T> Pull<T> pull(Source<T, NotUsed> source) {
    return kit.pull(source);
  }

  <T> List<T> collect(Source<T, NotUsed> source) {
    return kit.collect(source);
  }

  /** {@link #describe} and the change's timestamp: {@code ... at <epoch millis>}. */
  static String describeWithTime(DurableStateChange<?> c) {
    long timestamp =
        c instanceof UpdatedDurableState<?> u
            ? u.timestamp()
            : ((DeletedDurableState<?>) c).timestamp();
    return describe(c) + " at " + timestamp;
  }

  /** A change as text: {@code pid@revision=value@offset} or {@code pid@revision deleted@offset}. */
  static String describe(DurableStateChange<?> c) {
    long offset = ((Sequence) c.offset()).value();
    if (c instanceof UpdatedDurableState<?> u) {
      return u.persistenceId() + "@" + u.revision() + "=" + u.value() + "@" + offset;
    }
    DeletedDurableState<?> d = (DeletedDurableState<?>) c;
    return d.persistenceId() + "@" + d.revision() + " deleted@" + offset;
  }

  static <T> T await(CompletionStage<T> stage) {
    return ZVerseTestKit.await(stage);
  }

  /** The exception a stage completed with; fails if it completed normally or not in time. */
  static Throwable awaitFailure(CompletionStage<?> stage) {
    return ZVerseTestKit.awaitFailure(stage);
  }
}
