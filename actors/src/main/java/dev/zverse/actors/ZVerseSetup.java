package dev.zverse.actors;

import java.util.Objects;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.ExtensionSetup;

/**
 * Replaces how the {@link ZVerse} registry of an actor system is created: passed in the actor
 * system's setup ({@code ActorSystemSetup.create(BootstrapSetup.create(config)).withSetup(...)}),
 * it decides the settings of every store opened by name ({@link ZVerse#open(String)}, {@link
 * ZVerseStore#open(ActorSystem, String)}, and the stores plug-ins open), for example to give them
 * all a manual clock or a temporary data directory in a test. Immutable.
 */
public final class ZVerseSetup extends ExtensionSetup<ZVerse> {
  private ZVerseSetup(BiFunction<ActorSystem<?>, String, StoreSettings> settings) {
    super(ZVerse.ID, system -> new ZVerse(system, settings));
  }

  /**
   * A setup whose registry opens each store named {@code name} with {@code settings.apply(system,
   * name)} instead of its configured settings.
   *
   * @param settings the settings of a store, from the actor system and the store's name; it must
   *     not return null, and may start from {@link StoreSettings#create(ActorSystem, String)}
   * @return the setup
   * @throws NullPointerException if {@code settings} is null
   */
  public static ZVerseSetup withSettings(
      BiFunction<ActorSystem<?>, String, StoreSettings> settings) {
    return new ZVerseSetup(Objects.requireNonNull(settings, "settings"));
  }
}
