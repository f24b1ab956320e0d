package dev.zverse.actors;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.Transient;
import dev.zverse.engine.WriteBatch;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * One group commit of the {@link WriterActor}: the transient it builds over its base snapshot, the
 * steps applied to it in order, and how to answer their writers (all at once when the group is
 * published, or all failed when it is not).
 *
 * <h2>Faults</h2>
 *
 * A refused step changes nothing and the transient stays usable (the engine checks limits and
 * conditions first). Any other exception while applying a step may leave the transient
 * half-changed, so it is dropped: the group rebuilds a transient from its base and replays the
 * steps that had succeeded, in order and with their commit times (batches are immutable, so each
 * gets the same version and outcome again); only the write that threw fails. If the replay throws
 * too, nothing of the group can be trusted and the exception escapes {@link #apply}: the writer
 * fails every write of the group and lets its supervisor restart it. So only a transient that no
 * exception touched is ever made {@link #persistent()}.
 *
 * <p>Writer-confined: built, applied and answered by the WriterActor's messages only. A group
 * handed to the {@link GroupLog} is not changed any more.
 */
final class Group {

  /**
   * One step of a group: a {@link Commit} of a write, a {@link Follow} of another store's commits
   * (a replica's), or a {@link Prune}.
   */
  sealed interface Step permits Answered, Prune {
    /**
     * Applies this step to {@code tx}.
     *
     * @param tx the group's transient
     * @param applier how a batch is applied (the seam for tests)
     * @throws IllegalArgumentException or {@link dev.zverse.engine.ConditionFailedException} if the
     *     step was refused before anything changed; any other exception may leave {@code tx} torn
     */
    void applyTo(Transient tx, WriterActor.Applier applier);
  }

  /**
   * A step someone waits for: whom to answer and, once applied, its outcome. The outcome is the one
   * mutable part, so that a replay can check that the step gets the same version again. Each holds
   * a slot of the write gate until answered.
   */
  abstract static sealed class Answered implements Step permits Commit, Follow {
    final CompletableFuture<Long> result;

    /** The version the step ended at; meaningful once applied without a failure. */
    long version;

    /** Why the step is not committed, or null. */
    @Nullable Throwable failure;

    Answered(CompletableFuture<Long> result) {
      this.result = result;
    }

    /** Completes the future: with the version, or with the failure (or {@code cause}). */
    void answer(@Nullable Throwable cause) {
      Throwable why = failure != null ? failure : cause;
      if (why == null) {
        result.complete(version);
      } else {
        result.completeExceptionally(why);
      }
    }
  }

  /** A write: its batch, stamped with the clock when the writer took it. */
  static final class Commit extends Answered {
    final WriteBatch batch;

    /** The clock when the writer took the write; kept so that a replay stamps it the same. */
    final Instant clockReading;

    Commit(WriteBatch batch, CompletableFuture<Long> result, Instant clockReading) {
      super(result);
      this.batch = batch;
      this.clockReading = clockReading;
    }

    @Override
    public void applyTo(Transient tx, WriterActor.Applier applier) {
      version = applier.apply(tx, batch, clockReading);
    }
  }

  /**
   * A replica's step: consecutive commits of the store it follows, applied as they were committed
   * there ({@link Transient#applyCommit}), the first of them right after the transient's version.
   * Checked whole before any is applied, so a gap or a duplicate is refused changing nothing.
   */
  static final class Follow extends Answered {
    final List<CommitRecord> commits;

    Follow(List<CommitRecord> commits, CompletableFuture<Long> result) {
      super(result);
      this.commits = commits;
    }

    @Override
    public void applyTo(Transient tx, WriterActor.Applier applier) {
      long next = tx.version() + 1;
      for (int i = 0; i < commits.size(); i++) {
        long v = commits.get(i).version();
        if (v != next + i) {
          throw new IllegalArgumentException(
              "commits["
                  + i
                  + "] has version "
                  + v
                  + ", must be "
                  + (next + i)
                  + ": the replica is at version "
                  + (next - 1)
                  + (v < next + i ? " (a duplicate)" : " (a gap)"));
        }
      }
      for (CommitRecord c : commits) {
        tx.applyCommit(c);
      }
      version = tx.version();
    }
  }

  /**
   * Drops the history below {@code watermark}: a change that takes no version. Always a group's
   * first step, taken from the EpochActor's decision when the group opens.
   *
   * @param watermark the decided watermark, above the group's base watermark
   */
  record Prune(long watermark) implements Step {
    @Override
    public void applyTo(Transient tx, WriterActor.Applier applier) {
      tx.prune(watermark);
    }
  }

  private final Snapshot base;
  private final WriterActor.Applier applier;
  private final Logger log;
  private final String storeName;
  private final List<Step> steps = new ArrayList<>();

  /** The group's transient; null once {@link #persistent()} ended the group. */
  private @Nullable Transient tx;

  private int writes;

  /** When the group opened, by {@link System#nanoTime()}: the start of its commit latency. */
  final long openedNanos = System.nanoTime();

  /**
   * Opens a group over {@code base}.
   *
   * @param applier how its batches are applied
   * @param log the writer's logger, for refused prunes and faults
   * @param storeName the store, for the log
   */
  Group(Snapshot base, WriterActor.Applier applier, Logger log, String storeName) {
    this.base = base;
    this.applier = applier;
    this.log = log;
    this.storeName = storeName;
    this.tx = base.asTransient();
  }

  /** The snapshot the group builds on. */
  Snapshot base() {
    return base;
  }

  /**
   * Adds {@code step} and applies it (see "Faults"). A refused or faulty write keeps its failure as
   * its answer; a refused or faulty prune, which nobody waits for, leaves the group, and the next
   * group prunes again.
   *
   * @throws RuntimeException or {@link Error}: the replay after a fault failed as well; the group
   *     must be failed as a whole
   */
  void apply(Step step) {
    steps.add(step);
    if (step instanceof Answered) {
      writes++;
    }
    try {
      step.applyTo(building(), applier);
    } catch (IllegalArgumentException | ConditionFailedException refused) {
      failedLast(step, refused);
      if (step instanceof Prune prune) {
        log.warn("[{}] prune to [{}] refused", storeName, prune.watermark(), refused);
      }
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (RuntimeException | Error fault) {
      log.error(
          "[{}] applying a {} failed; it is rejected and the other {} step(s) of its group are"
              + " replayed from version [{}]",
          storeName,
          step instanceof Commit ? "write" : step instanceof Follow ? "follow" : "prune",
          steps.size() - 1,
          base.version(),
          fault);
      failedLast(step, fault);
      tx = base.asTransient();
      try {
        replay();
      } catch (RuntimeException | Error again) {
        if (again != fault) {
          again.addSuppressed(fault);
        }
        throw again;
      }
    }
  }

  private void failedLast(Step step, Throwable why) {
    assert steps.get(steps.size() - 1) == step : "not the last step";
    if (step instanceof Answered answered) {
      answered.failure = why;
    } else {
      steps.remove(steps.size() - 1);
    }
  }

  /** Applies the steps that succeeded again, in order, to the fresh transient. */
  private void replay() {
    for (Step step : steps) {
      if (step instanceof Answered answered) {
        if (answered.failure == null) {
          long before = answered.version;
          answered.applyTo(building(), applier);
          assert answered.version == before
              : "replay gave " + answered.version + ", first " + before;
        }
      } else {
        step.applyTo(building(), applier);
      }
    }
  }

  /** Ends the group's building: its snapshot, to publish or to seal. Once only. */
  Snapshot persistent() {
    Snapshot s = building().persistent();
    tx = null;
    return s;
  }

  private Transient building() {
    Transient t = tx;
    if (t == null) {
      throw new IllegalStateException("the group has ended: persistent() was called");
    }
    return t;
  }

  /**
   * How many of the steps are answered (writes, or a replica's follows): each holds a slot of the
   * write gate until answered.
   */
  int writes() {
    return writes;
  }

  /**
   * Answers every write: the group is published. Frees the gate first, so that a writer answered
   * here sees its slot free.
   */
  void answer(WriteGate gate) {
    gate.answered(writes);
    for (Step step : steps) {
      if (step instanceof Answered answered) {
        answered.answer(null);
      }
    }
  }

  /**
   * Fails every write with its own failure, or {@code cause} for those that had succeeded: nothing
   * of the group is published.
   */
  void fail(WriteGate gate, Throwable cause) {
    gate.answered(writes);
    for (Step step : steps) {
      if (step instanceof Answered answered) {
        answered.answer(cause);
      }
    }
  }
}
