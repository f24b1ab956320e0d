package dev.zverse.engine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An atomic unit of writes: puts, deletes and range deletes, applied in the order given, with
 * optional {@link Condition}s that must all hold first. A committed batch takes exactly one
 * version; a refused one changes nothing.
 *
 * <p>Immutable and safe to share. The builder copies every array it is handed, so changing a
 * caller's array afterwards never changes the batch or the store.
 *
 * <pre>{@code
 * WriteBatch batch = WriteBatch.builder()
 *     .requireModVersion("account/42", 17)
 *     .put("account/42", "balance=90")
 *     .delete("hold/42")
 *     .build();
 * }</pre>
 */
public final class WriteBatch {
  /**
   * One mutation: a put, a delete or a range delete, each a record with the check that differs by
   * kind; {@code Transient} applies them by type. Arrays are the batch's own copies, never handed
   * out. Records compare arrays by identity, which nothing relies on: mutations are never compared.
   */
  sealed interface Op permits Put, Delete, DeleteRange {
    /**
     * Checks this mutation's key and value against {@code limits}.
     *
     * @param index the mutation's position in its batch, to name it in a refusal
     * @throws IllegalArgumentException naming the argument over a limit
     */
    void checkLimits(Limits limits, int index);

    /** What this mutation counts toward {@link Limits#maxBatchBytes()}. */
    long bytes();
  }

  /** Puts {@code value} under {@code key}. */
  @SuppressWarnings("ArrayRecordComponent") // never compared: see Op
  record Put(byte[] key, byte[] value) implements Op {
    @Override
    public void checkLimits(Limits limits, int index) {
      // Names are built only for a refusal: this runs for every put on the writer's thread.
      if (key.length > limits.maxKeyBytes()) {
        limits.checkKey(key, "key of mutation " + index);
      }
      if (value.length > limits.maxValueBytes()) {
        limits.checkValue(value, "value of mutation " + index);
      }
    }

    @Override
    public long bytes() {
      return Limits.MUTATION_BYTES + key.length + (long) value.length;
    }
  }

  /** Deletes {@code key}. */
  @SuppressWarnings("ArrayRecordComponent") // never compared: see Op
  record Delete(byte[] key) implements Op {
    @Override
    public void checkLimits(Limits limits, int index) {
      if (key.length > limits.maxKeyBytes()) {
        limits.checkKey(key, "key of mutation " + index);
      }
    }

    @Override
    public long bytes() {
      return Limits.MUTATION_BYTES + (long) key.length;
    }
  }

  /** Deletes every key that has a value in {@code range}. */
  record DeleteRange(KeyRange range) implements Op {
    @Override
    public void checkLimits(Limits limits, int index) {
      // A range's bounds are never stored, so no limit applies to them.
    }

    @Override
    public long bytes() {
      return Limits.MUTATION_BYTES;
    }
  }

  private final List<Op> ops;
  private final List<Condition> conditions;

  private WriteBatch(List<Op> ops, List<Condition> conditions) {
    this.ops = ops;
    this.conditions = conditions;
  }

  /** A builder for a batch. */
  public static Builder builder() {
    return new Builder();
  }

  /** A batch of one put. @throws NullPointerException if an argument is null */
  public static WriteBatch ofPut(byte[] key, byte[] value) {
    return builder().put(key, value).build();
  }

  /** A batch of one put of UTF-8 strings. @throws NullPointerException if an argument is null */
  public static WriteBatch ofPut(String key, String value) {
    return builder().put(key, value).build();
  }

  /** A batch of one delete. @throws NullPointerException if {@code key} is null */
  public static WriteBatch ofDelete(byte[] key) {
    return builder().delete(key).build();
  }

  /** A batch of one delete of a UTF-8 key. @throws NullPointerException if {@code key} is null */
  public static WriteBatch ofDelete(String key) {
    return builder().delete(key).build();
  }

  /** Number of mutations (puts, deletes, range deletes), conditions not counted. */
  public int size() {
    return ops.size();
  }

  /** The conditions, in the order added. */
  public List<Condition> conditions() {
    return conditions;
  }

  List<Op> ops() {
    return ops;
  }

