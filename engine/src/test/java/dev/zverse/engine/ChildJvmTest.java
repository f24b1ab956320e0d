package dev.zverse.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.testkit.ChildJvm;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** The crash harness both crash tests drive their children through. */
class ChildJvmTest {
  /** A child: prints its arguments as lines, then exits with status 3 or, given "stay", blocks. */
  public static final class Echo {
    private Echo() {}

    /**
     * Prints each argument on a line; then blocks if the last is {@code stay}, else exits with 3.
     *
     * @param args the lines
     * @throws InterruptedException never: the parent kills a blocked child
     */
    public static void main(String[] args) throws InterruptedException {
      for (String a : args) {
        System.out.println(a);
      }
      System.out.flush();
      if (args.length > 0 && args[args.length - 1].equals("stay")) {
        Thread.currentThread().join(); // until the parent's SIGKILL
      }
      System.exit(3);
    }
  }

  @Test
  void theListenerSeesEveryLineInOrderAndTheExitStatusIsTheChilds() throws Exception {
    ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
    ChildJvm child = ChildJvm.start(List.of(), Echo.class, List.of("a", "b b", "c"), lines::add);
    assertTrue(child.waitFor(Duration.ofSeconds(60)), "the child exits on its own");
    assertEquals(3, child.exitValue());
    assertEquals(List.of("a", "b b", "c"), List.copyOf(lines));
  }

  @Test
  void awaitReturnsOnceTheLineIsThereAndKillStopsABlockedChild() throws Exception {
    ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
    ChildJvm child = ChildJvm.start(List.of(), Echo.class, List.of("ready", "stay"), lines::add);
    assertTrue(child.await(() -> lines.contains("stay"), Duration.ofSeconds(60)));
    child.kill();
    assertTrue(child.exitValue() != 0 && child.exitValue() != 3, "killed: " + child.exitValue());
    assertEquals(List.of("ready", "stay"), List.copyOf(lines));
  }

  @Test
  void awaitGivesUpWhenTheChildExitsWithoutTheLine() throws Exception {
    ChildJvm child = ChildJvm.start(List.of(), Echo.class, List.of("bye"), line -> {});
    assertEquals(false, child.await(() -> false, Duration.ofSeconds(60)));
    assertTrue(child.waitFor(Duration.ofSeconds(60)));
  }

  @Test
  void closeKillsAChildThatStillRunsSoAFailedTestLeavesNone() throws Exception {
    ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
    ChildJvm left;
    try (ChildJvm child =
        ChildJvm.start(List.of(), Echo.class, List.of("ready", "stay"), lines::add)) {
      left = child;
      assertTrue(child.await(() -> lines.contains("stay"), Duration.ofSeconds(60)));
      // The test ends here as a failed assertion would: without killing its child.
    }
    // exitValue throws IllegalThreadStateException while the child runs.
    assertTrue(left.exitValue() != 0 && left.exitValue() != 3, "killed: " + left.exitValue());
  }

  @Test
  void closeAfterTheChildExitedIsANoOp() throws Exception {
    ChildJvm child = ChildJvm.start(List.of(), Echo.class, List.of("bye"), line -> {});
    assertTrue(child.waitFor(Duration.ofSeconds(60)), "the child exits on its own");
    child.close();
    assertEquals(3, child.exitValue());
  }

  @Test
  void aListenerThatThrowsFailsTheTestOnKill() throws Exception {
    IllegalStateException broken = new IllegalStateException("listener broken, for the test");
    ChildJvm child =
        ChildJvm.start(
            List.of(),
            Echo.class,
            List.of("x", "stay"),
            line -> {
              throw broken;
            });
    // The reader stops at the listener's failure, which ends the wait.
    assertEquals(false, child.await(() -> false, Duration.ofSeconds(60)));
    AssertionError e = assertThrows(AssertionError.class, child::kill);
    assertInstanceOf(IllegalStateException.class, e.getCause());
    assertEquals(broken, e.getCause());
  }
}
