package dev.zverse.engine.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The child-JVM crash harness: runs a main class in a child JVM on this JVM's class path, hands
 * each line it prints to a listener on a reader thread, and kills it with SIGKILL at a moment the
 * test chooses. The crash tests of the log and of the store both drive their writers through it.
 *
 * <p>Waiting for what the child printed uses the listener's own state (an acknowledged version, an
 * open): {@link #await} wakes on every line and on the child's exit, so no test sleeps to poll.
 *
 * <p><b>Thread safety.</b> The listener runs on the reader thread only; the other methods belong to
 * the test's thread. Whatever the listener stored is visible to the test after {@link #kill} or
 * {@link #waitFor} returned (they join the reader thread), and inside {@link #await}'s condition if
 * the listener publishes it safely (an atomic, a concurrent collection).
 *
 * <p>A test holds its child in try-with-resources: {@link #close} kills a child still running, so
 * that a failed assertion never leaves one behind, writing into a directory that JUnit deletes once
 * the test is over (the child then fails on files vanishing under it, which reads like a bug of its
 * own and hides the assertion that failed).
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final Thread reader;
  private final Object lines = new Object();

  /** The listener's failure, set by the reader thread before it ends. */
  private volatile Throwable listenerFailure;

  /** Whether the child's output ended; guarded by {@link #lines}. */
  private boolean ended;

  private ChildJvm(Process process, Consumer<String> listener) {
    this.process = process;
    this.reader = new Thread(() -> read(listener), "child-jvm-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code mainClass} in a child JVM with this JVM's class path; its standard error goes to
   * this JVM's.
   *
   * @param jvmOptions options before the class name, such as {@code -Xmx256m}; may be empty
   * @param mainClass the class whose {@code main} runs
   * @param args the arguments of {@code main}
   * @param listener called on the reader thread with each line the child prints, in order; a line
   *     the kill cut short may be the last one
   * @return the running child
   * @throws IOException if the child cannot be started
   */
  public static ChildJvm start(
      List<String> jvmOptions, Class<?> mainClass, List<String> args, Consumer<String> listener)
      throws IOException {
    Objects.requireNonNull(listener, "listener");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    return new ChildJvm(process, listener);
  }

  private void read(Consumer<String> listener) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        listener.accept(line);
        signal();
      }
    } catch (IOException e) {
      // The pipe breaks when the child dies.
    } catch (RuntimeException | Error e) {
      listenerFailure = e;
    } finally {
      synchronized (lines) {
        ended = true;
        lines.notifyAll();
      }
    }
  }

  private void signal() {
    synchronized (lines) {
      lines.notifyAll();
    }
  }

  /**
   * Waits until {@code condition} holds, the child's output ended (it exited) or {@code timeout}
   * passed, whichever comes first. The condition is tested after each line the child prints.
   *
   * @param condition tested on this thread over what the listener stored
   * @param timeout the longest wait
   * @return whether {@code condition} holds at the end
   * @throws InterruptedException if this thread is interrupted while waiting
   */
  public boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lines) {
      while (!condition.getAsBoolean() && !ended) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        TimeUnit.NANOSECONDS.timedWait(lines, left);
      }
    }
    return condition.getAsBoolean();
  }

  /**
   * Kills the child with SIGKILL, as a power cut or the OOM killer would, and waits for it to be
   * gone and for the reader to hand over the last line.
   *
   * @throws InterruptedException if this thread is interrupted while waiting
   * @throws AssertionError if the listener threw on some line
   */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
    joinReader();
  }

  /**
   * Kills the child with SIGKILL if it still runs and waits for it to be gone; a no-op once it is.
   * Unlike {@link #kill} it does not report a listener's failure: it runs when the test is over,
   * often after another failure that must not be masked.
   */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor();
      reader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the child was sent SIGKILL; its exit is the kernel's
    }
  }

  /**
   * Waits up to {@code timeout} for the child to exit on its own, then for the reader.
   *
   * @param timeout the longest wait for the exit
   * @return whether the child exited in time (if not, it is still running)
   * @throws InterruptedException if this thread is interrupted while waiting
   * @throws AssertionError if the listener threw on some line
   */
  public boolean waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      return false;
    }
    joinReader();
    return true;
  }

  /**
   * The child's exit status.
   *
   * @return the status {@code main} or {@code System.exit} gave
   * @throws IllegalThreadStateException if the child is still running
   */
  public int exitValue() {
    return process.exitValue();
  }

  private void joinReader() throws InterruptedException {
    reader.join();
    Throwable failure = listenerFailure;
    if (failure != null) {
      throw new AssertionError("the listener failed on the child's output", failure);
    }
  }
}
