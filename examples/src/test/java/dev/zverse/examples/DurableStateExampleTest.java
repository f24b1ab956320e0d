package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.zverse.examples.DurableStateExample.Balance;
import dev.zverse.examples.DurableStateExample.Runs;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableStateExampleTest {
  @Test
  void accountsRecoverTheirStateAfterARestartAndTheQueriesSeeEveryRevision(
      @TempDir Path directory) {
    Output out = new Output();
    Runs runs = DurableStateExample.run(directory.resolve("accounts"), out.stream);

    assertEquals(
        List.of(new Balance(100_00, 1), new Balance(20_00, 1), new Balance(150_00, 2)),
        runs.firstRun(),
        out::text);
    assertEquals(new Balance(150_00, 2), runs.recovered(), out::text);
    assertEquals(new Balance(175_00, 3), runs.afterRestart(), out::text);
    assertEquals(
        List.of("Account|alan rev=1 cents=2000 @2", "Account|ada rev=3 cents=17500 @4"),
        runs.latest(),
        out::text);
    assertEquals(
        List.of(
            "Account|ada rev=1 cents=10000 @1",
            "Account|alan rev=1 cents=2000 @2",
            "Account|ada rev=2 cents=15000 @3",
            "Account|ada rev=3 cents=17500 @4"),
        runs.revisions(),
        out::text);
    assertEquals(new Balance(100_00, 1), runs.adaAtFirstVersion(), out::text);
  }
}
