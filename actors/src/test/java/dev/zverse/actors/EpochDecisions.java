package dev.zverse.actors;

/**
 * Plays the EpochActor's side of the pin race for other modules' tests (the streams tests use it
 * through zverse-actors' test-jar): a proposal still being decided, then the decision. It lives
 * here because the pins are package-private.
 */
public final class EpochDecisions {
  private EpochDecisions() {}

  /**
   * Proposes {@code watermark} for {@code store}, as the EpochActor does before it scans the pins.
   *
   * @param store the store; its epoch tick should be long, so that the EpochActor stays out
   * @param watermark the proposed watermark
   */
  public static void propose(ZVerseStore store, long watermark) {
    store.pins().propose(watermark);
  }

  /**
   * Ends the decision at {@code watermark}, as the EpochActor does after its scan.
   *
   * @param store the store
   * @param watermark the decided watermark
   */
  public static void decide(ZVerseStore store, long watermark) {
    store.pins().decide(watermark);
  }
}
