package dev.zverse.cluster;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The term each version of a history was created in, as Raft's log keeps one per entry, held as its
 * boundaries: the sorted pairs (term, first version created in it). Version v was created in the
 * term of the last boundary at or below v, or term 0 if there is none (versions written before any
 * recorded term: a replica's recovered or transferred prefix).
 *
 * <p>Why creation terms: a new writer re-sends the tail it took over in its own term, so the term
 * of the message a version came in says nothing about which history it belongs to. Two histories
 * that created a version in the same term hold the same content up to it (only one writer has a
 * term, and it extends its own history only), so the pair (creation term of the last version,
 * version) orders histories as Raft's "at least as up-to-date" does, and the first version where
 * two histories' creation terms differ is where they fork.
 *
 * <p>A writer's boundaries never change during its term: seeded from the catch-up source's (up to
 * the version it starts from), plus (its term, that version + 1). So a replica learns them once,
 * with {@link ReplicaProtocol.Subscribed}, for every commit that writer will send.
 *
 * <p>Immutable; safe for concurrent readers.
 */
final class TermBoundaries {
  /** The history with no recorded term: every version created in term 0. */
  static final TermBoundaries NONE = new TermBoundaries(new long[0], new long[0]);

  /** The terms, strictly increasing. */
  private final long[] terms;

  /** The first version created in {@code terms[i]}, strictly increasing, each at least 1. */
  private final long[] firsts;

  private TermBoundaries(long[] terms, long[] firsts) {
    this.terms = terms;
    this.firsts = firsts;
  }

  /**
   * The boundaries given as pairs, checked.
   *
   * @param terms the terms, strictly increasing, each at least 1
   * @param firsts the first version created in each term, strictly increasing, each at least 1
   * @return the boundaries
   * @throws IllegalArgumentException if the arrays differ in length or are not as described
   */
  static TermBoundaries of(long[] terms, long[] firsts) {
    if (terms.length != firsts.length) {
      throw new IllegalArgumentException(
          "terms and firsts must have the same length, were "
              + terms.length
              + " and "
              + firsts.length);
    }
    for (int i = 0; i < terms.length; i++) {
      if (terms[i] < 1 || firsts[i] < 1) {
        throw new IllegalArgumentException(
            "term and first version must be at least 1, were " + terms[i] + " and " + firsts[i]);
      }
      if (i > 0 && (terms[i] <= terms[i - 1] || firsts[i] <= firsts[i - 1])) {
        throw new IllegalArgumentException(
            "boundaries must increase in term and version, were ("
                + terms[i - 1]
                + ", "
                + firsts[i - 1]
                + ") then ("
                + terms[i]
                + ", "
                + firsts[i]
                + ")");
      }
    }
    return terms.length == 0 ? NONE : new TermBoundaries(terms.clone(), firsts.clone());
  }

  /**
   * Whether a history whose last version {@code versionA} was created in {@code termA} is more
   * up-to-date than one whose last version {@code versionB} was created in {@code termB}: the
   * higher creation term wins, then the longer history (Raft's election restriction). The catch-up
   * source is the promise that no other one beats.
   */
  static boolean newer(long termA, long versionA, long termB, long versionB) {
    return termA > termB || (termA == termB && versionA > versionB);
  }

  /** How many boundaries there are. */
  int size() {
    return terms.length;
  }

  /** The {@code i}-th boundary's term. */
  long term(int i) {
    return terms[i];
  }

  /** The {@code i}-th boundary's first version. */
  long first(int i) {
    return firsts[i];
  }

  /** The term {@code version} was created in: 0 if before every boundary. */
  long termOf(long version) {
    int i = Arrays.binarySearch(firsts, version);
    int at = i >= 0 ? i : -i - 2;
    return at < 0 ? 0 : terms[at];
  }

  /**
   * These boundaries up to {@code version}, then {@code term} from {@code version + 1}: the history
   * of a writer of {@code term} that starts from this history at {@code version}.
   *
   * @param version the last version kept, at least 0
   * @param term the new term, higher than every term kept
   * @return the extended boundaries
   * @throws IllegalArgumentException if {@code term} is not higher than the kept ones
   */
  TermBoundaries extend(long version, long term) {
    int keep = keptUpTo(version);
    if (keep > 0 && terms[keep - 1] >= term) {
      throw new IllegalArgumentException(
          "term must be higher than " + terms[keep - 1] + ", was " + term);
    }
    long[] t = Arrays.copyOf(terms, keep + 1);
    long[] f = Arrays.copyOf(firsts, keep + 1);
    t[keep] = term;
    f[keep] = version + 1;
    return new TermBoundaries(t, f);
  }

  /** These boundaries restricted to the versions up to {@code version}. */
  TermBoundaries upTo(long version) {
    int keep = keptUpTo(version);
    return keep == terms.length
        ? this
        : keep == 0
            ? NONE
            : new TermBoundaries(Arrays.copyOf(terms, keep), Arrays.copyOf(firsts, keep));
  }

  private int keptUpTo(long version) {
    int keep = 0;
    while (keep < firsts.length && firsts[keep] <= version) {
      keep++;
    }
    return keep;
  }

  /**
   * The first version in {@code [from, to]} that {@code other} created in another term than this
   * history did: where the two histories fork (Raft's log matching), or {@code to + 1} if they
   * agree on the whole range.
   *
   * @param other the other history's boundaries
   * @param from the first version compared, at least 1
   * @param to the last version compared
   * @return the first version they disagree on, or {@code to + 1}
   */
  long firstConflict(TermBoundaries other, long from, long to) {
    if (from > to) {
      return to + 1;
    }
    // Creation terms change only at boundaries: compare at from and at every boundary inside.
    long[] points = new long[firsts.length + other.firsts.length + 1];
    int n = 0;
    points[n++] = from;
    for (long f : firsts) {
      if (f > from && f <= to) {
        points[n++] = f;
      }
    }
    for (long f : other.firsts) {
      if (f > from && f <= to) {
        points[n++] = f;
      }
    }
    Arrays.sort(points, 0, n);
    for (int i = 0; i < n; i++) {
      if (termOf(points[i]) != other.termOf(points[i])) {
        return points[i];
      }
    }
    return to + 1;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof TermBoundaries b
        && Arrays.equals(terms, b.terms)
        && Arrays.equals(firsts, b.firsts);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(terms) + Arrays.hashCode(firsts);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < terms.length; i++) {
      s.append(i == 0 ? "" : ", ").append('(').append(terms[i]).append(", ");
      s.append(firsts[i]).append(')');
    }
    return s.append(']').toString();
  }
}
