package dev.zverse.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.zverse.cluster.WriterProtocol.Chunk;
import dev.zverse.cluster.WriterProtocol.Commits;
import dev.zverse.cluster.WriterProtocol.ConditionsFailed;
import dev.zverse.cluster.WriterProtocol.Failed;
import dev.zverse.cluster.WriterProtocol.Invalid;
import dev.zverse.cluster.WriterProtocol.Overloaded;
import dev.zverse.cluster.WriterProtocol.Reply;
import dev.zverse.cluster.WriterProtocol.Write;
import dev.zverse.cluster.WriterProtocol.Written;
import dev.zverse.engine.CommitRecord;
import dev.zverse.engine.CommitRecordCodec;
import dev.zverse.engine.Condition;
import dev.zverse.engine.ConditionFailedException;
import dev.zverse.engine.KeyRange;
import dev.zverse.engine.Snapshot;
import dev.zverse.engine.WriteBatch;
import dev.zverse.engine.WriteBatchCodec;
import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;

/**
 * Every message of the cluster module reads back equal after crossing the serializer that the
 * module's {@code reference.conf} binds, with Java serialization off; damaged bytes are refused
 * naming the offset; messages of several MB cross as chunks under Artery's frame size.
 */
class WireSerializerProperties {
  /** Artery's default {@code maximum-frame-size}: no single message may be larger. */
  private static final int FRAME_BYTES = 256 * 1024;

  private static ActorTestKit kit;
  private static Serialization serialization;
  private static ActorRef<Reply> replyTo;
  private static ActorRef<StateTransfer.Reply> transferReplyTo;
  private static SourceRef<byte[]> sourceRef;

