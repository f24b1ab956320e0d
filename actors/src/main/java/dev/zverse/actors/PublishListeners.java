package dev.zverse.actors;

import dev.zverse.engine.Snapshot;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * The {@link PublishListener}s of one store. The writer walks a copy-on-write array on each
 * publish: no lock and no allocation on its path. Adding and removing copy the array, which is rare
 * (once per feed materialization).
 *
 * <p>Exactly one {@code stopped} per registration: {@link #stop} and {@link #add} meet under this
 * object's monitor, so a listener added while the writer stops is either in the list {@code stop}
 * walks or sees {@link #stoppedAt} set and is told at once.
 *
 * <p>Thread-safe.
 */
final class PublishListeners {
  private final CopyOnWriteArrayList<PublishListener> listeners = new CopyOnWriteArrayList<>();

  /** The final snapshot once the writer stopped; guarded by {@code this}. */
  private @Nullable Snapshot stoppedAt;

  /** Registers {@code listener}, or tells it at once that the writer has stopped. */
  void add(PublishListener listener) {
    Snapshot last;
    synchronized (this) {
      last = stoppedAt;
      if (last == null) {
        listeners.add(listener);
        // The caller reads the latest snapshot next: see Root.publish for the handshake.
        VarHandle.fullFence();
        return;
      }
    }
    listener.stopped(last);
  }

  /** Removes {@code listener} (by identity of registration); true if it was registered. */
  boolean remove(PublishListener listener) {
    return listeners.remove(listener);
  }

  /** Listeners registered now (change feeds, mostly). */
  int size() {
    return listeners.size();
  }

  /** Writer only: {@code s} was just published. */
  void published(Snapshot s, Logger log, String storeName) {
    for (PublishListener l : listeners) {
      try {
        l.published(s);
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (RuntimeException | Error e) {
        // A listener's failure, an AssertionError included, must not restart the writer.
        log.error(
            "[{}] a publish listener threw on version [{}]; ignored", storeName, s.version(), e);
      }
    }
  }

  /** Writer only, once: the writer stopped with {@code last} published. */
  void stop(Snapshot last, Logger log, String storeName) {
    Object[] told;
    synchronized (this) {
      if (stoppedAt != null) {
        return;
      }
      stoppedAt = last;
      told = listeners.toArray();
      listeners.clear();
    }
    for (Object o : told) {
      try {
        ((PublishListener) o).stopped(last);
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (RuntimeException | Error e) {
        log.error(
            "[{}] a publish listener threw when told the writer stopped; ignored", storeName, e);
      }
    }
  }
}
