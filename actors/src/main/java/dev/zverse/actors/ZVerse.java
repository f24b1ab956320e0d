package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.jspecify.annotations.Nullable;

/**
 * The registry of the stores open in one actor system, as a Pekko typed extension: {@code
 * ZVerse.get(system).open("inventory")} opens a store by name, {@link #store(String)} finds an open
 * one, {@link #stores()} lists them. A store name is open at most once at a time in an actor
 * system. {@link ZVerseStore#open(ActorSystem, String)} goes through the same registry, so a store
 * opened either way is found here.
 *
 * <p>The actor system's coordinated shutdown closes every store still open, in its {@code
 * before-actor-system-terminate} phase: each store registers its own close task when it opens and
 * cancels it when closed earlier (see {@link ZVerseStore#close()}).
 *
 * <p>Tests replace the settings a store opened by name gets (for example a manual clock or a
 * temporary data directory, also for stores a plug-in opens) with a {@link ZVerseSetup} in the
 * actor system's setup.
 *
 * <p>Thread-safe.
 */
public final class ZVerse implements Extension {
  /** The extension's id; a {@link ZVerseSetup} replaces how it is created. */
  static final ExtensionId<ZVerse> ID =
      new ExtensionId<>() {
        @Override
        public ZVerse createExtension(ActorSystem<?> system) {
          return new ZVerse(system, StoreSettings::create);
        }
      };

  /** A name's holder: {@code store} is null while the opening is under way. */
  private record Slot(long opening, @Nullable ZVerseStore store) {}

  private final ActorSystem<?> system;
  private final BiFunction<ActorSystem<?>, String, StoreSettings> settings;
  private final ConcurrentHashMap<String, Slot> open = new ConcurrentHashMap<>();
  private final AtomicLong openings = new AtomicLong();

  /** Serializes {@link #getOrOpen}, so that two callers sharing a name open it once. */
  private final Object sharing = new Object();

