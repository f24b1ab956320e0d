package dev.zverse.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The store has one read API, {@link dev.zverse.engine.Snapshot}: the facade keeps what a user
 * needs without a snapshot, a read transaction hands out its snapshot instead of copying its reads,
 * and the hooks that only integrations use stay behind {@link ZVerseStore#advanced()}. A method
 * added to one of these types must be a deliberate change to this list.
 */
class ReadApiShapeTest {
  @Test
  void theFacadeKeepsGetWritesSnapshotTransactionsLifecycleAndStatus() {
    assertEquals(
        Set.of(
            "open",
            "close",
            "isClosed",
            "name",
            "settings",
            "write",
            "put",
            "delete",
            "pendingWrites",
            "snapshot",
            "version",
            "readTransaction",
            "get",
            "epochStats",
            "recoveryReport",
            "failure",
            "metrics",
            "retentionWatermark",
            "advanced",
            "toString"),
        publicMethods(ZVerseStore.class));
  }

  @Test
  void onlyGetReadsThroughTheFacadeAndOnlyAtTheLatestVersion() {
    for (Method m : ZVerseStore.class.getDeclaredMethods()) {
      if (m.getName().equals("get") && Modifier.isPublic(m.getModifiers())) {
        assertEquals(1, m.getParameterCount(), () -> m + " reads at a chosen version");
      }
    }
  }

  @Test
  void aReadTransactionHandsOutItsSnapshotInsteadOfCopyingItsReads() {
    assertEquals(
        Set.of("snapshot", "version", "owner", "close", "isClosed", "toString"),
        publicMethods(ReadTransaction.class));
  }

  @Test
  void theIntegrationHooksAreBehindOneAccessor() {
    assertEquals(
        Set.of(
            "addPublishListener",
            "removePublishListener",
            "lastPublished",
            "tryPin",
            "pin",
            "applyCommits",
            "resetTo",
            "isReplica",
            "toString"),
        publicMethods(AdvancedOperations.class));
  }

  private static Set<String> publicMethods(Class<?> type) {
    Set<String> names = new TreeSet<>();
    Arrays.stream(type.getDeclaredMethods())
        .filter(m -> Modifier.isPublic(m.getModifiers()) && !m.isSynthetic())
        .forEach(m -> names.add(m.getName()));
    return names;
  }
}
