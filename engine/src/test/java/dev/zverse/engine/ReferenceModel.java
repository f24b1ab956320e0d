package dev.zverse.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The plain model the engine is checked against: a {@code TreeMap} of key to a {@code TreeMap} of
 * version to value, {@code null} marking a delete. It never prunes, so it can answer for any
 * version ever committed; the engine must agree at every version it still retains.
 */
final class ReferenceModel {
  final TreeMap<byte[], TreeMap<Long, byte[]>> history = new TreeMap<>(Arrays::compareUnsigned);
  long version;

  /** What {@link WriteBatch} would do, as plain operations. */
  sealed interface Op permits Put, Delete, DeleteRange {}

  record Put(byte[] key, byte[] value) implements Op {}

  record Delete(byte[] key) implements Op {}

  record DeleteRange(KeyRange range) implements Op {}

  byte[] get(byte[] key, long atVersion) {
    TreeMap<Long, byte[]> h = history.get(key);
    if (h == null) {
      return null;
    }
    Map.Entry<Long, byte[]> e = h.floorEntry(atVersion);
    return e == null ? null : e.getValue();
  }

  /** Last change at or below {@code atVersion} of a live key, else 0. */
  long modVersion(byte[] key, long atVersion) {
    TreeMap<Long, byte[]> h = history.get(key);
    Map.Entry<Long, byte[]> e = h == null ? null : h.floorEntry(atVersion);
    return e == null || e.getValue() == null ? 0 : e.getKey();
  }

  /** First put of the incarnation live at {@code atVersion}, else 0. */
  long createVersion(byte[] key, long atVersion) {
    TreeMap<Long, byte[]> h = history.get(key);
    Map.Entry<Long, byte[]> e = h == null ? null : h.floorEntry(atVersion);
    if (e == null || e.getValue() == null) {
      return 0;
    }
    long created = e.getKey();
    for (Map.Entry<Long, byte[]> p = h.lowerEntry(created);
        p != null && p.getValue() != null;
        p = h.lowerEntry(p.getKey())) {
      created = p.getKey();
    }
    return created;
  }

  /** Live entries in {@code range} at {@code atVersion}, in key order. */
  List<Entry> scan(KeyRange range, long atVersion) {
    List<Entry> out = new ArrayList<>();
    for (byte[] k : history.keySet()) {
      if (range.contains(k)) {
        byte[] v = get(k, atVersion);
        if (v != null) {
          out.add(new Entry(k, v, createVersion(k, atVersion), modVersion(k, atVersion)));
        }
      }
    }
    return out;
  }

  List<Change> history(byte[] key, long from, long to) {
    List<Change> out = new ArrayList<>();
    TreeMap<Long, byte[]> h = history.get(key);
    if (h != null) {
      for (Map.Entry<Long, byte[]> e : h.subMap(from, true, to, true).entrySet()) {
        out.add(new Change(key, e.getKey(), e.getValue()));
      }
    }
    return out;
  }

  /** Every change to a key in {@code range} with version in [from, to], by version then key. */
  List<Change> changes(KeyRange range, long from, long to) {
    List<Change> out = new ArrayList<>();
    for (byte[] k : history.keySet()) {
      if (range.contains(k)) {
        out.addAll(history(k, from, to));
      }
    }
    out.sort(Comparator.comparingLong(Change::version)); // stable: keys stay in order
    return out;
  }

  long liveKeys(long atVersion) {
    return history.keySet().stream().filter(k -> get(k, atVersion) != null).count();
  }

  /**
   * Applies a batch of operations as the next version, as the engine must: sequentially within the
   * batch, recording for each touched key only its net change.
   */
  long apply(List<Op> ops) {
    long v = version + 1;
    TreeMap<byte[], byte[]> before = new TreeMap<>(Arrays::compareUnsigned);
    TreeMap<byte[], byte[]> after = new TreeMap<>(Arrays::compareUnsigned);
    for (Op op : ops) {
      if (op instanceof Put p) {
        touch(p.key(), before, after);
        after.put(p.key(), p.value());
      } else if (op instanceof Delete d) {
        touch(d.key(), before, after);
        after.put(d.key(), null);
      } else {
        KeyRange r = ((DeleteRange) op).range();
        for (byte[] k : history.keySet()) {
          if (r.contains(k)) {
            touch(k, before, after);
          }
        }
        for (Map.Entry<byte[], byte[]> e : after.entrySet()) {
          if (r.contains(e.getKey())) {
            e.setValue(null);
          }
        }
      }
    }
    for (Map.Entry<byte[], byte[]> e : after.entrySet()) {
      byte[] pre = before.get(e.getKey());
      if (e.getValue() != null) {
        history.computeIfAbsent(e.getKey(), k -> new TreeMap<>()).put(v, e.getValue());
      } else if (pre != null) {
        history.get(e.getKey()).put(v, null);
      }
    }
    version = v;
    return v;
  }

  private void touch(byte[] key, TreeMap<byte[], byte[]> before, TreeMap<byte[], byte[]> after) {
    if (!before.containsKey(key)) {
      byte[] cur = get(key, version);
      before.put(key, cur);
      after.put(key, cur);
    }
  }

  /**
   * The number of version-chain nodes a pruned engine must still hold at watermark {@code w}: every
   * change at or above {@code w}, plus the newest older one if it is a put and no change sits at
   * {@code w}. Returns {keys, storedVersions}.
   */
  long[] retained(long w) {
    long keys = 0;
    long versions = 0;
    for (NavigableMap<Long, byte[]> h : history.values()) {
      long n = h.tailMap(w, true).size();
      Map.Entry<Long, byte[]> floor = h.lowerEntry(w);
      if (floor != null && floor.getValue() != null && !h.containsKey(w)) {
        n++;
      }
      if (n > 0) {
        keys++;
        versions += n;
      }
    }
    return new long[] {keys, versions};
  }
}
