package dev.zverse.engine;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A {@link WriteBatch} was refused because some of its {@link Condition}s did not hold. The batch
 * changed nothing and took no version. Lists every condition that failed with what was found.
 */
public final class ConditionFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * One failed condition and what the store held instead.
   *
   * @param condition the condition of the batch
   * @param actual what was found, in words
   */
  public record Failure(Condition condition, String actual) {
    @Override
    public String toString() {
      return "expected " + condition + ", found " + actual;
    }
  }

  private final transient List<Failure> failures;

  /**
   * @param failures every condition of the batch that failed, at least one
   */
  public ConditionFailedException(List<Failure> failures) {
    super(
        failures.size()
            + " condition(s) failed: "
            + failures.stream().map(Failure::toString).collect(Collectors.joining("; ")));
    this.failures = List.copyOf(failures);
  }

  /** Every failed condition, in the order the batch listed them. */
  public List<Failure> failures() {
    return failures;
  }
}
