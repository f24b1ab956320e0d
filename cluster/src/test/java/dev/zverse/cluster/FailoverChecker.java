package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.zverse.engine.Change;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.Entry;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The failover tests' checker ({@link FailoverTest} in one JVM, {@link ChildJvmFailoverTest} across
 * child JVMs): after a failover every acknowledged write is present with its content on every
 * surviving replica, versions continue without a gap, and no version has two contents on any node,
 * the lost nodes' last states included.
 *
 * <p>It reads nodes as {@link History}: taken from a {@link Snapshot} in the test's JVM, or parsed
 * from a child's {@code dump} answer ({@link #dump}, {@link History#parse}), so both tests check
 * the same thing the same way.
 */
final class FailoverChecker {
  private FailoverChecker() {}

  /** An acknowledged write: a put of its own key. */
  record Acked(String key, String value) {}

  /**
   * One node's state at one version: its retained commits (the versions above {@code watermark}),
   * each as its changes written {@code key=value} or {@code key!} for a delete, and its entries.
   */
  record History(
      String node,
      long watermark,
      long version,
      Map<Long, List<String>> commits,
      Map<String, String> entries) {

    /** The history a snapshot holds. */
    static History of(String node, Snapshot s) {
      Map<Long, List<String>> commits = new TreeMap<>();
      for (long v = s.watermark() + 1; v <= s.version(); v++) {
        CommitRecord c = s.commit(v);
        assertEquals(v, c.version(), node + ": the commit of version " + v);
        List<String> changes = new ArrayList<>();
        for (Change ch : c.changes()) {
          changes.add(ch.keyUtf8() + (ch.isDelete() ? "!" : "=" + ch.valueUtf8()));
        }
        commits.put(v, changes);
      }
      Map<String, String> entries = new HashMap<>();
      for (Entry e : s.scan(KeyRange.all(), s.version())) {
        entries.put(
            new String(e.key(), StandardCharsets.UTF_8),
            new String(e.value(), StandardCharsets.UTF_8));
      }
      return new History(node, s.watermark(), s.version(), commits, entries);
    }

    /** Parses {@link #dump}'s text, as a child node answers it. */
    static History parse(String node, String dump) {
      Iterator<String> t = List.of(dump.split(" ")).iterator();
      long watermark = Long.parseLong(t.next());
      long version = Long.parseLong(t.next());
      int n = Integer.parseInt(t.next());
      Map<String, String> entries = new HashMap<>();
      for (int i = 0; i < n; i++) {
        entries.put(unhex(t.next()), unhex(t.next()));
      }
      Map<Long, List<String>> commits = new TreeMap<>();
      while (t.hasNext()) {
        long v = Long.parseLong(t.next());
        int changes = Integer.parseInt(t.next());
        List<String> list = new ArrayList<>();
        for (int i = 0; i < changes; i++) {
          list.add(unhex(t.next()));
        }
        commits.put(v, list);
      }
      return new History(node, watermark, version, commits, entries);
    }
  }

  /**
   * A snapshot's history as one line of space-separated words: watermark, version, the number of
   * entries, each entry's key and value in hex, then per retained version its number, its number of
   * changes and each change ({@code key=value} or {@code key!}) in hex. {@link History#parse} reads
   * it back.
   */
  static String dump(Snapshot s) {
    History h = History.of("dump", s);
    StringBuilder b = new StringBuilder();
    b.append(h.watermark()).append(' ').append(h.version()).append(' ').append(h.entries().size());
    for (Map.Entry<String, String> e : h.entries().entrySet()) {
      b.append(' ').append(hex(e.getKey())).append(' ').append(hex(e.getValue()));
    }
    for (Map.Entry<Long, List<String>> c : h.commits().entrySet()) {
      b.append(' ').append(c.getKey()).append(' ').append(c.getValue().size());
      for (String change : c.getValue()) {
        b.append(' ').append(hex(change));
      }
    }
    return b.toString();
  }

  private static String hex(String s) {
    // An empty string would be an empty word, which the split would not read back.
    return "x" + HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String unhex(String word) {
    return new String(HexFormat.of().parseHex(word.substring(1)), StandardCharsets.UTF_8);
  }

  /**
   * Checks one failover.
   *
   * @param label what failed over (a round, a kind), for the messages
   * @param survivors the surviving nodes, each at least at the highest acknowledged version
   * @param lost the lost nodes' last states (may be empty: a killed process leaves none)
   * @param acked every acknowledged write by its version
   * @throws AssertionError naming the node and version of the first violation
   */
  static void check(
      String label,
      Collection<History> survivors,
      Collection<History> lost,
      Map<Long, Acked> acked) {
    Map<Long, List<String>> contents = new HashMap<>();
    Map<Long, String> where = new HashMap<>();
    List<History> all = new ArrayList<>(lost);
    all.addAll(survivors);
    for (History h : all) {
      for (long v = h.watermark() + 1; v <= h.version(); v++) {
        List<String> c = h.commits().get(v);
        assertNotNull(c, label + ": " + h.node() + " has a gap at version " + v);
        List<String> earlier = contents.putIfAbsent(v, c);
        where.putIfAbsent(v, h.node());
        if (earlier != null) {
          assertEquals(
              earlier,
              c,
              label
                  + ": version "
                  + v
                  + " has two contents, on "
                  + where.get(v)
                  + " and "
                  + h.node());
        }
      }
    }
    for (History h : survivors) {
      for (Map.Entry<Long, Acked> e : acked.entrySet()) {
        Acked a = e.getValue();
        @Nullable String value = e.getKey() <= h.version() ? h.entries().get(a.key()) : null;
        assertEquals(
            a.value(), value, label + ": acknowledged write " + a + " lost on " + h.node());
        if (e.getKey() > h.watermark()) {
          assertEquals(
              List.of(a.key() + "=" + a.value()),
              h.commits().get(e.getKey()),
              label + ": version " + e.getKey() + " holds another write on " + h.node());
        }
      }
    }
  }
}
