package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CorruptLogException;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.UnsupportedFormatException;
import dev.zverse.engine.WriteBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import org.jspecify.annotations.Nullable;

/**
 * A durable replica's log recovers what was written to it, or a prefix of it, or refuses naming the
 * file and the offset: random sequences of promises, histories, received groups and truncations are
 * appended, then the file is cut at a random byte or one of its bytes is changed. Cut: recovery
 * gives exactly the state after the last record wholly before the cut (every record forced before a
 * crash survives; a torn tail is dropped). Changed: recovery gives the state before the damaged
 * record (it was the last one: a torn tail), or refuses naming the file and the offset of the
 * damaged record; with {@code recover-past-corruption} it gives the state before it.
 */
class ReplicaLogProperties {
  private static final int VERSIONS = 300;

  /** Two histories with different contents at every version. */
  private static final List<Snapshot> FORKS = List.of(history("a"), history("b"));

  private static final List<TermBoundaries> HISTORIES =
      List.of(
          TermBoundaries.NONE,
          TermBoundaries.NONE.extend(0, 1),
          TermBoundaries.NONE.extend(0, 1).extend(2, 5),
          TermBoundaries.NONE.extend(0, 2).extend(4, 7).extend(19, 20));

  private static Snapshot history(String tag) {
    Snapshot s = Snapshot.empty();
    // Two more than a log receives: a test appends two after the last.
    for (int v = 1; v <= VERSIONS + 2; v++) {
      s = s.apply(WriteBatch.ofPut("k" + (v % 5), tag + v));
    }
    return s;
  }

  /**
   * 0 promise a term n, 1 a history, 2 receive n versions, 3 truncate from n-th last, 4 take a
   * transferred state's history (truncating from the n-th last), 5 the store reset to a transferred
   * state at n - 15 versions after the last received (inside what is held, or past it).
   */
  private record Op(int kind, int n) {}

