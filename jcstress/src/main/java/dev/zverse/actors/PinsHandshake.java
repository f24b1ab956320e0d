package dev.zverse.actors;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.time.InstantSource;
import java.util.Iterator;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The pin race of {@link Pins}, tested as a memory-ordering claim.
 *
 * <p>A reader has loaded a snapshot at version 1 and pins it ({@link Pins#tryPin}: add the pin,
 * then read the proposal). At the same time the EpochActor moves the watermark from 1 towards 2 as
 * its tick does ({@code EpochActor.onTick}): propose the target 2, scan the pins, then lower the
 * proposal to what the pins allow and decide that. The two sides form a Dekker-style handshake:
 * each writes its own variable (the pin set, the proposal) and then reads the other's. If either
 * read may pass the other side's earlier write (a store still in a store buffer while the load
 * runs, as x86 and ARM allow for anything weaker than volatile on both sides), both sides miss each
 * other: the reader's pin is validated while the scan never saw it, and the watermark is decided
 * above the pinned version. The writer would then prune a version a reader holds a pin for, which
 * is what a pin promises never to allow.
 *
 * <p>Results: {@code r1} is 1 if the reader's pin was validated, {@code r2} the decided watermark,
 * {@code r3} the number of pins left once both are done (a validated pin stays, a refused one must
 * be removed again).
 *
 * <p>The test does catch a broken fence: with {@code Pins.propose} weakened to a release store
 * ({@code lazySet}), a quick run on a 2-core x86 machine saw the forbidden outcome in 1,901 of 7.8
 * million samples (the proposal still in the store buffer while the scan read the pins).
 *
 * <p>Run with {@code java -jar jcstress/target/jcstress.jar -t PinsHandshake}.
 */
public final class PinsHandshake {
  private PinsHandshake() {}

  /** One reader's {@code tryPin} at version 1 against one tick deciding the watermark. */
  @JCStressTest
  @State
  @Outcome(
      id = "1, 1, 1",
      expect = ACCEPTABLE,
      desc = "the scan saw the pin: the watermark stays at the pinned version, the pin holds")
  @Outcome(
      id = "0, 2, 0",
      expect = ACCEPTABLE,
      desc =
          "the reader saw the proposal first: it backed out (to retry at a newer snapshot)"
              + " and the scan did not count it")
  @Outcome(
      id = "0, 1, 0",
      expect = ACCEPTABLE_INTERESTING,
      desc =
          "each saw the other: the reader backed out, but the scan had seen its pin and kept"
              + " version 1 for one more tick (safe, only conservative)")
  @Outcome(
      id = "1, 2, 1",
      expect = FORBIDDEN,
      desc =
          "the pin was validated AND the watermark was decided above it: both sides missed"
              + " each other, and a pinned version would be pruned")
  @Outcome(
      expect = FORBIDDEN,
      desc = "a validated pin was lost, or a refused pin was left behind in the set")
  public static class TryPinAgainstTick {
    private static final long PINNED = 1;
    private static final long TARGET = 2;

    private final Pins pins = new Pins(InstantSource.system());

    /** The watermark decided at earlier ticks; the EpochActor's own state. */
    private final long decided;

    public TryPinAgainstTick() {
      pins.decide(PINNED);
      decided = PINNED;
    }

    @Actor
    public void reader(III_Result r) {
      r.r1 = pins.tryPin(new Pins.Pin(PINNED, 0, "reader")) ? 1 : 0;
    }

    /** The steps of {@code EpochActor.onTick} that touch the pins, in its order. */
    @Actor
    public void epochTick(III_Result r) {
      pins.propose(TARGET);
      long oldest = Long.MAX_VALUE;
      for (Iterator<Pins.Pin> it = pins.iterator(); it.hasNext(); ) {
        oldest = Math.min(oldest, it.next().version);
      }
      long w = Math.max(decided, Math.min(TARGET, oldest));
      pins.decide(w);
      r.r2 = (int) w;
    }

    @Arbiter
    public void arbiter(III_Result r) {
      int n = 0;
      for (Iterator<Pins.Pin> it = pins.iterator(); it.hasNext(); it.next()) {
        n++;
      }
      r.r3 = n;
    }
  }
}
