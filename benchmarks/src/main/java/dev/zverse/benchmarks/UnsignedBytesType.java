package dev.zverse.benchmarks;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

/**
 * MVStore's {@code ByteArrayDataType} in ZVerse's key order: H2's own type compares bytes signed,
 * which would make MVStore's scans visit other keys than ZVerse's. Serialization is H2's format,
 * and unused by the in-memory stores of the benchmarks.
 *
 * <p>Stateless; safe for concurrent use.
 */
final class UnsignedBytesType extends BasicDataType<byte[]> {
  static final UnsignedBytesType INSTANCE = new UnsignedBytesType();

  private UnsignedBytesType() {}

  @Override
  public int getMemory(byte[] data) {
    return data.length;
  }

  @Override
  public void write(WriteBuffer buff, byte[] data) {
    buff.putVarInt(data.length);
    buff.put(data);
  }

  @Override
  public byte[] read(ByteBuffer buff) {
    byte[] data = new byte[DataUtils.readVarInt(buff)];
    buff.get(data);
    return data;
  }

  @Override
  public byte[][] createStorage(int size) {
    return new byte[size][];
  }

  @Override
  public int compare(byte[] one, byte[] two) {
    return Arrays.compareUnsigned(one, two);
  }
}
