package dev.zverse.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Each kind of mutation of a {@link WriteBatch} is checked against the limits its own way. */
class MutationLimitsTest {
  private static final Limits SMALL = Limits.defaults().withMaxKeyBytes(4).withMaxValueBytes(4);

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static Snapshot store() {
    return Snapshot.empty(SMALL).apply(WriteBatch.ofPut("k", "v"));
  }

  @Test
  void aDeleteOfAnOversizedKeyIsRefusedNamingTheMutationAndChangesNothing() {
    Snapshot s = store();
    WriteBatch batch = WriteBatch.builder().put("a", "1").delete("12345").build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.apply(batch));
    assertTrue(e.getMessage().contains("key of mutation 1"), e.getMessage());
    assertTrue(e.getMessage().contains("maxKeyBytes = 4"), e.getMessage());
    Transient t = s.asTransient();
    assertThrows(IllegalArgumentException.class, () -> t.apply(batch));
    assertEquals(1, t.version(), "a refused batch takes no version");
  }

  @Test
  void aPutIsCheckedOnItsKeyAndItsValueNamingEach() {
    Snapshot s = store();
    IllegalArgumentException key =
        assertThrows(
            IllegalArgumentException.class,
            () -> s.apply(WriteBatch.builder().delete("k").put("12345", "v").build()));
    assertTrue(key.getMessage().contains("key of mutation 1"), key.getMessage());
    IllegalArgumentException value =
        assertThrows(IllegalArgumentException.class, () -> s.apply(WriteBatch.ofPut("k", "12345")));
    assertTrue(value.getMessage().contains("value of mutation 0"), value.getMessage());
    assertTrue(value.getMessage().contains("maxValueBytes = 4"), value.getMessage());
  }

  @Test
  void aRangeDeleteIsNotLimitedByItsBoundsWhichAreNeverStored() {
    Snapshot s = store();
    KeyRange wide = KeyRange.closedOpen(b("a"), b("zzzzzzzz"));
    Snapshot after = s.apply(WriteBatch.builder().deleteRange(wide).build());
    assertEquals(2, after.version());
    assertNull(after.get("k"));
    assertArrayEquals(b("v"), s.get(b("k")));
  }
}