  @BeforeContainer
  static void start() {
    kit =
        ActorTestKit.create(
            "wire",
            ConfigFactory.parseString(ClusterHarness.BASE).withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(Adapter.toClassic(kit.system()));
    replyTo = kit.<Reply>createTestProbe().getRef();
    transferReplyTo = kit.<StateTransfer.Reply>createTestProbe().getRef();
    sourceRef = Source.<byte[]>empty().runWith(StreamRefs.sourceRef(), kit.system());
  }

  @AfterContainer
  static void stop() {
    kit.shutdownTestKit();
  }

  @Example
  void everyMessageIsBoundToTheWireSerializerNotJava() {
    List<Object> messages =
        List.of(
            new Write(WriteBatch.ofPut("k", "v"), replyTo),
            new Written(1),
            new ConditionsFailed(List.of()),
            new Overloaded("s", 1),
            new Invalid("m"),
            new Failed("m"),
            new Commits(1, 0, group(List.of(WriteBatch.ofPut("k", "v")), 0)),
            new WriterProtocol.Fetched(1, group(List.of(WriteBatch.ofPut("k", "v")), 0)),
            new WriterProtocol.NotEnoughReplicas("s", 1, 0, 1),
            new WriterProtocol.OutcomeUnknown("m"),
            new Chunk(1, 0, 1, "V", new byte[0]),
            new StateTransfer.Request("s", 3, transferReplyTo),
            new StateTransfer.Offer("s", 1, sourceRef),
            new StateTransfer.Refused("r"));
    for (Object m : messages) {
      Serializer s = serialization.findSerializerFor(m);
      assertInstanceOf(WireSerializer.class, s, m.getClass().getName());
    }
  }

  @Property(tries = 100)
  void theReplicasMessagesReadBackEqual(
      @ForAll @net.jqwik.api.constraints.LongRange(min = 0) long a,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 1) int b,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 0) int c,
      @ForAll String text) {
    ActorRef<ReplicaProtocol.Command> replica =
        kit.<ReplicaProtocol.Command>createTestProbe().getRef();
    ActorRef<WriterProtocol.Command> writer =
        kit.<WriterProtocol.Command>createTestProbe().getRef();
    ActorRef<ReplicaProtocol.Latest> latest =
        kit.<ReplicaProtocol.Latest>createTestProbe().getRef();
    ActorRef<StateTransfer.Request> source = kit.<StateTransfer.Request>createTestProbe().getRef();
    List<Object> messages =
        List.of(
            new WriterProtocol.Follow(a, b, c, replica),
            new WriterProtocol.Ack(a, b, c, replica),
            new WriterProtocol.Promised(
                a,
                b % 2 == 0,
                a,
                b,
                c,
                c + 7L,
                a,
                TermBoundaries.of(new long[] {b}, new long[] {c + 1L}),
                b,
                c,
                Set.of(replica.path().address(), new Address("pekko", "s", "127.0.0.1", c)),
                replica,
                source),
            new WriterProtocol.Fenced(a),
            new ReplicaProtocol.Followers(a, c, Set.of(new Address("pekko", "s", "h", b)), writer),
            new WriterProtocol.FollowersKnown(a, c, replica),
            new WriterProtocol.FetchRefused(a, text),
            new ReplicaProtocol.CommitIndex(a, b),
            new ReplicaProtocol.Promise(a, writer),
            new ReplicaProtocol.Fetch(a, b, c, writer),
            new WriterProtocol.GetLatest(latest),
            new ReplicaProtocol.Subscribed(c, writer, a, TermBoundaries.NONE.extend(c, b)),
            new ReplicaProtocol.Latest(a),
            new ReplicaProtocol.NeedsTransfer(
                b, writer, a, b, c, source, TermBoundaries.NONE.extend(c, b)),
            new ReplicaProtocol.Refused(text));
    for (Object m : messages) {
      assertInstanceOf(WireSerializer.class, serialization.findSerializerFor(m));
      assertEquals(m, roundTrip(m));
    }
  }

  @Property(tries = 300)
  void writesReadBackCommittingTheSame(@ForAll("batches") WriteBatch batch) {
    Write back = roundTrip(new Write(batch, replyTo));
    assertEquals(replyTo, back.replyTo());
    assertEquals(batch.conditions(), back.batch().conditions());
    assertEquals(batch.size(), back.batch().size());
    assertArrayEquals(WriteBatchCodec.encode(batch), WriteBatchCodec.encode(back.batch()));
    // The behavioural check: both batches do the same to the same store state.
    Snapshot base = base();
    assertEquals(outcome(base, batch), outcome(base, back.batch()));
  }

  @Property(tries = 200)
  void repliesReadBackEqual(@ForAll("replies") Reply reply) {
    assertEquals(reply, roundTrip(reply));
  }

  @Property(tries = 200)
  void stateTransferMessagesReadBackEqual(
      @ForAll @StringLength(max = 40) String name,
      @ForAll @LongRange(min = 0) long version,
      @ForAll @IntRange(max = 2) int kind) {
    Object message =
        switch (kind) {
          case 0 -> new StateTransfer.Request(name, version, transferReplyTo);
          case 1 -> new StateTransfer.Offer(name, version, sourceRef);
          default -> new StateTransfer.Refused(name);
        };
    assertEquals(message, roundTrip(message));
  }

  @Example
  void aCutTransferOfferIsRefusedNamingTheOffset() {
    WireSerializer wire = wire();
    byte[] bytes = wire.toBinary(new StateTransfer.Offer("store", 7, sourceRef));
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 5);
    NotSerializableException e =
        assertThrows(NotSerializableException.class, () -> wire.fromBinary(cut, "TO"));
    assertTrue(e.getMessage().contains("manifest [TO] at byte "), e.getMessage());
  }

  @Property(tries = 200)
  void commitsReadBackEqual(
      @ForAll("commitBatches") List<WriteBatch> batches,
      @ForAll @IntRange(max = 8) int mark,
      @ForAll @LongRange(min = 0) long term,
      @ForAll @LongRange(min = 0) long committed) {
    Commits commits = new Commits(term, committed, group(batches, Math.min(mark, batches.size())));
    assertEquals(commits, roundTrip(commits));
    WriterProtocol.Fetched fetched = new WriterProtocol.Fetched(term, commits.group());
    assertEquals(fetched, roundTrip(fetched));
  }

  @Property(tries = 8)
  void commitsOfSeveralMegabytesCrossAsChunksUnderTheFrameSize(
      @ForAll @IntRange(min = 2, max = 12) int puts,
      @ForAll @IntRange(min = 100_000, max = 900_000) int valueBytes,
      @ForAll long seed)
      throws Exception {
    Random random = new Random(seed);
    List<WriteBatch> batches = new ArrayList<>();
    for (int i = 0; i < puts; i++) {
      byte[] value = new byte[valueBytes];
      random.nextBytes(value);
      batches.add(
          WriteBatch.builder().put(("k" + i).getBytes(StandardCharsets.UTF_8), value).build());
    }
    Commits commits = new Commits(3, 1, group(batches, 0));
    WireSerializer wire = wire();
    int chunkBytes = ClusterSettings.create(kit.system()).chunkBytes();
    List<Chunk> parts = Chunking.split(wire, commits, seed, chunkBytes);
    assertTrue(parts.size() > 1, parts.size() + " parts");
    Chunking.Reassembly reassembly = new Chunking.Reassembly(wire, Integer.MAX_VALUE - 64L);
    Optional<WireMessage> whole = Optional.empty();
    for (Chunk part : parts) {
      byte[] bytes = serialization.serialize(part).get();
      assertTrue(bytes.length < FRAME_BYTES, bytes.length + " bytes in one chunk");
      assertTrue(whole.isEmpty(), "complete before its last part");
      whole = reassembly.accept(roundTrip(part));
    }
    assertEquals(Optional.of(commits), whole);
    assertEquals(0, reassembly.heldBytes());
  }

  @Property(tries = 100)
  void aLostOrRepeatedChunkIsRefusedAndTheNextMessageStillArrives(
      @ForAll("commitBatches") List<WriteBatch> batches,
      @ForAll @IntRange(min = 0, max = 2) int fault,
      @ForAll long seed)
      throws Exception {
    WireSerializer wire = wire();
    Commits commits = new Commits(3, 1, group(batches, 0));
    List<Chunk> parts = Chunking.split(wire, commits, 1, 16);
    Chunking.Reassembly reassembly = new Chunking.Reassembly(wire, Integer.MAX_VALUE - 64L);
    List<Chunk> faulty = new ArrayList<>(parts);
    int at = new Random(seed).nextInt(parts.size());
    switch (fault) {
      case 0 -> faulty.remove(at);
      case 1 -> faulty.add(at, parts.get(at));
      default -> faulty.add(at, Chunking.split(wire, commits, 99, 16).get(0));
    }
    if (fault == 0 && at == parts.size() - 1) {
      // Losing the last part leaves the message unfinished: the next message's first part shows it.
      faulty.add(Chunking.split(wire, commits, 2, 16).get(0));
    }
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () -> {
              for (Chunk c : faulty) {
                reassembly.accept(c);
              }
            });
    assertTrue(refused.getMessage().contains("out of order"), refused.getMessage());
    assertEquals(0, reassembly.heldBytes());
    Optional<WireMessage> next = Optional.empty();
    for (Chunk c : Chunking.split(wire, commits, 3, 16)) {
      next = reassembly.accept(c);
    }
    assertEquals(Optional.of(commits), next);
  }

  @Example
  void aMessageOverTheReassemblyBoundIsRefused() throws Exception {
    WireSerializer wire = wire();
    Commits commits = new Commits(3, 1, group(List.of(WriteBatch.ofPut("k", "x".repeat(4000))), 0));
    Chunking.Reassembly reassembly = new Chunking.Reassembly(wire, 1000);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> {
              for (Chunk c : Chunking.split(wire, commits, 1, 512)) {
                reassembly.accept(c);
              }
            });
    assertTrue(e.getMessage().contains("over the limit of 1000 bytes"), e.getMessage());
    assertEquals(0, reassembly.heldBytes());
  }

  @Property(tries = 200)
  void damagedOrCutBytesAreRefusedNamingTheOffset(
      @ForAll("commitBatches") List<WriteBatch> batches,
      @ForAll @IntRange(min = 0, max = 1_000_000) int where,
      @ForAll boolean cut) {
    WireSerializer wire = wire();
    Commits commits = new Commits(3, 1, group(batches, 0));
    byte[] bytes = wire.toBinary(commits);
    int at = where % bytes.length;
    byte[] bad;
    if (cut) {
      bad = Arrays.copyOf(bytes, at);
    } else {
      bad = bytes.clone();
      bad[at] ^= (byte) 0x5a;
    }
    NotSerializableException e =
        assertThrows(NotSerializableException.class, () -> wire.fromBinary(bad, "G"));
    assertTrue(e.getMessage().contains("manifest [G] at byte "), e.getMessage());
  }

  @Example
  void aCutWriteIsRefusedNamingTheOffset() {
    WireSerializer wire = wire();
    byte[] bytes = wire.toBinary(new Write(WriteBatch.ofPut("key", "value"), replyTo));
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 3);
    NotSerializableException e =
        assertThrows(NotSerializableException.class, () -> wire.fromBinary(cut, "W"));
    assertTrue(e.getMessage().contains("manifest [W] at byte "), e.getMessage());
    assertThrows(NotSerializableException.class, () -> wire.fromBinary(bytes, "nope"));
  }

  // ------------------------------------------------------------------ helpers

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T message) {
    byte[] bytes = serialization.serialize(message).get();
    Serializer s = serialization.findSerializerFor(message);
    String manifest = ((WireSerializer) s).manifest(message);
    return (T) serialization.deserialize(bytes, s.identifier(), manifest).get();
  }

  private static WireSerializer wire() {
    return (WireSerializer) serialization.findSerializerFor(new Written(1));
  }

  private static CommitRecordCodec.Group group(List<WriteBatch> batches, long watermark) {
    Snapshot s = Snapshot.empty();
    for (WriteBatch b : batches) {
      s = s.apply(b);
    }
    List<CommitRecord> commits = new ArrayList<>();
    for (long v = 1; v <= s.version(); v++) {
      commits.add(s.commit(v));
    }
    return new CommitRecordCodec.Group(watermark, commits);
  }

  private static Snapshot base() {
    Snapshot s = Snapshot.empty();
    for (String k : List.of("", "a", "ab", "b", "ba")) {
      s = s.apply(WriteBatch.ofPut(k, "v" + k));
    }
    return s.apply(WriteBatch.ofDelete("ab"));
  }

  /** What a batch does to {@code base}: the changes it commits, or the conditions that failed. */
  private static Object outcome(Snapshot base, WriteBatch batch) {
    try {
      Snapshot after = base.apply(batch);
      return after.commit(after.version()).changes();
    } catch (ConditionFailedException e) {
      return e.failures();
    }
  }

  // ------------------------------------------------------------------ generators

  private static Arbitrary<byte[]> keys() {
    return Arbitraries.of("", "a", "ab", "b", "ba", "c", "\u00e9")
        .map(k -> k.getBytes(StandardCharsets.UTF_8))
        .injectDuplicates(0.1);
  }

  private static Arbitrary<byte[]> values() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(16);
  }

  private static Arbitrary<KeyRange> ranges() {
    return Combinators.combine(keys(), keys(), Arbitraries.integers().between(0, 8))
        .as(
            (x, y, shape) -> {
              String a = new String(x, StandardCharsets.UTF_8);
              String b = new String(y, StandardCharsets.UTF_8);
              String lo = a.compareTo(b) <= 0 ? a : b;
              String hi = a.compareTo(b) <= 0 ? b : a;
              return switch (shape) {
                case 0 -> KeyRange.all();
                case 1 -> KeyRange.atLeast(lo);
                case 2 -> KeyRange.greaterThan(lo);
                case 3 -> KeyRange.lessThan(hi);
                case 4 -> KeyRange.atMost(hi);
                case 5 -> KeyRange.closedOpen(lo, hi);
                case 6 -> KeyRange.closed(lo, hi);
                case 7 -> KeyRange.open(lo, hi);
                default -> KeyRange.openClosed(lo, hi);
              };
            });
  }

  private static Arbitrary<Consumer<WriteBatch.Builder>> mutations() {
    return Arbitraries.oneOf(
        Combinators.combine(keys(), values()).as((k, v) -> b -> b.put(k, v)),
        keys().map(k -> b -> b.delete(k)),
        ranges().map(r -> b -> b.deleteRange(r)));
  }

  private static Arbitrary<Condition> conditions() {
    return Arbitraries.oneOf(
        keys().map(Condition::absent),
        Combinators.combine(keys(), Arbitraries.longs().between(0, 8)).as(Condition::modVersion),
        Combinators.combine(keys(), values()).as(Condition::valueEquals),
        keys()
            .map(
                k ->
                    Condition.valueEquals(
                        k,
                        ("v" + new String(k, StandardCharsets.UTF_8))
                            .getBytes(StandardCharsets.UTF_8))));
  }

  @Provide
  Arbitrary<WriteBatch> batches() {
    return Combinators.combine(mutations().list().ofMaxSize(8), conditions().list().ofMaxSize(3))
        .as(
            (ms, cs) -> {
              WriteBatch.Builder b = WriteBatch.builder();
              for (Consumer<WriteBatch.Builder> m : ms) {
                m.accept(b);
              }
              for (Condition c : cs) {
                b.require(c);
              }
              return b.build();
            });
  }

  @Provide
  Arbitrary<List<WriteBatch>> commitBatches() {
    return mutations()
        .list()
        .ofMaxSize(6)
        .map(
            ms -> {
              WriteBatch.Builder b = WriteBatch.builder();
              ms.forEach(m -> m.accept(b));
              return b.build();
            })
        .list()
        .ofMinSize(1)
        .ofMaxSize(8);
  }

  @Provide
  Arbitrary<Reply> replies() {
    Arbitrary<String> text = Arbitraries.strings().ofMaxLength(40);
    return Arbitraries.oneOf(
        Arbitraries.longs().between(1, Long.MAX_VALUE).map(Written::new),
        Combinators.combine(conditions(), text)
            .as(ConditionFailedException.Failure::new)
            .list()
            .ofMaxSize(4)
            .map(ConditionsFailed::new),
        Combinators.combine(text, Arbitraries.integers().between(1, 1 << 24)).as(Overloaded::new),
        text.map(Invalid::new),
        text.map(Failed::new),
        Combinators.combine(
                text,
                Arbitraries.integers().between(0, 100),
                Arbitraries.integers().between(0, 100),
                Arbitraries.integers().between(0, 100))
            .as(WriterProtocol.NotEnoughReplicas::new),
        text.map(WriterProtocol.OutcomeUnknown::new));
  }
}
