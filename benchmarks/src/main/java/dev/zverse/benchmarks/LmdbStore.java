package dev.zverse.benchmarks;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.Txn;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The LMDB peer, through lmdbjava: one environment in a fresh directory on tmpfs ({@code /dev/shm},
 * or the temporary directory where there is none), opened with {@code MDB_NOSYNC} and, for the
 * {@code LMDB_writemap} peer, {@code MDB_WRITEMAP}; one database with {@code MDB_UNSIGNEDKEY}, so
 * that lmdbjava compares range bounds as unsigned bytes, the order LMDB itself keeps and ZVerse's.
 *
 * <p>Keys and values go in through direct buffers that this object reuses (copying the caller's
 * {@code byte[]} in is part of each operation, as it is for a caller holding arrays). Reads run in
 * one read transaction held from {@link #beginReads()} on, as a ZVerse reader holds its snapshot;
 * {@link #get} copies the value out (ZVerse's {@code get} returns a copy too), {@link #scan} hands
 * each value to the blackhole in place, as a buffer over the memory map.
 *
 * <p>Not thread-safe: one benchmark thread.
 */
final class LmdbStore implements AutoCloseable {
  /** Room for 10 million key-versions of 16 + 100 bytes with LMDB's pages; the file is sparse. */
  private static final long MAP_SIZE = 8L << 30;

  private final Path dir;
  private final Env<ByteBuffer> env;
  private final Dbi<ByteBuffer> dbi;
  private final ByteBuffer key = ByteBuffer.allocateDirect(511);
  private final ByteBuffer value = ByteBuffer.allocateDirect(Dataset.VALUE_BYTES * 16);
  private final ByteBuffer bound = ByteBuffer.allocateDirect(511);
  private @Nullable Txn<ByteBuffer> reads;
  private @Nullable Cursor<ByteBuffer> cursor;

  private LmdbStore(Path dir, boolean writeMap) {
    this.dir = dir;
    EnvFlags[] flags =
        writeMap
            ? new EnvFlags[] {EnvFlags.MDB_NOSYNC, EnvFlags.MDB_WRITEMAP}
            : new EnvFlags[] {EnvFlags.MDB_NOSYNC};
    this.env = Env.create().setMapSize(MAP_SIZE).setMaxDbs(1).open(dir.toFile(), flags);
    this.dbi = env.openDbi("data", DbiFlags.MDB_CREATE, DbiFlags.MDB_UNSIGNEDKEY);
  }

  /**
   * Opens an empty store for the peer named {@code impl}: {@code LMDB} or {@code LMDB_writemap}.
   */
  static LmdbStore open(String impl) {
    File shm = new File("/dev/shm");
    Path parent =
        shm.isDirectory() ? shm.toPath() : Paths.get(System.getProperty("java.io.tmpdir"));
    try {
      return new LmdbStore(Files.createTempDirectory(parent, "zverse-lmdb-"), isWriteMap(impl));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether {@code impl} names an LMDB peer. */
  static boolean isLmdb(String impl) {
    return impl.equals("LMDB") || impl.equals("LMDB_writemap");
  }

  private static boolean isWriteMap(String impl) {
    if (!isLmdb(impl)) {
      throw new IllegalArgumentException("not an LMDB peer: " + impl);
    }
    return impl.endsWith("_writemap");
  }

  /** Writes every key of {@code data} with its value of round {@code round}, in large commits. */
  LmdbStore load(Dataset data, int round) {
    for (int from = 0; from < data.size(); from += 100_000) {
      try (Txn<ByteBuffer> txn = env.txnWrite()) {
        for (int i = from, to = Math.min(from + 100_000, data.size()); i < to; i++) {
          dbi.put(txn, in(key, data.key(i)), in(value, data.value(i, round)));
        }
        txn.commit();
      }
    }
    return this;
  }

  /**
   * Writes every key of {@code data} in each of {@code rounds} rounds, one commit per 100,000 puts,
   * as a versioned peer: the stored key is the key followed by the round's complement as 4
   * big-endian bytes, so a key's versions sort newest first and {@link #getAt} finds the newest at
   * or below a round with one cursor seek, as a versioned store on LMDB would.
   */
  LmdbStore loadVersioned(Dataset data, int rounds) {
    for (int r = 0; r < rounds; r++) {
      for (int from = 0; from < data.size(); from += 100_000) {
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
          for (int i = from, to = Math.min(from + 100_000, data.size()); i < to; i++) {
            dbi.put(txn, versioned(data.key(i), r), in(value, data.value(i, r)));
          }
          txn.commit();
        }
      }
    }
    return this;
  }

  /** A copy of {@code k}'s value as of round {@code round} of {@link #loadVersioned}, or null. */
  byte @Nullable [] getAt(byte[] k, int round) {
    Cursor<ByteBuffer> c = cursor;
    if (c == null) {
      throw new IllegalStateException("read outside beginReads()");
    }
    if (!c.get(versioned(k, round), GetOp.MDB_SET_RANGE)) {
      return null;
    }
    ByteBuffer found = c.key();
    if (found.remaining() != k.length + 4
        || found.mismatch(key.duplicate().limit(k.length)) != k.length) {
      return null;
    }
    ByteBuffer v = c.val();
    byte[] out = new byte[v.remaining()];
    v.get(out);
    return out;
  }

  private ByteBuffer versioned(byte[] k, int round) {
    key.clear();
    key.put(k).putInt(~round).flip();
    return key;
  }

  /**
   * {@link #load} of round 0, then checks that the first 1,000 {@code probes} read the values of
   * the keys at {@code indexes}, as every benchmark checks its answers in setup.
   */
  LmdbStore loadChecked(Dataset data, byte[][] probes, int[] indexes) {
    load(data, 0).beginReads();
    for (int i = 0; i < 1_000; i++) {
      if (!Arrays.equals(get(probes[i]), data.value(indexes[i], 0))) {
        throw new IllegalStateException("LMDB reads a wrong value for probe " + i);
      }
    }
    endReads();
    return this;
  }

  /** Writes {@code k} with {@code v} in a transaction of its own. */
  void put(byte[] k, byte[] v) {
    try (Txn<ByteBuffer> txn = env.txnWrite()) {
      dbi.put(txn, in(key, k), in(value, v));
      txn.commit();
    }
  }

  /** Writes {@code count} keys from {@code keys[start & mask]} on, in one transaction. */
  void putBatch(byte[][] keys, byte[][] values, int start, int count, int mask, int valueMask) {
    try (Txn<ByteBuffer> txn = env.txnWrite()) {
      for (int i = start; i < start + count; i++) {
        dbi.put(txn, in(key, keys[i & mask]), in(value, values[i & valueMask]));
      }
      txn.commit();
    }
  }

  /** Opens the read transaction that {@link #get} and {@link #scan} use; after the last write. */
  LmdbStore beginReads() {
    reads = env.txnRead();
    cursor = dbi.openCursor(reads);
    return this;
  }

  /** Ends the read transaction, so that writes may reuse the pages it held. */
  void endReads() {
    close(cursor, reads);
    cursor = null;
    reads = null;
  }

  /** A copy of {@code k}'s value, or {@code null}. */
  byte @Nullable [] get(byte[] k) {
    ByteBuffer v = dbi.get(readTxn(), in(key, k));
    if (v == null) {
      return null;
    }
    byte[] out = new byte[v.remaining()];
    v.get(out);
    return out;
  }

  /**
   * Visits the keys in [{@code from}, {@code to}] with the cursor, each value in place; returns how
   * many it visited.
   */
  int scan(byte[] from, byte[] to, Blackhole bh) {
    in(bound, to);
    int n = 0;
    Cursor<ByteBuffer> c = cursor;
    if (c == null) {
      throw new IllegalStateException("scan outside beginReads()");
    }
    boolean on = c.get(in(key, from), GetOp.MDB_SET_RANGE);
    while (on && compareUnsigned(c.key(), bound) <= 0) {
      bh.consume(c.val());
      n++;
      on = c.next();
    }
    return n;
  }

  private Txn<ByteBuffer> readTxn() {
    Txn<ByteBuffer> t = reads;
    if (t == null) {
      throw new IllegalStateException("read outside beginReads()");
    }
    return t;
  }

  private static void close(@Nullable Cursor<ByteBuffer> c, @Nullable Txn<ByteBuffer> t) {
    if (c != null) {
      c.close();
    }
    if (t != null) {
      t.close();
    }
  }

  private static int compareUnsigned(ByteBuffer a, ByteBuffer b) {
    int m = a.mismatch(b);
    if (m < 0) {
      return 0;
    }
    if (m >= a.remaining() || m >= b.remaining()) {
      return a.remaining() - b.remaining();
    }
    return Byte.compareUnsigned(a.get(a.position() + m), b.get(b.position() + m));
  }

  private static ByteBuffer in(ByteBuffer buffer, byte[] bytes) {
    buffer.clear();
    buffer.put(bytes).flip();
    return buffer;
  }

  /** Ends the reads, closes the environment and deletes its directory. */
  @Override
  public void close() {
    close(cursor, reads);
    env.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
