package dev.zverse.persistence;

import dev.zverse.actors.ZVerseStore;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The stores the durable state plug-ins of one actor system opened, by name, so that two plug-in
 * blocks naming one store share it (a store name can be open only once in an actor system).
 *
 * <p>The actors module keeps no public registry of open stores yet, so a store the application
 * opened itself cannot be found here: the application reaches the plug-in's store through {@link
 * ZVerseDurableStateStore#store()} instead. Thread-safe.
 */
final class PluginStores implements Extension {
  private static final ExtensionId<PluginStores> ID =
      new ExtensionId<>() {
        @Override
        public PluginStores createExtension(ActorSystem<?> system) {
          return new PluginStores(system);
        }
      };

  private final ActorSystem<?> system;
  private final ConcurrentHashMap<String, ZVerseStore> stores = new ConcurrentHashMap<>();

  private PluginStores(ActorSystem<?> system) {
    this.system = system;
  }

  /**
   * The open store named {@code name} in {@code system}, opened with its configured settings
   * ({@code zverse.stores.<name>}) if no plug-in opened it yet.
   *
   * @throws IllegalStateException if the application opened a store of that name itself
   */
  static ZVerseStore storeFor(ActorSystem<?> system, String name) {
    PluginStores self = ID.apply(system);
    return self.stores.compute(
        name, (n, open) -> open != null && !open.isClosed() ? open : self.open(n));
  }

  private ZVerseStore open(String name) {
    try {
      return ZVerseStore.open(system, name);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          "the durable state plug-in opens its ZVerse store [" + name + "] itself, but the store is"
              + " already open; let the plug-in open it and reach it through"
              + " ZVerseDurableStateStore.store()",
          e);
    }
  }
}
