package dev.zverse.actors;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The stores open in one actor system, by name: a store name is open at most once at a time, and
 * each opening gets a fresh number for its actors' names.
 *
 * <p>Thread-safe.
 */
final class OpenStores implements Extension {
  static final ExtensionId<OpenStores> ID =
      new ExtensionId<>() {
        @Override
        public OpenStores createExtension(ActorSystem<?> system) {
          return new OpenStores(system.name());
        }
      };

  private final String systemName;
  private final ConcurrentHashMap<String, Long> open = new ConcurrentHashMap<>();
  private final AtomicLong openings = new AtomicLong();

  private OpenStores(String systemName) {
    this.systemName = systemName;
  }

  static OpenStores get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /**
   * Reserves {@code name}.
   *
   * @return the number of this opening, unique in the actor system
   * @throws IllegalStateException if a store of that name is open
   */
  long reserve(String name) {
    long opening = openings.incrementAndGet();
    if (open.putIfAbsent(name, opening) != null) {
      throw new IllegalStateException(
          "a store named [" + name + "] is already open in actor system [" + systemName
              + "]; close it first, or share the open ZVerseStore");
    }
    return opening;
  }

  /**
   * Frees {@code name} if {@code opening} (what {@link #reserve} returned) still holds it: a late
   * release of an opening that failed never frees the name of a newer store.
   */
  void release(String name, long opening) {
    open.remove(name, opening);
  }
}