  /**
   * What the log should give back after a prefix of the records, recovered against a store at
   * {@code store}: the version of the last transferred state it was reset to, 0 before one.
   */
  private record State(
      long promisedTerm,
      @Nullable String promisedTo,
      TermBoundaries history,
      List<CommitRecord> commits,
      long store) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    // Resets are rare, as in a replica's life, and each costs a force whatever the policy.
    Arbitrary<Integer> kind =
        Arbitraries.frequencyOf(
            Tuple.of(24, Arbitraries.integers().between(0, 3)),
            Tuple.of(3, Arbitraries.integers().between(4, 5)));
    return Combinators.combine(kind, Arbitraries.integers().between(1, 30))
        .as(Op::new)
        .list()
        .ofMaxSize(25);
  }

  @Property(tries = 300)
  void aCutLogRecoversEveryRecordWhollyBeforeTheCut(
      @ForAll("ops") List<Op> ops, @ForAll @IntRange(min = 0, max = 1_000_000) int cutAt)
      throws IOException {
    Path dir = Files.createTempDirectory("replica-log");
    try {
      List<Long> ends = new ArrayList<>();
      List<State> states = new ArrayList<>();
      Path file = write(dir, ops, ends, states);
      byte[] bytes = Files.readAllBytes(file);
      int cut = cutAt % (bytes.length + 1);
      Files.write(file, Arrays.copyOf(bytes, cut));
      if (cut < ReplicaLog.HEADER_BYTES) {
        CorruptLogException e =
            assertThrows(CorruptLogException.class, () -> ReplicaLog.recover(file, false, 0));
        assertEquals(file, e.file());
        assertEquals(0, e.offset());
        return;
      }
      int k = 1;
      while (k + 1 < ends.size() && ends.get(k + 1) <= cut) {
        k++;
      }
      State expected = states.get(k);
      assertEquals(expected, recover(file, false, expected.store()), "cut at " + cut);
    } finally {
      delete(dir);
    }
  }

  /**
   * The store's reset is durable before the log's {@code BASED V} record is ({@link
   * ReplicaLog#based} follows the reset): a crash in between leaves a log cut anywhere in that
   * record, whose store already holds the state at V. Recovered against V, it gives what the log
   * with the record gives ("V + what is held after V"); against the store before the reset, the old
   * state and what is held (the other property). Never a refusal.
   */
  @Property(tries = 300)
  void aLogCutBeforeItsBasedRecordRecoversAgainstTheResetStoreAsIfTheRecordWereThere(
      @ForAll("ops") List<Op> ops,
      @ForAll @IntRange(min = 0, max = 1_000_000) int pick,
      @ForAll @IntRange(min = 0, max = 1_000_000) int cutAt)
      throws IOException {
    Path dir = Files.createTempDirectory("replica-log");
    try {
      List<Long> ends = new ArrayList<>();
      List<State> states = new ArrayList<>();
      Path file = write(dir, ops, ends, states);
      byte[] bytes = Files.readAllBytes(file);
      // Record k runs from ends[k - 1] to ends[k]; state k is the state after it.
      List<Integer> based = new ArrayList<>();
      for (int k = 2; k < ends.size(); k++) {
        if (bytes[(int) (long) ends.get(k - 1)] == ReplicaLog.BASED) {
          based.add(k);
        }
      }
      if (based.isEmpty()) {
        return;
      }
      int k = based.get(pick % based.size());
      long start = ends.get(k - 1);
      int cut = (int) (start + cutAt % (ends.get(k) - start));
      Files.write(file, Arrays.copyOf(bytes, cut));
      State withIt = states.get(k);
      assertEquals(withIt, recover(file, false, withIt.store()), "cut at " + cut + " of " + k);
      State before = states.get(k - 1);
      assertEquals(before, recover(file, false, before.store()), "the store before the reset");
    } finally {
      delete(dir);
    }
  }

  @Property(tries = 300)
  void aDamagedByteIsATornTailOrRefusedNamingTheFileAndTheRecordsOffset(
      @ForAll("ops") List<Op> ops,
      @ForAll @IntRange(min = 0, max = 1_000_000) int damageAt,
      @ForAll @IntRange(min = 1, max = 255) int mask)
      throws IOException {
    Path dir = Files.createTempDirectory("replica-log");
    try {
      List<Long> ends = new ArrayList<>();
      List<State> states = new ArrayList<>();
      Path file = write(dir, ops, ends, states);
      byte[] bytes = Files.readAllBytes(file);
      int at = damageAt % bytes.length;
      bytes[at] ^= (byte) mask;
      Files.write(file, bytes);
      // The damaged part: the file header (j = 0) or record j, from ends[j - 1] to ends[j].
      int j = 0;
      while (ends.get(j) <= at) {
        j++;
      }
      State before = states.get(Math.max(0, j - 1));
      try {
        State got = recover(file, false, before.store());
        assertTrue(j == ends.size() - 1, "recovered past damage in record " + j + " at " + at);
        assertEquals(before, got, "a torn last record");
      } catch (CorruptLogException e) {
        assertEquals(file, e.file());
        assertEquals(j == 0 ? 0 : ends.get(j - 1), e.offset(), e.getMessage());
      }
      assertEquals(before, recover(file, true, before.store()), "recover-past-corruption");
    } finally {
      delete(dir);
    }
  }

  @Property(tries = 100)
  void aRewrittenLogRecoversTheSameStateAndTheRecordsAppendedAfter(@ForAll("ops") List<Op> ops)
      throws IOException {
    Path dir = Files.createTempDirectory("replica-log");
    try {
      List<Long> ends = new ArrayList<>();
      List<State> states = new ArrayList<>();
      Path file = write(dir, ops, ends, states);
      State s = states.get(states.size() - 1);
      try (ReplicaLog log = ReplicaLog.open(dir, false, false, s.store())) {
        assertEquals(s, state(log.recovered(), s.store()), "recovered at open");
        log.compact(s.promisedTerm(), s.promisedTo(), s.history(), s.commits());
      }
      assertEquals(s, recover(file, false, s.store()), "after a rewrite");
      // Versions the store applied are dropped at recovery; the rest is kept.
      long applied = s.commits().isEmpty() ? s.store() : s.commits().get(0).version();
      assertEquals(
          s.commits().stream().filter(c -> c.version() > applied).toList(),
          ReplicaLog.recover(file, false, applied).commits());
      // Opened again (rewritten at open), then appended to.
      long next =
          s.commits().isEmpty()
              ? s.store() + 1
              : s.commits().get(s.commits().size() - 1).version() + 1;
      List<CommitRecord> more = List.of(FORKS.get(0).commit(next), FORKS.get(0).commit(next + 1));
      try (ReplicaLog log = ReplicaLog.open(dir, false, false, s.store())) {
        log.promised(s.promisedTerm() + 1, "later");
        log.received(more, 0);
        log.sync();
      }
      List<CommitRecord> all = new ArrayList<>(s.commits());
      all.addAll(more);
      assertEquals(
          new State(s.promisedTerm() + 1, "later", s.history(), all, s.store()),
          recover(file, false, s.store()),
          "appended after the rewrite");
    } finally {
      delete(dir);
    }
  }

  @Property(tries = 20)
  void aRecordOfAnUnknownTypeWithACorrectHeaderIsRefusedAsSuchNamingItsOffset(
      @ForAll("ops") List<Op> ops, @ForAll @IntRange(min = 6, max = 127) int type)
      throws IOException {
    Path dir = Files.createTempDirectory("replica-log");
    try {
      Path file = write(dir, ops, new ArrayList<>(), new ArrayList<>());
      long at = Files.size(file);
      ByteBuffer r = ReplicaLog.record((byte) type, new byte[] {1, 2, 3});
      byte[] bytes = new byte[r.remaining()];
      r.get(bytes);
      Files.write(file, bytes, StandardOpenOption.APPEND);
      CorruptLogException e =
          assertThrows(CorruptLogException.class, () -> ReplicaLog.recover(file, false, 0));
      assertTrue(e.getMessage().contains("unknown record type " + type), e.getMessage());
      assertTrue(e.getMessage().contains("at byte " + at + ":"), e.getMessage());
      assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    } finally {
      delete(dir);
    }
  }

  @Property(tries = 20)
  void aFormat1LogIsReadAndRewrittenAndANewerFormatIsRefusedAsUnsupportedInEveryRecoveryMode(
      @ForAll("ops") List<Op> ops, @ForAll @IntRange(min = 3, max = 1000) int newer)
      throws IOException {
    Path dir = Files.createTempDirectory("replica-log");
    try {
      List<State> states = new ArrayList<>();
      Path file = write(dir, ops, new ArrayList<>(), states);
      byte[] bytes = Files.readAllBytes(file);
      State last = states.get(states.size() - 1);
      // Format 1 is format 2 without type 5, which no replica wrote before durable transfers.
      Files.write(file, withFormat(bytes, 1));
      int based = firstOfType(bytes, ReplicaLog.BASED);
      if (based < 0) {
        try (ReplicaLog log = ReplicaLog.open(dir, false, false, last.store())) {
          assertEquals(last, state(log.recovered(), last.store()), "a format 1 log");
        }
        assertEquals(ReplicaLog.FORMAT, ByteBuffer.wrap(Files.readAllBytes(file)).getInt(8));
      } else {
        CorruptLogException e =
            assertThrows(
                CorruptLogException.class, () -> ReplicaLog.recover(file, false, last.store()));
        assertTrue(e.getMessage().contains("unknown record type 5"), e.getMessage());
        assertEquals(based, e.offset());
      }
      Files.write(file, withFormat(bytes, newer));
      for (boolean past : new boolean[] {false, true}) {
        UnsupportedFormatException e =
            assertThrows(UnsupportedFormatException.class, () -> ReplicaLog.recover(file, past, 0));
        assertTrue(e.getMessage().contains("unsupported format " + newer), e.getMessage());
        assertEquals(file, e.file());
      }
    } finally {
      delete(dir);
    }
  }

  /** {@code log} with its header's format (and the header's checksum) set to {@code format}. */
  private static byte[] withFormat(byte[] log, int format) {
    byte[] out = log.clone();
    ReplicaLog.header(format).get(out, 0, ReplicaLog.HEADER_BYTES);
    return out;
  }

  /** The offset of the first record of {@code type} in {@code log}, or -1. */
  private static int firstOfType(byte[] log, byte type) {
    ByteBuffer b = ByteBuffer.wrap(log);
    int at = ReplicaLog.HEADER_BYTES;
    while (at < log.length) {
      if (b.get(at) == type) {
        return at;
      }
      at += ReplicaLog.RECORD_HEADER_BYTES + b.getInt(at + 1) + 4;
    }
    return -1;
  }

  @Property(tries = 50)
  void promisesAndRewritesAreForcedWhateverTheSyncPolicyReceivedCommitsOnlyUnderEveryCommit(
      @ForAll("ops") List<Op> ops, @ForAll boolean everyCommit) throws IOException {
    Path dir = Files.createTempDirectory("replica-log");
    try (ReplicaLog log = ReplicaLog.open(dir, everyCommit, false, 0)) {
      long next = 1;
      for (Op op : ops) {
        long before = log.forces();
        switch (op.kind()) {
          case 0 -> log.promised(op.n(), "writer-" + op.n());
          case 1 -> log.history(HISTORIES.get(op.n() % HISTORIES.size()));
          case 2 -> {
            List<CommitRecord> group = new ArrayList<>();
            for (long v = next; v < next + op.n() && v <= VERSIONS; v++) {
              group.add(FORKS.get(0).commit(v));
            }
            log.received(group, 0);
            next += group.size();
          }
          case 3 -> {
            next = Math.max(1, next - op.n());
            log.truncate(next);
          }
          case 4 -> {
            long from = Math.max(1, next - op.n());
            log.rebase(from, HISTORIES.get(op.n() % HISTORIES.size()));
            next = Math.min(next, from);
          }
          default -> {
            long at = Math.min(VERSIONS, Math.max(0, next - 1 + op.n() - 15));
            log.based(at);
            next = Math.max(next, at + 1);
          }
        }
        log.sync();
        // A promise forgotten by a power loss could be granted again to a lower term; a reset's
        // history forgotten would leave the transferred state with the old history's terms.
        boolean forced = everyCommit || op.kind() == 0 || op.kind() >= 4;
        assertEquals(before + (forced ? 1 : 0), log.forces(), "forced after " + op);
        log.sync();
        assertEquals(before + (forced ? 1 : 0), log.forces(), "nothing new to force");
      }
      long before = log.forces();
      log.compact(0, null, TermBoundaries.NONE, List.of());
      assertEquals(before + 1, log.forces(), "a rewrite is forced");
    } finally {
      delete(dir);
    }
  }

  /**
   * Writes {@code ops} to a new log in {@code dir}; {@code ends} gets the file's size after its
   * header, after the record {@link ReplicaLog#open} writes, and after each record appended, and
   * {@code states} the state then.
   */
  private static Path write(Path dir, List<Op> ops, List<Long> ends, List<State> states)
      throws IOException {
    ReplicaLog log = ReplicaLog.open(dir, false, false, 0);
    Path file = log.file();
    long promised = 0;
    String promisedTo = null;
    TermBoundaries history = TermBoundaries.NONE;
    List<CommitRecord> commits = new ArrayList<>();
    long next = 1;
    long store = 0;
    ends.add((long) ReplicaLog.HEADER_BYTES);
    states.add(new State(0, null, history, List.of(), 0));
    ends.add(Files.size(file));
    states.add(new State(0, null, history, List.of(), 0));
    for (Op op : ops) {
      switch (op.kind()) {
        case 0 -> {
          String to = "writer-" + op.n();
          log.promised(op.n(), to);
          if (op.n() > promised) {
            promised = op.n();
            promisedTo = to;
          }
        }
        case 1 -> {
          history = HISTORIES.get(op.n() % HISTORIES.size());
          log.history(history);
        }
        case 2 -> {
          if (next + op.n() - 1 > VERSIONS) {
            continue;
          }
          List<CommitRecord> group = new ArrayList<>();
          for (long v = next; v < next + op.n(); v++) {
            group.add(FORKS.get(op.n() % 2).commit(v));
          }
          log.received(group, 0);
          commits.addAll(group);
          next += op.n();
        }
        case 4 -> {
          // What ReplicaActor.onReceived writes before the store is reset: held commits kept up
          // to the first version whose creation term differs (never one the store holds).
          long from = Math.max(store + 1, next - op.n());
          TermBoundaries taken = HISTORIES.get(op.n() % HISTORIES.size());
          log.rebase(from, taken);
          while (!commits.isEmpty() && commits.get(commits.size() - 1).version() >= from) {
            commits.remove(commits.size() - 1);
          }
          next = Math.min(next, from);
          // Two records when it truncates (a truncation of 21 bytes, then the history): a cut or
          // damage between them finds the truncation without the new history.
          long historyBytes = ReplicaLog.RECORD_HEADER_BYTES + 4 + 16L * taken.size() + 4;
          long start = ends.get(ends.size() - 1);
          if (Files.size(file) - start > historyBytes) {
            ends.add(start + ReplicaLog.RECORD_HEADER_BYTES + 8 + 4);
            states.add(new State(promised, promisedTo, history, List.copyOf(commits), store));
          }
          history = taken;
        }
        case 5 -> {
          // The store reset to a state at {@code at}, inside what is held or past it: what is held
          // after it stays, and what is received next follows it (or {@code at}).
          long at = Math.min(VERSIONS, Math.max(store, next - 1 + op.n() - 15));
          log.based(at);
          commits.removeIf(c -> c.version() <= at);
          store = at;
          next = Math.max(next, at + 1);
        }
        default -> {
          // A replica truncates only what it holds beyond its store's version.
          long from = Math.max(store + 1, next - op.n());
          log.truncate(from);
          while (!commits.isEmpty() && commits.get(commits.size() - 1).version() >= from) {
            commits.remove(commits.size() - 1);
          }
          next = Math.min(next, from);
        }
      }
      log.sync();
      ends.add(Files.size(file));
      states.add(new State(promised, promisedTo, history, List.copyOf(commits), store));
    }
    log.close();
    return file;
  }

  private static State state(ReplicaLog.Recovered r, long store) {
    return new State(r.promisedTerm(), r.promisedTo(), r.history(), r.commits(), store);
  }

  private static State recover(Path file, boolean recoverPastCorruption, long store)
      throws IOException {
    return state(ReplicaLog.recover(file, recoverPastCorruption, store), store);
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
