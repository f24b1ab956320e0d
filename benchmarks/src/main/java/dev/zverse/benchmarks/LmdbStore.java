package dev.zverse.benchmarks;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;
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
  private Txn<ByteBuffer> reads;
  private Cursor<ByteBuffer> cursor;

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
    cursor.close();
    reads.close();
    cursor = null;
    reads = null;
  }

  /** A copy of {@code k}'s value, or {@code null}. */
  byte[] get(byte[] k) {
    ByteBuffer v = dbi.get(reads, in(key, k));
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
    boolean on = cursor.get(in(key, from), GetOp.MDB_SET_RANGE);
    while (on && compareUnsigned(cursor.key(), bound) <= 0) {
      bh.consume(cursor.val());
      n++;
      on = cursor.next();
    }
    return n;
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
    if (cursor != null) {
      cursor.close();
      reads.close();
    }
    env.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
