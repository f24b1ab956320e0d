package dev.zverse.cluster;

import dev.zverse.cluster.WriterProtocol.Chunk;
import dev.zverse.cluster.WriterProtocol.Commits;
import dev.zverse.cluster.WriterProtocol.ConditionsFailed;
import dev.zverse.cluster.WriterProtocol.Failed;
import dev.zverse.cluster.WriterProtocol.Invalid;
import dev.zverse.cluster.WriterProtocol.Overloaded;
import dev.zverse.cluster.WriterProtocol.Write;
import dev.zverse.cluster.WriterProtocol.Written;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Condition;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.CorruptRecordException;
import dev.zverse.engine.WriteBatchCodec;
import java.io.NotSerializableException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.apache.pekko.stream.StreamRefResolver;
import org.jspecify.annotations.Nullable;

/**
 * The binary serializer of every message the cluster module sends between nodes; Pekko creates it
 * from the {@code pekko.actor.serializers} entry in this module's {@code reference.conf}.
 *
 * <h2>Format</h2>
 *
 * Commits travel as one record of the write-ahead log ({@link CommitRecordCodec}), checksums
 * included; a write request as its batch ({@link WriteBatchCodec}) after the reply address. The
 * small control messages have their own layout: big-endian integers, strings as a length (int) and
 * UTF-8 bytes, byte arrays as a length (int) and bytes, a null array as length -1.
 *
 * <pre>
 * W write:          reply address (string), batch
 * V written:        version (long)
 * C conditions:     count (int), per failure: kind (byte: 1 absent, 2 mod version, 3 value
 *                   equals), mod version (long), key, value or null, actual (string)
 * O overloaded:     store name (string), max pending writes (int)
 * I invalid:        message (string)
 * F failed:         message (string)
 * G commits:        term (long), committed (long), CRC32C of those 16 bytes (int), one commit
 *                   record (which has its own checksums)
 * K chunk:          id (long), index (int), count (int), manifest (string), bytes
 * TQ transfer request: store name (string), reply address (string)
 * TO transfer offer:   store name (string), version (long), stream ref (string, Pekko's own
 *                      serialized form of a SourceRef)
 * TR transfer refused: reason (string)
 * FO follow:        from (long), max key bytes (int), max value bytes (int), replica (string)
 * A ack:            term (long), received (long), applied (long), replica (string)
 * GL get latest:    reply address (string)
 * S subscribed:     term (long), writer (string), latest (long)
 * L latest:         version (long)
 * T needs transfer: next (long), watermark (long), latest (long), source (string)
 * R refused:        message (string)
 * CI commit index:  term (long), committed (long)
 * P promise:        term (long), writer (string)
 * PW promised:      term (long), granted (byte 0 or 1), promised term (long), applied (long),
 *                   watermark (long), received (long), received term (long), creation terms,
 *                   followers' term (long) and sequence number (long), followers (addresses),
 *                   replica (string), transfer server (string)
 * FE fetch:         term (long), from (long), to (long), writer (string)
 * FD fetched:       term (long), CRC32C of those 8 bytes (int), one commit record
 * FR fetch refused: term (long), message (string)
 * NE not enough:    store name (string), min acks (int), replicas (int), store nodes (int)
 * U unknown:        message (string)
 * </pre>
 *
 * Bytes that do not read back are refused with a {@link NotSerializableException} naming the
 * manifest and the byte offset. Safe for concurrent use: it holds no state but the resolver of
 * actor references.
 *
 * <p>Over 500 lines because every message of the protocol is written and read here, each pair next
 * to the other so that a format change is made in one place (the table above).
 */
public final class WireSerializer extends SerializerWithStringManifest {
  /** This serializer's identifier among the actor system's serializers. */
  public static final int IDENTIFIER = 7_116_453;

  private static final byte ABSENT = 1;
  private static final byte MOD_VERSION = 2;
  private static final byte VALUE_EQUALS = 3;

  static final String WRITE = "W";
  static final String WRITTEN = "V";
  static final String CONDITIONS_FAILED = "C";
  static final String OVERLOADED = "O";
  static final String INVALID = "I";
  static final String FAILED = "F";
  static final String COMMITS = "G";
  static final String CHUNK = "K";
  static final String TRANSFER_REQUEST = "TQ";
  static final String TRANSFER_OFFER = "TO";
  static final String TRANSFER_REFUSED = "TR";
  static final String FOLLOW = "FO";
  static final String ACK = "A";
  static final String GET_LATEST = "GL";
  static final String SUBSCRIBED = "S";
  static final String LATEST = "L";
  static final String NEEDS_TRANSFER = "T";
  static final String REFUSED = "R";
  static final String COMMIT_INDEX = "CI";
  static final String PROMISE = "P";

