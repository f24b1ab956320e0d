package dev.zverse.persistence;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/** A test state with a serializer of its own, bound in {@link PersistenceTestKit#CONFIG}. */
record Cart(List<String> items) {
  /** Items joined by commas; the manifest is "cart-v1". */
  public static final class Serializer extends SerializerWithStringManifest {
    static final int ID = 4711;

    @Override
    public int identifier() {
      return ID;
    }

    @Override
    public String manifest(Object o) {
      return "cart-v1";
    }

    @Override
    public byte[] toBinary(Object o) {
      return String.join(",", ((Cart) o).items()).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) {
      if (!manifest.equals("cart-v1")) {
        throw new IllegalArgumentException("unknown manifest " + manifest);
      }
      String s = new String(bytes, StandardCharsets.UTF_8);
      return new Cart(s.isEmpty() ? List.of() : List.of(s.split(",")));
    }
  }
}
