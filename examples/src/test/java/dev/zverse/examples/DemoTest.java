package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.examples.Demo.Options;
import dev.zverse.examples.Demo.Row;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoTest {
  @Test
  void printsEveryRowOfTheSeedsTableWithBothFiguresAndWhereTheBenchmarksAre() {
    Output out = new Output();
    List<Row> rows =
        Demo.run(out.stream, new Options(2_000, Duration.ofMillis(50), Duration.ofMillis(50)));

    List<String> operations =
        List.of(
            "single-threaded reads",
            "single-threaded writes",
            "get, existing key",
            "get, missing key",
            "8 concurrent readers",
            "4 concurrent writers",
            "mixed workload",
            "memory per entry");
    assertEquals(operations, rows.stream().map(Row::operation).toList());
    for (Row r : rows) {
      assertTrue(Double.isFinite(r.zverse()) && Double.isFinite(r.ratio()), r::toString);
      if (!r.unit().equals("bytes")) {
        assertTrue(r.zverse() > 0, r::toString);
      }
    }
    String text = out.text();
    for (String progress :
        List.of("[1/9] loading 2,000 keys", "[9/9] mixed: 8 readers and 4 writers")) {
      assertTrue(text.contains(progress), () -> "no progress line " + progress + " in\n" + text);
    }
    for (String seedFigure :
        List.of(
            "54,715 ops/s",
            "5,514 ops/s",
            "48 µs",
            "35 µs",
            "319,086 ops/s",
            "1,986 ops/s",
            "4,139 ops/s",
            "150 bytes")) {
      assertTrue(
          text.lines().anyMatch(l -> l.contains(" | ") && l.contains(seedFigure)),
          () -> "seed figure " + seedFigure + " not in the table\n" + text);
    }
    assertTrue(text.contains("operation") && text.contains("ZVerse vs seed"), text);
    assertTrue(
        text.contains("machine: " + Runtime.getRuntime().availableProcessors() + " cores"), text);
    assertTrue(text.contains("quick indication") && text.contains("benchmarks/README.md"), text);
    assertTrue(text.contains("java -jar benchmarks/target/benchmarks.jar"), text);
  }

  @Test
  void optionsComeFromTheCommandLineAndBadOnesAreNamed() {
    assertEquals(Options.defaults(), Options.parse());
    Options o = Options.parse("--keys", "5000", "--seconds", "0.5");
    assertEquals(5_000, o.keys());
    assertEquals(Duration.ofMillis(500), o.phase());
    assertEquals(Duration.ofMillis(750), o.warmup());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Options.parse("--keys", "10"));
    assertTrue(e.getMessage().contains("keys must be in [1000, 10000000], was 10"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Options.parse("--fast"));
    assertTrue(e.getMessage().contains("--keys N and --seconds S"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Options.parse("--seconds", "x"));
    assertTrue(e.getMessage().contains("--seconds takes a number"), e.getMessage());
  }
}
