package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * The wait of a replica before it asks the writer again after failed state transfers in a row
 * ({@link TransferSettings#retryDelay}): {@code follow-retry} after the first failure, then twice
 * the wait before for each next one, never past {@code transfer.retry-backoff-max} (nor below
 * {@code follow-retry}), and it reaches that bound.
 */
class TransferBackoffProperties {
  private static TransferSettings withMax(Duration max) {
    return TransferSettings.create(ConfigFactory.load().getConfig("zverse.cluster.transfer"))
        .withRetryBackoffMax(max);
  }

  @Property(tries = 500)
  void theWaitStartsAtFollowRetryAndDoublesUpToTheBound(
      @ForAll @LongRange(min = 1, max = 3_600_000) long followRetryMs,
      @ForAll @LongRange(min = 1, max = 3_600_000) long maxMs,
      @ForAll @IntRange(min = 1, max = 200) int failures) {
    Duration followRetry = Duration.ofMillis(followRetryMs);
    TransferSettings settings = withMax(Duration.ofMillis(maxMs));
    Duration cap = Duration.ofMillis(Math.max(followRetryMs, maxMs));
    assertEquals(followRetry, settings.retryDelay(followRetry, 1), "after the first failure");
    Duration before = settings.retryDelay(followRetry, failures);
    Duration next = settings.retryDelay(followRetry, failures + 1);
    assertTrue(before.compareTo(followRetry) >= 0 && before.compareTo(cap) <= 0, before + "");
    // Doubled, unless that passes the bound: then the bound.
    Duration doubled = before.multipliedBy(2);
    assertEquals(doubled.compareTo(cap) > 0 ? cap : doubled, next, "after failure " + failures);
    // Reached: no more than about 42 doublings from 1 ms to 1 h.
    assertEquals(cap, settings.retryDelay(followRetry, 64), "the bound is reached");
  }

  @Test
  void theBoundIsReadFromReferenceConfAndRefusedOutsideItsRangeNamingTheSetting() {
    TransferSettings defaults =
        TransferSettings.create(ConfigFactory.load().getConfig("zverse.cluster.transfer"));
    assertEquals(Duration.ofSeconds(60), defaults.retryBackoffMax());
    for (Duration bad :
        new Duration[] {Duration.ZERO, Duration.ofHours(2), Duration.ofSeconds(-1)}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> defaults.withRetryBackoffMax(bad));
      assertTrue(e.getMessage().contains("transfer.retry-backoff-max must be in"), e.getMessage());
      assertTrue(e.getMessage().contains("was " + bad), e.getMessage());
    }
  }
}
