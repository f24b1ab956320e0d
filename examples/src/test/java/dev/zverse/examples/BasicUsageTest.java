package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class BasicUsageTest {
  @Test
  void engineExampleReadsOldVersionsPrunesAndRefusesStaleConditions() {
    Output out = new Output();
    PrintStream saved = System.out;
    System.setOut(out.stream);
    try {
      BasicUsage.main(new String[0]);
    } finally {
      System.setOut(saved);
    }
    List<String> lines = out.lines();
    for (String expected :
        List.of(
            "key1 now (v3): value1-updated",
            "key1 at v1:     value1",
            "key2 now (v4): null, at v3: value2",
            "  orders/1001 = paid (created v5, changed v6)",
            "a snapshot held from before the prune still reads v1: value1")) {
      assertTrue(
          lines.contains(expected), () -> "missing line \"" + expected + "\" in:\n" + out.text());
    }
    assertTrue(out.text().contains("refused: 2 condition(s) failed"), out::text);
    assertTrue(
        out.text().contains("pruned: version 1 is below the retention watermark 5"), out::text);
  }
}
