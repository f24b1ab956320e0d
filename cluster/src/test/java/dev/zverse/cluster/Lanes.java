package dev.zverse.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Runs a test's lanes (clusters of their own, side by side) on threads of their own and waits for
 * all of them; a lane's assertion error is rethrown as it is, so that JUnit reports it.
 */
final class Lanes {
  private Lanes() {}

  /** One lane's work. */
  @FunctionalInterface
  interface Lane {
    /**
     * Runs lane {@code lane}.
     *
     * @param lane the lane's number, from 0
     * @throws Exception whatever the lane's work throws
     */
    void run(int lane) throws Exception;
  }

  /**
   * Runs lanes 0 to {@code lanes - 1} at once and waits for each in turn.
   *
   * @param lanes how many, at least 1
   * @param body the work of one lane
   * @throws Exception the first failed lane's failure (an {@link Error} as it was thrown)
   */
  static void run(int lanes, Lane body) throws Exception {
    List<CompletableFuture<Void>> running = new ArrayList<>();
    for (int lane = 0; lane < lanes; lane++) {
      int l = lane;
      CompletableFuture<Void> done = new CompletableFuture<>();
      Thread t =
          new Thread(
              () -> {
                try {
                  body.run(l);
                  done.complete(null);
                } catch (Throwable e) {
                  done.completeExceptionally(e);
                }
              },
              "lane-" + lane);
      t.start();
      running.add(done);
    }
    for (CompletableFuture<Void> lane : running) {
      try {
        lane.get();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Error error) {
          throw error;
        }
        throw e;
      }
    }
  }
}
