package dev.zverse.persistence;

import static dev.zverse.persistence.PersistenceTestKit.await;
import static dev.zverse.persistence.PersistenceTestKit.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.persistence.query.DurableStateChange;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.state.exception.DeleteRevisionException;
import org.apache.pekko.persistence.state.javadsl.GetObjectResult;

/**
 * Random scripts of upserts, deletes, tag moves and stale writes against a model: a map from
 * persistence id to (revision, tag, value or deleted, version of the last change), one per version.
 * Checks every read, every read at an older version, {@code currentChanges} from every offset, and
 * {@code changes} from every offset.
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