  /**
   * Checks every key and value, and the batch's size, against {@code limits} before anything is
   * applied.
   *
   * @throws IllegalArgumentException naming the first argument over a limit
   */
  void checkLimits(Limits limits) {
    long bytes = 0;
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      op.checkLimits(limits, i);
      bytes += op.bytes();
    }
    if (bytes > limits.maxBatchBytes()) {
      throw new IllegalArgumentException(
          "batch is "
              + bytes
              + " bytes (keys and values plus "
              + Limits.MUTATION_BYTES
              + " per mutation), over the limit maxBatchBytes = "
              + limits.maxBatchBytes());
    }
    for (int i = 0; i < conditions.size(); i++) {
      Condition c = conditions.get(i);
      if (c.keyBytes().length > limits.maxKeyBytes()) {
        limits.checkKey(c.keyBytes(), "key of condition " + i);
      }
      byte[] v = c.valueBytes();
      if (v != null && v.length > limits.maxValueBytes()) {
        limits.checkValue(v, "value of condition " + i);
      }
    }
  }

  @Override
  public String toString() {
    return "WriteBatch[" + ops.size() + " mutations, " + conditions.size() + " conditions]";
  }

  /**
   * Collects the mutations and conditions of one batch. Not thread-safe; {@link #build()} may be
   * called more than once, each time taking what was added so far.
   */
  public static final class Builder {
    private final List<Op> ops = new ArrayList<>();
    private final List<Condition> conditions = new ArrayList<>();

    private Builder() {}

    /**
     * Puts {@code value} under {@code key}. Both are copied.
     *
     * @throws NullPointerException if an argument is null
     */
    public Builder put(byte[] key, byte[] value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      ops.add(new Put(key.clone(), value.clone()));
      return this;
    }

    /**
     * Recovery: puts {@code value} under {@code key} without copying them; both were just decoded
     * and belong to nobody else.
     */
    Builder putOwned(byte[] key, byte[] value) {
      ops.add(new Put(key, value));
      return this;
    }

    /** Recovery: deletes {@code key} without copying it, like {@link #putOwned}. */
    Builder deleteOwned(byte[] key) {
      ops.add(new Delete(key));
      return this;
    }

    /** Puts a UTF-8 value under a UTF-8 key. @throws NullPointerException if an argument is null */
    public Builder put(String key, String value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      ops.add(
          new Put(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)));
      return this;
    }

    /**
     * Deletes {@code key}, leaving a tombstone in its history if it had a value.
     *
     * @throws NullPointerException if {@code key} is null
     */
    public Builder delete(byte[] key) {
      ops.add(new Delete(Objects.requireNonNull(key, "key").clone()));
      return this;
    }

    /** Deletes a UTF-8 key. @throws NullPointerException if {@code key} is null */
    public Builder delete(String key) {
      ops.add(new Delete(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8)));
      return this;
    }

    /**
     * Deletes every key that has a value in {@code range} at this point of the batch.
     *
     * @throws NullPointerException if {@code range} is null
     */
    public Builder deleteRange(KeyRange range) {
      ops.add(new DeleteRange(Objects.requireNonNull(range, "range")));
      return this;
    }

    /** Adds a condition. @throws NullPointerException if {@code condition} is null */
    public Builder require(Condition condition) {
      conditions.add(Objects.requireNonNull(condition, "condition"));
      return this;
    }

    /** Requires {@code key} to be absent; see {@link Condition#absent(byte[])}. */
    public Builder requireAbsent(byte[] key) {
      return require(Condition.absent(key));
    }

    /** Requires a UTF-8 key to be absent. */
    public Builder requireAbsent(String key) {
      return require(Condition.absent(key));
    }

    /**
     * Requires {@code key}'s last change at {@code modVersion}; see {@link Condition#modVersion}.
     */
    public Builder requireModVersion(byte[] key, long modVersion) {
      return require(Condition.modVersion(key, modVersion));
    }

    /** Requires a UTF-8 key's last change at {@code modVersion}. */
    public Builder requireModVersion(String key, long modVersion) {
      return require(Condition.modVersion(key, modVersion));
    }

    /** Requires {@code key} to hold exactly {@code value}. */
    public Builder requireValue(byte[] key, byte[] value) {
      return require(Condition.valueEquals(key, value));
    }

    /** Requires a UTF-8 key to hold exactly a UTF-8 value. */
    public Builder requireValue(String key, String value) {
      return require(Condition.valueEquals(key, value));
    }

    /** The batch of everything added so far. */
    public WriteBatch build() {
      return new WriteBatch(List.copyOf(ops), List.copyOf(conditions));
    }
  }
}
