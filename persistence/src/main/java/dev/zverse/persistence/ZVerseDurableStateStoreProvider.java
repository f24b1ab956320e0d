package dev.zverse.persistence;

import com.typesafe.config.Config;
import dev.zverse.actors.ZVerse;
import dev.zverse.actors.ZVerseStore;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.state.DurableStateStoreProvider;
import org.apache.pekko.persistence.state.javadsl.DurableStateStore;

/**
 * The durable state plug-in: Pekko Persistence instantiates it from the {@code class} of the
 * plug-in's configuration block when a {@code DurableStateBehavior} or the {@code
 * DurableStateStoreRegistry} first asks for it, once per actor system and block.
 *
 * <pre>{@code
 * pekko.persistence.state.plugin = "zverse.persistence.state"
 * zverse.persistence.state.store = "durable-state"   # a ZVerse store: zverse.stores.durable-state
 * }</pre>
 *
 * <p>It takes the named ZVerse store from the actor system's {@link ZVerse} registry, opening it
 * with that store's settings (memory-only, or durable with a data directory) unless the application
 * or another plug-in block opened it already; the store closes with the actor system. The
 * timestamps of the changes come from that store's clock ({@link
 * dev.zverse.actors.StoreSettings#clock()}), which a {@link dev.zverse.actors.ZVerseSetup} in the
 * actor system's setup can replace. Thread-safe.
 */
public final class ZVerseDurableStateStoreProvider implements DurableStateStoreProvider {
  private final ZVerseDurableStateStore<Object> javadsl;
  private final ScalaDurableStateStore<Object> scaladsl;

  /**
   * The constructor Pekko calls, with the plug-in's block and its path.
   *
   * @param system the actor system
   * @param config the plug-in's configuration block ({@code store}, {@code key-prefix})
   * @param configPath the block's path, such as {@code zverse.persistence.state}
   * @throws IllegalArgumentException if a setting is out of its bounds
   * @throws IllegalStateException if the store is closing but has not stopped yet, or another store
   *     holds its data directory
   */
  public ZVerseDurableStateStoreProvider(
      ExtendedActorSystem system, Config config, String configPath) {
    DurableStateSettings settings = DurableStateSettings.create(config);
    ZVerseStore store = ZVerse.get(Adapter.toTyped(system)).getOrOpen(settings.storeName());
    // One clock for the commit times and the changes' timestamps, and one seam to set it.
    this.javadsl =
        new ZVerseDurableStateStore<>(
            system, store, settings.keyPrefix(), store.settings().clock());
    this.scaladsl = new ScalaDurableStateStore<>(javadsl);
  }

  /**
   * The Scala DSL: a {@code DurableStateUpdateStore} and {@code DurableStateStoreQuery}.
   *
   * @return the store, the same on every call
   */
  @Override
  public org.apache.pekko.persistence.state.scaladsl.DurableStateStore<Object>
      scaladslDurableStateStore() {
    return scaladsl;
  }

  /**
   * The Java DSL: a {@link ZVerseDurableStateStore}.
   *
   * @return the store, the same on every call
   */
  @Override
  public DurableStateStore<Object> javadslDurableStateStore() {
    return javadsl;
  }
}