  /**
   * A promise with the replica's watermark and transfer server; a new manifest for a new layout, so
   * that a node of an older version refuses it as unknown instead of misreading it ("PD" before).
   */
  static final String PROMISED = "PW";

  static final String FETCH = "FE";
  static final String FETCHED = "FD";
  static final String FETCH_REFUSED = "FR";
  static final String NOT_ENOUGH_REPLICAS = "NE";
  static final String OUTCOME_UNKNOWN = "U";
  static final String FENCED = "FN";
  static final String FOLLOWERS = "FS";
  static final String FOLLOWERS_KNOWN = "FK";

  private final ExtendedActorSystem system;

  /**
   * Made by Pekko, once per actor system.
   *
   * @param system the actor system whose references it resolves
   */
  public WireSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  /**
   * The instance the actor system made, to split and reassemble messages with.
   *
   * @param system an actor system with this module's configuration
   * @return its serializer of the cluster module's messages
   * @throws IllegalStateException if the configuration does not bind them to this serializer
   */
  static WireSerializer of(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    try {
      return (WireSerializer)
          SerializationExtension.get(system.classicSystem()).serializerFor(Commits.class);
    } catch (NotSerializableException | ClassCastException e) {
      throw new IllegalStateException(
          "the cluster module's messages are not bound to WireSerializer: is its reference.conf"
              + " on the class path?",
          e);
    }
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof Write) {
      return WRITE;
    } else if (o instanceof Written) {
      return WRITTEN;
    } else if (o instanceof ConditionsFailed) {
      return CONDITIONS_FAILED;
    } else if (o instanceof Overloaded) {
      return OVERLOADED;
    } else if (o instanceof Invalid) {
      return INVALID;
    } else if (o instanceof Failed) {
      return FAILED;
    } else if (o instanceof Commits) {
      return COMMITS;
    } else if (o instanceof Chunk) {
      return CHUNK;
    } else if (o instanceof StateTransfer.Request) {
      return TRANSFER_REQUEST;
    } else if (o instanceof StateTransfer.Offer) {
      return TRANSFER_OFFER;
    } else if (o instanceof StateTransfer.Refused) {
      return TRANSFER_REFUSED;
    } else if (o instanceof WriterProtocol.Follow) {
      return FOLLOW;
    } else if (o instanceof WriterProtocol.Ack) {
      return ACK;
    } else if (o instanceof WriterProtocol.GetLatest) {
      return GET_LATEST;
    } else if (o instanceof ReplicaProtocol.Subscribed) {
      return SUBSCRIBED;
    } else if (o instanceof ReplicaProtocol.Latest) {
      return LATEST;
    } else if (o instanceof ReplicaProtocol.NeedsTransfer) {
      return NEEDS_TRANSFER;
    } else if (o instanceof ReplicaProtocol.Refused) {
      return REFUSED;
    } else if (o instanceof ReplicaProtocol.CommitIndex) {
      return COMMIT_INDEX;
    } else if (o instanceof ReplicaProtocol.Promise) {
      return PROMISE;
    } else if (o instanceof WriterProtocol.Promised) {
      return PROMISED;
    } else if (o instanceof ReplicaProtocol.Fetch) {
      return FETCH;
    } else if (o instanceof WriterProtocol.Fetched) {
      return FETCHED;
    } else if (o instanceof WriterProtocol.FetchRefused) {
      return FETCH_REFUSED;
    } else if (o instanceof WriterProtocol.NotEnoughReplicas) {
      return NOT_ENOUGH_REPLICAS;
    } else if (o instanceof WriterProtocol.OutcomeUnknown) {
      return OUTCOME_UNKNOWN;
    } else if (o instanceof WriterProtocol.Fenced) {
      return FENCED;
    } else if (o instanceof ReplicaProtocol.Followers) {
      return FOLLOWERS;
    } else if (o instanceof WriterProtocol.FollowersKnown) {
      return FOLLOWERS_KNOWN;
    }
    throw new IllegalArgumentException("not a message of the cluster module: " + o.getClass());
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof Commits c) {
      return withHeader(CommitRecordCodec.encode(c.group()), c.term(), c.committed());
    } else if (o instanceof WriterProtocol.Fetched f) {
      return withHeader(CommitRecordCodec.encode(f.group()), f.term());
    }
    Out out = new Out();
    if (o instanceof Write w) {
      out.string(resolver().toSerializationFormat(w.replyTo()));
      out.bytes(WriteBatchCodec.encode(w.batch()));
    } else if (o instanceof Written w) {
      out.b.putLong(w.version());
    } else if (o instanceof ConditionsFailed c) {
      out.b.putInt(c.failures().size());
      for (ConditionFailedException.Failure f : c.failures()) {
        out.condition(f.condition());
        out.string(f.actual());
      }
    } else if (o instanceof Overloaded ov) {
      out.string(ov.storeName());
      out.b.putInt(ov.maxPendingWrites());
    } else if (o instanceof Invalid i) {
      out.string(i.message());
    } else if (o instanceof Failed f) {
      out.string(f.message());
    } else if (o instanceof Chunk k) {
      out.b.putLong(k.id());
      out.b.putInt(k.index());
      out.b.putInt(k.count());
      out.string(k.manifest());
      out.bytes(k.bytes());
    } else if (o instanceof StateTransfer.Request r) {
      out.string(r.storeName());
      out.ensure(8);
      out.b.putLong(r.term());
      out.string(resolver().toSerializationFormat(r.replyTo()));
    } else if (o instanceof StateTransfer.Offer offer) {
      out.string(offer.storeName());
      out.ensure(8);
      out.b.putLong(offer.version());
      out.string(StreamRefResolver.get(system).toSerializationFormat(offer.chunks()));
    } else if (o instanceof StateTransfer.Refused r) {
      out.string(r.reason());
    } else if (o instanceof WriterProtocol.Follow f) {
      out.ensure(16);
      out.b.putLong(f.from());
      out.b.putInt(f.maxKeyBytes());
      out.b.putInt(f.maxValueBytes());
      out.string(resolver().toSerializationFormat(f.replica()));
    } else if (o instanceof WriterProtocol.Ack a) {
      out.b.putLong(a.term());
      out.b.putLong(a.received());
      out.b.putLong(a.applied());
      out.string(resolver().toSerializationFormat(a.replica()));
    } else if (o instanceof WriterProtocol.GetLatest g) {
      out.string(resolver().toSerializationFormat(g.replyTo()));
    } else if (o instanceof ReplicaProtocol.Subscribed sub) {
      out.b.putLong(sub.term());
      out.string(resolver().toSerializationFormat(sub.writer()));
      out.ensure(8);
      out.b.putLong(sub.latest());
      out.terms(sub.terms());
    } else if (o instanceof ReplicaProtocol.Latest l) {
      out.b.putLong(l.version());
    } else if (o instanceof ReplicaProtocol.NeedsTransfer t) {
      out.b.putLong(t.term());
      out.string(resolver().toSerializationFormat(t.writer()));
      out.ensure(24);
      out.b.putLong(t.next());
      out.b.putLong(t.watermark());
      out.b.putLong(t.latest());
      out.string(resolver().toSerializationFormat(t.source()));
      out.terms(t.terms());
    } else if (o instanceof ReplicaProtocol.Refused r) {
      out.string(r.message());
    } else if (o instanceof ReplicaProtocol.CommitIndex ci) {
      out.b.putLong(ci.term());
      out.b.putLong(ci.committed());
    } else if (o instanceof ReplicaProtocol.Promise p) {
      out.b.putLong(p.term());
      out.string(resolver().toSerializationFormat(p.writer()));
    } else if (o instanceof WriterProtocol.Promised p) {
      out.b.putLong(p.term());
      out.b.put(p.granted() ? (byte) 1 : (byte) 0);
      out.b.putLong(p.promisedTerm());
      out.b.putLong(p.applied());
      out.b.putLong(p.watermark());
      out.b.putLong(p.received());
      out.b.putLong(p.lastTerm());
      out.terms(p.terms());
      out.ensure(16);
      out.b.putLong(p.followersTerm());
      out.b.putLong(p.followersSeq());
      out.addresses(p.followers());
      out.string(resolver().toSerializationFormat(p.replica()));
      out.string(resolver().toSerializationFormat(p.transfers()));
    } else if (o instanceof ReplicaProtocol.Fetch f) {
      out.b.putLong(f.term());
      out.b.putLong(f.from());
      out.b.putLong(f.to());
      out.string(resolver().toSerializationFormat(f.writer()));
    } else if (o instanceof WriterProtocol.Fenced f) {
      out.b.putLong(f.term());
    } else if (o instanceof ReplicaProtocol.Followers f) {
      out.b.putLong(f.term());
      out.b.putLong(f.seq());
      out.addresses(f.nodes());
      out.string(resolver().toSerializationFormat(f.writer()));
    } else if (o instanceof WriterProtocol.FollowersKnown k) {
      out.b.putLong(k.term());
      out.b.putLong(k.seq());
      out.string(resolver().toSerializationFormat(k.replica()));
    } else if (o instanceof WriterProtocol.FetchRefused r) {
      out.b.putLong(r.term());
      out.string(r.message());
    } else if (o instanceof WriterProtocol.NotEnoughReplicas n) {
      out.string(n.storeName());
      out.ensure(12);
      out.b.putInt(n.minAcks());
      out.b.putInt(n.replicas());
      out.b.putInt(n.storeNodes());
    } else if (o instanceof WriterProtocol.OutcomeUnknown u) {
      out.string(u.message());
    } else {
      throw new IllegalArgumentException("not a message of the cluster module: " + o.getClass());
    }
    return out.toArray();
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    In in = new In(bytes);
    try {
      Object message = read(in, manifest);
      if (in.b.hasRemaining()) {
        throw refusal(manifest, in.b.position(), in.b.remaining() + " bytes after the message");
      }
      return message;
    } catch (BufferUnderflowException e) {
      throw refusal(manifest, bytes.length, "message cut short");
    } catch (CorruptRecordException e) {
      throw refusal(manifest, e.offset(), e.problem());
    } catch (IllegalArgumentException e) {
      throw refusal(manifest, in.b.position(), String.valueOf(e.getMessage()));
    }
  }

  private Object read(In in, String manifest)
      throws NotSerializableException, CorruptRecordException {
    return switch (manifest) {
      case COMMITS -> {
        long[] header = header(in, 2);
        yield new Commits(header[0], header[1], record(in));
      }
      case FETCHED -> {
        long[] header = header(in, 1);
        yield new WriterProtocol.Fetched(header[0], record(in));
      }
      case WRITE -> readWrite(in);
      case WRITTEN -> new Written(in.b.getLong());
      case CONDITIONS_FAILED -> readConditionsFailed(in);
      case OVERLOADED -> new Overloaded(in.string(), in.b.getInt());
      case INVALID -> new Invalid(in.string());
      case FAILED -> new Failed(in.string());
      case CHUNK ->
          new Chunk(in.b.getLong(), in.b.getInt(), in.b.getInt(), in.string(), in.bytes());
      case TRANSFER_REQUEST ->
          new StateTransfer.Request(
              in.string(), in.b.getLong(), resolver().resolveActorRef(in.string()));
      case TRANSFER_OFFER ->
          new StateTransfer.Offer(
              in.string(),
              in.b.getLong(),
              StreamRefResolver.get(system).<byte[]>resolveSourceRef(in.string()));
      case TRANSFER_REFUSED -> new StateTransfer.Refused(in.string());
      case FOLLOW ->
          new WriterProtocol.Follow(
              in.b.getLong(),
              in.b.getInt(),
              in.b.getInt(),
              resolver().resolveActorRef(in.string()));
      case ACK ->
          new WriterProtocol.Ack(
              in.b.getLong(),
              in.b.getLong(),
              in.b.getLong(),
              resolver().resolveActorRef(in.string()));
      case GET_LATEST -> new WriterProtocol.GetLatest(resolver().resolveActorRef(in.string()));
      case SUBSCRIBED ->
          new ReplicaProtocol.Subscribed(
              in.b.getLong(), resolver().resolveActorRef(in.string()), in.b.getLong(), in.terms());
      case LATEST -> new ReplicaProtocol.Latest(in.b.getLong());
      case NEEDS_TRANSFER ->
          new ReplicaProtocol.NeedsTransfer(
              in.b.getLong(),
              resolver().resolveActorRef(in.string()),
              in.b.getLong(),
              in.b.getLong(),
              in.b.getLong(),
              resolver().resolveActorRef(in.string()),
              in.terms());
      case REFUSED -> new ReplicaProtocol.Refused(in.string());
      case COMMIT_INDEX -> new ReplicaProtocol.CommitIndex(in.b.getLong(), in.b.getLong());
      case PROMISE ->
          new ReplicaProtocol.Promise(in.b.getLong(), resolver().resolveActorRef(in.string()));
      case PROMISED -> readPromised(in);
      case FETCH ->
          new ReplicaProtocol.Fetch(
              in.b.getLong(),
              in.b.getLong(),
              in.b.getLong(),
              resolver().resolveActorRef(in.string()));
      case FETCH_REFUSED -> new WriterProtocol.FetchRefused(in.b.getLong(), in.string());
      case FENCED -> new WriterProtocol.Fenced(in.b.getLong());
      case FOLLOWERS ->
          new ReplicaProtocol.Followers(
              in.b.getLong(),
              in.b.getLong(),
              in.addresses(),
              resolver().resolveActorRef(in.string()));
      case FOLLOWERS_KNOWN ->
          new WriterProtocol.FollowersKnown(
              in.b.getLong(), in.b.getLong(), resolver().resolveActorRef(in.string()));
      case NOT_ENOUGH_REPLICAS ->
          new WriterProtocol.NotEnoughReplicas(
              in.string(), in.b.getInt(), in.b.getInt(), in.b.getInt());
      case OUTCOME_UNKNOWN -> new WriterProtocol.OutcomeUnknown(in.string());
      default ->
          throw new NotSerializableException(
              "unknown manifest [" + manifest + "] for the cluster module's serializer");
    };
  }

  private WriterProtocol.Promised readPromised(In in) throws CorruptRecordException {
    long term = in.b.getLong();
    int at = in.b.position();
    byte granted = in.b.get();
    if (granted != 0 && granted != 1) {
      throw new CorruptRecordException(at, "granted must be 0 or 1, was " + granted);
    }
    return new WriterProtocol.Promised(
        term,
        granted == 1,
        in.b.getLong(),
        in.b.getLong(),
        in.b.getLong(),
        in.b.getLong(),
        in.b.getLong(),
        in.terms(),
        in.b.getLong(),
        in.b.getLong(),
        in.addresses(),
        resolver().resolveActorRef(in.string()),
        resolver().resolveActorRef(in.string()));
  }

  /**
   * {@code record} after a header of {@code longs} and their CRC32C: the record's own checksums do
   * not cover the header, and a damaged term or commit index must be refused like a damaged record.
   */
  private static byte[] withHeader(byte[] record, long... longs) {
    ByteBuffer b = ByteBuffer.allocate(longs.length * 8 + 4 + record.length);
    for (long l : longs) {
      b.putLong(l);
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, longs.length * 8);
    b.putInt((int) crc.getValue());
    b.put(record);
    return b.array();
  }

  /** Reads a header of {@code n} longs written by {@link #withHeader}, checking its CRC32C. */
  private static long[] header(In in, int n) throws CorruptRecordException {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = in.b.getLong();
    }
    CRC32C crc = new CRC32C();
    crc.update(in.b.array(), 0, n * 8);
    int at = in.b.position();
    if (in.b.getInt() != (int) crc.getValue()) {
      throw new CorruptRecordException(at, "the header's checksum does not match");
    }
    return out;
  }

  /** One commit record at {@code in}'s position; a refusal's offset counts from the message. */
  private static CommitRecordCodec.Group record(In in) throws CorruptRecordException {
    int at = in.b.position();
    try {
      return CommitRecordCodec.decode(in.b);
    } catch (CorruptRecordException e) {
      throw new CorruptRecordException(at + e.offset(), e.problem());
    }
  }

  private Write readWrite(In in) throws CorruptRecordException {
    ActorRef<WriterProtocol.Reply> replyTo = resolver().resolveActorRef(in.string());
    int at = in.b.position();
    byte[] batch = in.bytes();
    try {
      return new Write(WriteBatchCodec.decode(batch), replyTo);
    } catch (CorruptRecordException e) {
      // The batch's offsets count from its first byte, after its length.
      throw new CorruptRecordException(at + 4 + e.offset(), e.problem());
    }
  }

  private static ConditionsFailed readConditionsFailed(In in) throws CorruptRecordException {
    int n = in.count();
    List<ConditionFailedException.Failure> failures = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Condition c = in.condition();
      failures.add(new ConditionFailedException.Failure(c, in.string()));
    }
    return new ConditionsFailed(failures);
  }

  private static NotSerializableException refusal(String manifest, long offset, String problem) {
    return new NotSerializableException(
        "cannot read a message of manifest [" + manifest + "] at byte " + offset + ": " + problem);
  }

  private ActorRefResolver resolver() {
    // Looked up per use: the serializer is made while the actor system starts, before the typed
    // view of the system and its extensions can be reached.
    return ActorRefResolver.get(Adapter.toTyped(system));
  }

  /** A growing big-endian buffer. */
  private static final class Out {
    ByteBuffer b = ByteBuffer.allocate(256);

    void ensure(int more) {
      if (b.remaining() < more) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + more));
        b.flip();
        bigger.put(b);
        b = bigger;
      }
    }

    void bytes(byte[] bytes) {
      ensure(4 + bytes.length);
      b.putInt(bytes.length);
      b.put(bytes);
    }

    void nullableBytes(byte @Nullable [] bytes) {
      if (bytes == null) {
        ensure(4);
        b.putInt(-1);
      } else {
        bytes(bytes);
      }
    }

    void string(String s) {
      bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The addresses as a count and their strings. */
    void addresses(Set<Address> addresses) {
      ensure(4);
      b.putInt(addresses.size());
      for (Address a : addresses) {
        string(a.toString());
      }
    }

    /** The boundaries as a count and (term, first version) pairs. */
    void terms(TermBoundaries t) {
      ensure(4 + 16 * t.size());
      b.putInt(t.size());
      for (int i = 0; i < t.size(); i++) {
        b.putLong(t.term(i));
        b.putLong(t.first(i));
      }
    }

    void condition(Condition c) {
      ensure(1 + 8);
      b.put(
          switch (c.kind()) {
            case ABSENT -> ABSENT;
            case MOD_VERSION -> MOD_VERSION;
            case VALUE_EQUALS -> VALUE_EQUALS;
          });
      b.putLong(c.modVersion());
      bytes(c.key());
      nullableBytes(c.value());
    }

    byte[] toArray() {
      byte[] out = new byte[b.position()];
      System.arraycopy(b.array(), 0, out, 0, out.length);
      return out;
    }
  }

  /** A big-endian reader that refuses lengths past the end. */
  private static final class In {
    final ByteBuffer b;

    In(byte[] bytes) {
      this.b = ByteBuffer.wrap(bytes);
    }

    int count() throws CorruptRecordException {
      int at = b.position();
      int n = b.getInt();
      if (n < 0 || n > b.remaining()) {
        throw new CorruptRecordException(at, "count " + n + " is negative or past the end");
      }
      return n;
    }

    byte[] bytes() throws CorruptRecordException {
      int at = b.position();
      int n = b.getInt();
      if (n < 0 || n > b.remaining()) {
        throw new CorruptRecordException(at, "length " + n + " is negative or past the end");
      }
      byte[] out = new byte[n];
      b.get(out);
      return out;
    }

    byte @Nullable [] nullableBytes() throws CorruptRecordException {
      int at = b.position();
      if (b.getInt(at) == -1) {
        b.getInt();
        return null;
      }
      return bytes();
    }

    String string() throws CorruptRecordException {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    Set<Address> addresses() throws CorruptRecordException {
      int n = count();
      Set<Address> out = new HashSet<>();
      for (int i = 0; i < n; i++) {
        int at = b.position();
        String s = string();
        try {
          out.add(AddressFromURIString.parse(s));
        } catch (RuntimeException e) {
          throw new CorruptRecordException(at, "not an address: " + s);
        }
      }
      return out;
    }

    TermBoundaries terms() throws CorruptRecordException {
      int at = b.position();
      int n = b.getInt();
      if (n < 0 || n > b.remaining() / 16) {
        throw new CorruptRecordException(at, "term count " + n + " is negative or past the end");
      }
      long[] terms = new long[n];
      long[] firsts = new long[n];
      for (int i = 0; i < n; i++) {
        terms[i] = b.getLong();
        firsts[i] = b.getLong();
      }
      try {
        return TermBoundaries.of(terms, firsts);
      } catch (IllegalArgumentException e) {
        throw new CorruptRecordException(at, String.valueOf(e.getMessage()));
      }
    }

    Condition condition() throws CorruptRecordException {
      int at = b.position();
      int kind = b.get();
      long modVersion = b.getLong();
      byte[] key = bytes();
      byte[] value = nullableBytes();
      return switch (kind) {
        case ABSENT -> Condition.absent(key);
        case MOD_VERSION -> Condition.modVersion(key, modVersion);
        case VALUE_EQUALS -> {
          if (value == null) {
            throw new CorruptRecordException(at, "a value-equals condition without a value");
          }
          yield Condition.valueEquals(key, value);
        }
        default -> throw new CorruptRecordException(at, "unknown condition kind " + kind);
      };
    }
  }
}
