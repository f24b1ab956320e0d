package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.management.ObjectName;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a {@link ZVerseStore}: recovers the data directory if durable, starts the store's two
 * actors, reserves its name in the system's {@link ZVerse} registry and registers its close with
 * coordinated shutdown. Apart from the facade so that the facade reads as the user's API; it runs
 * once per store, on the opening thread.
 */
final class StoreOpener {
  private StoreOpener() {}

  /** {@link ZVerseStore#open(ActorSystem, String, StoreSettings)} with a hook around each apply. */
  static ZVerseStore open(
      ActorSystem<?> system, String name, StoreSettings settings, WriterActor.Applier applier) {
    return open(system, name, settings, applier, false, null);
  }

  /**
   * Opens a store, or with {@code replica} a replica: the same actors, fed through {@link
   * AdvancedOperations#applyCommits} instead of writes; a memory-only store starts from {@code
   * base} if given, else empty.
   */
  static ZVerseStore open(
      ActorSystem<?> system,
      String name,
      StoreSettings settings,
      WriterActor.Applier applier,
      boolean replica,
      @Nullable Snapshot base) {
    Objects.requireNonNull(system, "system");
    StoreSettingsReader.requireStoreName(name);
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(applier, "applier");
    if (base != null && settings.isDurable()) {
      throw new IllegalArgumentException(
          "settings must be memory-only to open store [" + name + "] from a base snapshot");
    }

    ZVerse open = ZVerse.get(system);
    long opening = open.reserve(name);
    ZVerseStore store;
    Journal journal = null;
    try {
      Executor indexing =
          settings.zIndex().dispatcher().isEmpty()
              ? system.executionContext()
              : system
                  .dispatchers()
                  .lookup(DispatcherSelector.fromConfig(settings.zIndex().dispatcher()));
      if (settings.isDurable()) {
        Logger log = LoggerFactory.getLogger(Journal.class);
        journal = Journal.open(name, settings, settings.zIndex().options(indexing), log);
      }
      Root root =
          new Root(
              journal != null
                  ? journal.recovered()
                  : base != null
                      ? base
                      : Snapshot.empty(settings.limits(), settings.zIndex().options(indexing)));
      WriteGate gate = new WriteGate(settings.maxPendingWrites());
      Pins pins = new Pins(settings.clock());
      CompletableFuture<Done> epochStopped = new CompletableFuture<>();
      CompletableFuture<Done> writerStopped = new CompletableFuture<>();
      String prefix = "zverse-" + name + "-" + opening;
      ActorRef<EpochActor.Command> epoch =
          system.systemActorOf(
              EpochActor.create(
                  new EpochActor.Setup(name, settings, root, pins, gate, epochStopped)),
              prefix + "-epoch",
              Props.empty());
      Props writerProps =
          settings.writerDispatcher().isEmpty()
              ? DispatcherSelector.defaultDispatcher()
              : DispatcherSelector.fromConfig(settings.writerDispatcher());
      ActorRef<WriterActor.Command> writer =
          system.systemActorOf(
              WriterActor.create(
                  new WriterActor.Setup(
                      name,
                      root,
                      gate,
                      pins,
                      epoch,
                      applier,
                      settings.maxGroupWrites(),
                      writerStopped,
                      journal == null
                          ? null
                          : new GroupLog(journal, settings.durability().groupCommitWait()),
                      settings.clock())),
              prefix + "-writer",
              writerProps);
      CompletableFuture<Done> stopped =
          CompletableFuture.allOf(writerStopped, epochStopped)
              .thenApply(unused -> Done.getInstance());
      if (journal != null) {
        // The final checkpoint and the lock's release come after the last write was answered.
        Journal j = journal;
        stopped =
            stopped.thenCompose(done -> j.close(root.snapshotAcquire()).thenApply(unused -> done));
        journal.checkpointEvery(settings.durability().checkpointInterval(), root);
      }
      // Filled once the store exists; the bean goes before the name is free to open again.
      CompletableFuture<ObjectName> bean = new CompletableFuture<>();
      Logger jmxLog = LoggerFactory.getLogger(StoreJmx.class);
      // Unregistering catches its own failures: the stage thenAccept returns has nothing to report.
      stopped =
          stopped.whenComplete(
              (done, e) -> {
                CompletableFuture<Void> unused =
                    bean.thenAccept(n -> StoreJmx.unregister(n, jmxLog));
              });
      // Part of the stage close() returns: whoever waits for it may open the name again at once.
      stopped = stopped.whenComplete((done, e) -> open.release(name, opening));
      store =
          new ZVerseStore(
              name, settings, system, root, gate, pins, writer, epoch, stopped, journal, replica);
      ObjectName registered = StoreJmx.register(store, jmxLog);
      if (registered != null) {
        bean.complete(registered);
      }
      open.opened(name, opening, store);
    } catch (RuntimeException | Error e) {
      if (journal != null) {
        // Best effort while the opening fails: its own exception is what the caller gets.
        CompletableFuture<Void> unused = journal.close(journal.recovered());
      }
      open.release(name, opening);
      throw e;
    }
    try {
      store.closeOnShutdown(
          CoordinatedShutdown.get(system)
              .addCancellableTask(
                  CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
                  "zverse-close-" + name,
                  store::close));
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }
}
