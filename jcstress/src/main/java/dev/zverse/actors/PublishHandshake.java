package dev.zverse.actors;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.slf4j.helpers.NOPLogger;

/**
 * The wake-up race of {@link Root#publish}, tested as a memory-ordering claim.
 *
 * <p>The writer publishes a snapshot at version 1 ({@link Root#publish}: the release store of the
 * snapshot, then the scan of the publish listeners). At the same time a change feed registers its
 * listener ({@link PublishListeners#add}) and then reads the latest snapshot to see whether it has
 * something to read already. Each side writes its own variable (the root, the listener list) and
 * then reads the other's: if both reads could pass the other side's write, the writer would scan a
 * list without the listener while the feed read version 0, and the feed would wait for a publish
 * that already happened (until the next write, forever on a quiet store).
 *
 * <p>Results: {@code r1} is 1 if the listener was told of version 1, {@code r2} the version the
 * feed read after registering.
 *
 * <p>Run with {@code java -jar jcstress/target/jcstress.jar -t PublishHandshake}.
 */
public final class PublishHandshake {
  private PublishHandshake() {}

  /** One publish of version 1 against one listener registering and reading the root. */
  @JCStressTest
  @State
  @Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "both saw each other")
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the writer told the listener")
  @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the feed read version 1 itself")
  @Outcome(
      id = "0, 0",
      expect = FORBIDDEN,
      desc = "neither saw the other: the feed missed the publish of version 1")
  public static class PublishAgainstRegister {
    private static final Snapshot EMPTY = Snapshot.empty();
    private static final Snapshot ONE = EMPTY.apply(WriteBatch.ofPut("k", "v"));

    private final Root root = new Root(EMPTY);
    private volatile int told;

    private final PublishListener listener =
        new PublishListener() {
          @Override
          public void published(Snapshot snapshot) {
            told = (int) snapshot.version();
          }

          @Override
          public void stopped(Snapshot last) {}
        };

    /** The writer's publish. */
    @Actor
    public void writer() {
      root.publish(ONE, true, NOPLogger.NOP_LOGGER, "jcstress");
    }

    /** A change feed registering, then looking at the latest snapshot. */
    @Actor
    public void feed(II_Result r) {
      root.listeners().add(listener);
      r.r2 = (int) root.snapshotAcquire().version();
    }

    /** Read once both actors are done: was the listener told? */
    @Arbiter
    public void arbiter(II_Result r) {
      r.r1 = told;
    }
  }
}
