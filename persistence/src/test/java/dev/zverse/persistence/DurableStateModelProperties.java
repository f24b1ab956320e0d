package dev.zverse.persistence;

import static dev.zverse.persistence.PersistenceTestKit.await;
import static dev.zverse.persistence.PersistenceTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.state.exception.DeleteRevisionException;
import org.apache.pekko.persistence.state.javadsl.GetObjectResult;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Random scripts of upserts, deletes, tag moves and stale writes against a model: a map from
 * persistence id to (revision, tag, value or deleted, version of the last change), one per version.
 * Checks every read, every read at an older version, {@code currentChanges} from every offset, and
 * {@code changes} from every offset; then the by-slice queries for any split of the slices, and the
 * persistence ids in any page size.
 */
class DurableStateModelProperties {
  private static PersistenceTestKit kit;

  @BeforeContainer
  static void start() {
    kit = new PersistenceTestKit();
  }

  @AfterContainer
  static void stop() {
    kit.shutdown();
  }

  /** An object in the model; {@code value} null after a delete. */
  record Obj(long revision, String tag, String value, long version) {}

  /**
   * One step: a write of {@code id}; {@code revisionOffset} 0 writes the right revision, else the
   * current revision plus one plus the offset (a stale or skipped one); {@code value} null deletes.
   */
  record Step(String id, String tag, String value, int revisionOffset) {}