  ZVerse(ActorSystem<?> system, BiFunction<ActorSystem<?>, String, StoreSettings> settings) {
    this.system = Objects.requireNonNull(system, "system");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * The registry of {@code system}'s stores, created on first use.
   *
   * @param system the actor system
   * @return its registry; the same instance on every call
   * @throws NullPointerException if {@code system} is null
   */
  public static ZVerse get(ActorSystem<?> system) {
    return ID.apply(Objects.requireNonNull(system, "system"));
  }

  /**
   * Opens the store named {@code name} with its configured settings: {@code zverse.stores.<name>}
   * over the defaults {@code zverse.store} (see {@link StoreSettings#create(ActorSystem, String)}),
   * unless a {@link ZVerseSetup} supplies them.
   *
   * @param name the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64 characters
   * @return the open store
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if the name is malformed or a setting is invalid
   * @throws IllegalStateException if a store of that name is already open in this actor system, or
   *     another store holds the data directory
   * @throws java.io.UncheckedIOException if the data directory cannot be recovered; see {@link
   *     ZVerseStore#open(ActorSystem, String)}
   */
  public ZVerseStore open(String name) {
    StoreSettingsReader.requireStoreName(name);
    return open(name, Objects.requireNonNull(settings.apply(system, name), "settings of " + name));
  }

  /**
   * Opens the store named {@code name} with explicit settings.
   *
   * @param name the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64 characters
   * @param settings the store's settings
   * @return the open store
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed
   * @throws IllegalStateException if a store of that name is already open in this actor system, or
   *     another store holds the data directory
   * @throws java.io.UncheckedIOException if the data directory cannot be recovered; see {@link
   *     ZVerseStore#open(ActorSystem, String)}
   */
  public ZVerseStore open(String name, StoreSettings settings) {
    return ZVerseStore.open(system, name, settings);
  }

  /**
   * Opens a replica named {@code name}: a store that takes no writes of its own but follows another
   * store's commits, handed to it through {@link AdvancedOperations#applyCommits} (the cluster
   * module's replicas). Everything else works as on a store opened by {@link #open(String,
   * StoreSettings)}: reads, read transactions, pins, publish listeners and change feeds, retention
   * by {@code settings} (which may keep more history than the writer), durability (a durable
   * replica logs what it applies and recovers to that version).
   *
   * @param name the replica's name, as for {@link #open(String, StoreSettings)}
   * @param settings the replica's settings
   * @return the open replica, at version 0 (or its recovered version, if durable)
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed
   * @throws IllegalStateException if a store of that name is already open in this actor system, or
   *     another store holds the data directory
   * @throws java.io.UncheckedIOException if the data directory cannot be recovered
   */
  public ZVerseStore openReplica(String name, StoreSettings settings) {
    return StoreOpener.open(system, name, settings, WriterActor.Applier.DEFAULT, true, null);
  }

  /**
   * Opens a memory-only store named {@code name} that starts from {@code base} instead of empty:
   * its first write commits as {@code base.version() + 1}, and reads, history and the commit log
   * are {@code base}'s until then. For the cluster module's writer, which starts where its node's
   * replica is; {@code base} may come from another store of this system (snapshots are immutable).
   *
   * @param name the store's name, as for {@link #open(String, StoreSettings)}
   * @param settings the store's settings: memory-only, with {@code base}'s key and value limits
   * @param base the state to start from
   * @return the open store, at {@code base.version()}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the name is malformed or {@code settings} are durable
   * @throws IllegalStateException if a store of that name is already open in this actor system
   */
  public ZVerseStore openFrom(String name, StoreSettings settings, Snapshot base) {
    Objects.requireNonNull(base, "base");
    return StoreOpener.open(system, name, settings, WriterActor.Applier.DEFAULT, false, base);
  }

  /**
   * The open store named {@code name}, or, if none is, opens it as {@link #open(String)} does: for
   * parts of an application (such as the durable state plug-in) that share a store by name.
   *
   * @param name the store's name, matching {@code [A-Za-z0-9][A-Za-z0-9_-]*}, at most 64 characters
   * @return the open store
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if the name is malformed or a setting is invalid
   * @throws IllegalStateException if a store of that name is closing but has not stopped yet, or
   *     another store holds the data directory
   * @throws java.io.UncheckedIOException if the data directory cannot be recovered
   */
  public ZVerseStore getOrOpen(String name) {
    synchronized (sharing) {
      return store(name).orElseGet(() -> open(name));
    }
  }

  /**
   * The open store named {@code name}.
   *
   * @param name the store's name
   * @return the store, or empty if no store of that name is open (or it is still opening, or
   *     closed)
   * @throws NullPointerException if {@code name} is null
   */
  public Optional<ZVerseStore> store(String name) {
    Slot slot = open.get(Objects.requireNonNull(name, "name"));
    ZVerseStore store = slot == null ? null : slot.store();
    if (store == null || store.isClosed()) {
      return Optional.empty();
    }
    return Optional.of(store);
  }

  /**
   * The stores open in this actor system.
   *
   * @return the open stores, by name; a copy, not updated by later opens and closes
   */
  public List<ZVerseStore> stores() {
    List<ZVerseStore> stores = new ArrayList<>();
    for (Slot slot : open.values()) {
      ZVerseStore store = slot.store();
      if (store != null && !store.isClosed()) {
        stores.add(store);
      }
    }
    stores.sort(Comparator.comparing(ZVerseStore::name));
    return List.copyOf(stores);
  }

  /**
   * Reserves {@code name} for an opening.
   *
   * @return the number of this opening, unique in the actor system
   * @throws IllegalStateException if a store of that name is open
   */
  long reserve(String name) {
    long opening = openings.incrementAndGet();
    if (open.putIfAbsent(name, new Slot(opening, null)) != null) {
      throw new IllegalStateException(
          "a store named ["
              + name
              + "] is already open in actor system ["
              + system.name()
              + "]; close it first, or share the open ZVerseStore (ZVerse.get(system).store)");
    }
    return opening;
  }

  /** Makes the store of the opening {@code opening} (what {@link #reserve} returned) findable. */
  void opened(String name, long opening, ZVerseStore store) {
    boolean replaced = open.replace(name, new Slot(opening, null), new Slot(opening, store));
    assert replaced : "opening " + opening + " of [" + name + "] lost its reservation";
  }

  /**
   * Frees {@code name} if {@code opening} still holds it: a late release of an opening that failed
   * never frees the name of a newer store.
   */
  void release(String name, long opening) {
    open.computeIfPresent(name, (n, slot) -> slot.opening() == opening ? null : slot);
  }
}
