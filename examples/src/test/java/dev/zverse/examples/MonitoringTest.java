package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MonitoringTest {
  @Test
  void theMetersTheBeanAndTheChecksFollowTheStore() throws Exception {
    Output out = new Output();
    Monitoring.Seen seen = Monitoring.run(out.stream);

    assertEquals(3.0, seen.meteredVersion(), out::text);
    assertEquals(3.0, seen.meteredWrites(), out::text);
    assertEquals(3, seen.jmxWrites(), out::text);
    assertTrue(seen.readyWhileOpen(), out::text);
    assertTrue(seen.liveWhileOpen(), out::text);
    assertFalse(seen.readyAfterClose(), out::text);
  }
}