  @Provide
  Arbitrary<List<Step>> scripts() {
    Arbitrary<String> ids = Arbitraries.of("p1", "p2", "p3", "p4");
    Arbitrary<String> tags = Arbitraries.of("red", "blue", "");
    Arbitrary<String> values =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(4, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(3)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(null)));
    Arbitrary<Integer> offsets =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(6, Arbitraries.just(0)),
            net.jqwik.api.Tuple.of(1, Arbitraries.of(-2, -1, 1)));
    return Combinators.combine(ids, tags, values, offsets)
        .as(Step::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(25);
  }

  @Property(tries = 30)
  void thePluginAgreesWithAModelAtEveryVersionAndFromEveryOffset(
      @ForAll("scripts") List<Step> script) {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    long base = s.store().version();
    List<Map<String, Obj>> model = new ArrayList<>(); // model.get(i): the objects at base + i
    model.add(Map.of());
    Map<String, Obj> now = new HashMap<>();
    // Every change, in version order, with the tag it was written under: what changes() replays.
    List<Obj> writes = new ArrayList<>();
    List<String> writeIds = new ArrayList<>();

    for (Step step : script) {
      Obj current = now.get(step.id());
      long currentRevision = current == null ? 0 : current.revision();
      long revision = currentRevision + 1 + step.revisionOffset();
      if (revision < 1) {
        continue;
      }
      if (step.revisionOffset() != 0) {
        Throwable e =
            awaitFailure(
                step.value() == null
                    ? s.deleteObject(step.id(), revision)
                    : s.upsertObject(step.id(), revision, step.value(), step.tag()));
        if (step.value() == null) {
          assertInstanceOf(DeleteRevisionException.class, e);
        } else {
          RevisionConflictException c = assertInstanceOf(RevisionConflictException.class, e);
          assertEquals(currentRevision, c.currentRevision());
        }
        assertEquals(
            base + model.size() - 1, s.store().version(), "a refused write took a version");
        continue;
      }
      if (step.value() == null) {
        await(s.deleteObject(step.id(), revision));
      } else {
        await(s.upsertObject(step.id(), revision, step.value(), step.tag()));
      }
      long version = s.store().version();
      assertEquals(base + model.size(), version, "each write takes one version");
      String tag = step.value() == null ? (current == null ? "" : current.tag()) : step.tag();
      Obj o = new Obj(revision, tag, step.value(), version);
      now.put(step.id(), o);
      model.add(Map.copyOf(now));
      writes.add(o);
      writeIds.add(step.id());
    }

    long latest = s.store().version();
    for (String id : List.of("p1", "p2", "p3", "p4")) {
      assertEquals(result(now.get(id)), await(s.getObject(id)), id);
      for (int i = 0; i < model.size(); i++) {
        long at = base + i;
        assertEquals(result(model.get(i).get(id)), s.getObject(id, at), id + " at " + at);
      }
    }
    for (String tag : List.of("red", "blue", "")) {
      assertEquals(
          expectedCurrent(now, tag, -1),
          texts(kit.collect(s.currentChanges(tag, Offset.noOffset()))),
          "currentChanges(" + tag + ", NoOffset)");
      for (long o = base; o <= latest; o++) {
        assertEquals(
            expectedCurrent(now, tag, o),
            texts(kit.collect(s.currentChanges(tag, Offset.sequence(o)))),
            "currentChanges(" + tag + ", " + o + ")");
        List<String> every = new ArrayList<>();
        for (int w = 0; w < writes.size(); w++) {
          if (writes.get(w).version() > o && writes.get(w).tag().equals(tag)) {
            every.add(text(writeIds.get(w), writes.get(w)));
          }
        }
        if (!every.isEmpty()) {
          assertEquals(
              every,
              texts(kit.collect(s.changes(tag, Offset.sequence(o)).take(every.size()))),
              "changes(" + tag + ", " + o + ")");
        }
      }
    }
  }

  // ---------------------------------------------------------------- by slices, persistence ids

  /** Ids of three entity types, "" among them, and ids whose UTF-8 and UTF-16 orders differ. */
  private static final List<String> SLICED_IDS =
      List.of("a|1", "a|2", "a|3", "b|1", "b|2", "x", "y", "\uD83D\uDE00|1", "\uFFEE|1");

  private static final List<String> ENTITY_TYPES =
      List.of("a", "b", "", "\uD83D\uDE00", "\uFFEE", "nope");

  /** A write: {@code value} null deletes; the clock is moved by {@code millis} first. */
  record Write(String id, String tag, String value, int millis) {}

  /** A write in the model: what was written, at which version, stamped when. */
  record Written(String id, Obj obj, long timestamp) {}

  @Provide
  Arbitrary<List<Write>> writes() {
    Arbitrary<String> values =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(4, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(3)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(null)));
    return Combinators.combine(
            Arbitraries.of(SLICED_IDS),
            Arbitraries.of("red", ""),
            values,
            Arbitraries.integers().between(0, 5_000))
        .as(Write::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(25);
  }

  /**
   * Where a split of the 1024 slices into ranges is cut: anywhere, or next to an id's slice, so
   * that ids land in different ranges.
   */
  @Provide
  Arbitrary<Set<Integer>> cuts() {
    List<Integer> nearIds = new ArrayList<>();
    for (String id : SLICED_IDS) {
      nearIds.add(Math.max(1, slice(id)));
      nearIds.add(Math.min(1023, slice(id) + 1));
    }
    return Arbitraries.oneOf(Arbitraries.integers().between(1, 1023), Arbitraries.of(nearIds))
        .set()
        .ofMaxSize(5);
  }

  /** The model's slice of an id: Pekko's definition, written out. */
  private static int slice(String id) {
    return Math.abs(id.hashCode() % 1024);
  }

  private static String entityType(String id) {
    int i = id.indexOf('|');
    return i < 0 ? "" : id.substring(0, i);
  }

  /**
   * For any split of the slices into ranges, the by-slice queries of each range are the model's
   * changes of the entity type filtered by that range, from every offset, with the timestamps the
   * store's clock gave; so the ranges together are the entity type's changes, each in one range.
   */
  @Property(tries = 25)
  void bySliceQueriesAreTheChangesFilteredBySliceForAnySplit(
      @ForAll("writes") List<Write> script, @ForAll("cuts") Set<Integer> cuts) {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    long base = s.store().version();
    Map<String, Written> now = new HashMap<>();
    List<Written> every = new ArrayList<>();
    for (Write w : script) {
      Written current = now.get(w.id());
      long revision = current == null ? 1 : current.obj().revision() + 1;
      Instant at = kit.now.updateAndGet(t -> t.plusMillis(w.millis()));
      if (w.value() == null) {
        await(s.deleteObject(w.id(), revision));
      } else {
        await(s.upsertObject(w.id(), revision, w.value(), w.tag()));
      }
      String tag = w.value() == null ? (current == null ? "" : current.obj().tag()) : w.tag();
      Obj o = new Obj(revision, tag, w.value(), s.store().version());
      Written written = new Written(w.id(), o, at.toEpochMilli());
      now.put(w.id(), written);
      every.add(written);
    }
    long latest = s.store().version();

    List<Integer> starts = new ArrayList<>(new TreeSet<>(cuts));
    starts.add(0, 0);
    for (int r = 0; r < starts.size(); r++) {
      int min = starts.get(r);
      int max = r + 1 < starts.size() ? starts.get(r + 1) - 1 : 1023;
      for (String type : ENTITY_TYPES) {
        Predicate<String> selected =
            id -> entityType(id).equals(type) && slice(id) >= min && slice(id) <= max;
        String query = "(" + type + ", " + min + ", " + max + ", ";
        assertEquals(
            latestAfter(now, selected, -1),
            timed(s.currentChangesBySlices(type, min, max, Offset.noOffset())),
            "currentChangesBySlices" + query + "NoOffset)");
        for (long o : List.of(base, (base + latest) / 2, latest)) {
          assertEquals(
              latestAfter(now, selected, o),
              timed(s.currentChangesBySlices(type, min, max, Offset.sequence(o))),
              "currentChangesBySlices" + query + o + ")");
          List<String> after =
              every.stream()
                  .filter(w -> w.obj().version() > o && selected.test(w.id()))
                  .map(DurableStateModelProperties::timed)
                  .toList();
          if (!after.isEmpty()) {
            assertEquals(
                after,
                timed(s.changesBySlices(type, min, max, Offset.sequence(o)).take(after.size())),
                "changesBySlices" + query + o + ")");
          }
        }
      }
    }
  }

  /** Paged in any page size, the persistence ids are the model's, in UTF-8 byte order. */
  @Property(tries = 25)
  void persistenceIdsPagedInAnyPageSizeAreTheModelsIds(
      @ForAll("writes") List<Write> script, @ForAll @IntRange(min = 1, max = 10) int pageSize) {
    ZVerseDurableStateStore<Object> s = kit.freshPlugin();
    Map<String, Long> revisions = new HashMap<>();
    for (Write w : script) {
      long revision = revisions.getOrDefault(w.id(), 0L) + 1;
      if (w.value() == null) {
        await(s.deleteObject(w.id(), revision));
      } else {
        await(s.upsertObject(w.id(), revision, w.value(), w.tag()));
      }
      revisions.put(w.id(), revision);
    }
    List<String> expected =
        revisions.keySet().stream()
            .sorted(
                (x, y) ->
                    Arrays.compareUnsigned(
                        x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8)))
            .toList();

    List<String> paged = new ArrayList<>();
    Optional<String> afterId = Optional.empty();
    while (true) {
      List<String> page = kit.collect(s.currentPersistenceIds(afterId, pageSize));
      assertTrue(page.size() <= pageSize, page + " is over the page size " + pageSize);
      paged.addAll(page);
      // A page that repeats ids would page forever: fail as soon as there are more than stored.
      assertTrue(paged.size() <= expected.size(), "more ids than stored: " + paged);
      if (page.size() < pageSize) {
        break;
      }
      afterId = Optional.of(page.get(page.size() - 1));
    }
    assertEquals(expected, paged, "pages of " + pageSize);
  }

  /** The latest change of each selected object after version {@code after}, oldest first. */
  private static List<String> latestAfter(
      Map<String, Written> now, Predicate<String> selected, long after) {
    return now.values().stream()
        .filter(w -> selected.test(w.id()) && w.obj().version() > after)
        .sorted(Comparator.comparingLong(w -> w.obj().version()))
        .map(DurableStateModelProperties::timed)
        .toList();
  }

  private static String timed(Written w) {
    return text(w.id(), w.obj()) + " at " + w.timestamp();
  }

  private static List<String> timed(Source<DurableStateChange<Object>, NotUsed> changes) {
    return kit.collect(changes).stream().map(PersistenceTestKit::describeWithTime).toList();
  }

  private static GetObjectResult<Object> result(Obj o) {
    if (o == null) {
      return new GetObjectResult<>(Optional.empty(), 0);
    }
    return new GetObjectResult<>(Optional.ofNullable(o.value()), o.revision());
  }

  /** The latest change of each object now under {@code tag} after version {@code after}. */
  private static List<String> expectedCurrent(Map<String, Obj> now, String tag, long after) {
    return now.entrySet().stream()
        .filter(e -> e.getValue().tag().equals(tag) && e.getValue().version() > after)
        .sorted(Comparator.comparingLong(e -> e.getValue().version()))
        .map(e -> text(e.getKey(), e.getValue()))
        .toList();
  }

  private static String text(String id, Obj o) {
    return o.value() == null
        ? id + "@" + o.revision() + " deleted@" + o.version()
        : id + "@" + o.revision() + "=" + o.value() + "@" + o.version();
  }

  private static List<String> texts(List<DurableStateChange<Object>> changes) {
    return changes.stream().map(PersistenceTestKit::describe).toList();
  }
}
