/**
 * The store as a Pekko application uses it.
 *
 * <p>{@link dev.zverse.actors.ZVerseStore} is the facade: {@code ZVerseStore.open(system,
 * "orders")} starts the store's two actors in the application's actor system, configured from
 * {@code zverse.stores.orders} over the defaults in this module's {@code reference.conf} (see
 * {@link dev.zverse.actors.StoreSettings}). Coordinated shutdown closes it. The Pekko extension
 * {@link dev.zverse.actors.ZVerse} is the registry of a system's open stores, by name.
 *
 * <ul>
 *   <li>The <b>WriterActor</b> is the only code that changes the store. It applies writes to a
 *       transient nobody sees yet and publishes many of them at once (group commit) with one
 *       release store of the new snapshot; each write batch still takes its own version. A write
 *       that finds it idle (nothing pending, no group open) is applied and published on the calling
 *       thread instead, as a group of one, without waking it ({@code writer.caller-runs}, on by
 *       default; memory-only stores): the two never change the store at the same time.
 *   <li>The <b>EpochActor</b> reads the published snapshot on each tick, scans the versions that
 *       read transactions pin, turns the retention policy into a watermark that the writer prunes
 *       to when it next opens a group (an idle writer is nudged), and warns about readers that pin
 *       a version too long ({@link dev.zverse.actors.EpochStats}).
 *   <li><b>Readers never send a message</b>: {@code store.snapshot()} is one acquire load, and a
 *       {@link dev.zverse.actors.ReadTransaction} pins its version through a lock-free set.
 *   <li>A <b>durable</b> store ({@code durability.data-directory} set) recovers its directory on
 *       open, and the writer hands each group commit to a log thread that appends and forces it
 *       before the group is published and answered; checkpoints run on another thread. A store
 *       whose log cannot be written fails writes with {@link
 *       dev.zverse.actors.StoreFailedException} and goes on serving reads.
 * </ul>
 *
 * <h2>The store's design</h2>
 *
 * <pre>
 *   writers ──Write──▶ WriterActor ──release store──▶ Root (latest Snapshot) ◀──acquire load── readers
 *                        ▲  ▲                              │
 *                        │  │ decided watermark,           │ read on each tick
 *                        │  │ taken as a group opens       ▼
 *                        │  Pins ◀─────scan, decide──── EpochActor
 *                        │   ▲                             │
 *                        │   └──add/remove── read transactions
 *                        └──────PruneIfIdle (idle only)────┘
 * </pre>
 *
 * <p><b>Reads never wait.</b> There are three ways to read: {@link
 * dev.zverse.actors.ZVerseStore#get(String)} for one key at the latest version; {@link
 * dev.zverse.actors.ZVerseStore#snapshot()}, one acquire load of the published root (no message, no
 * lock), for everything else, as {@link dev.zverse.engine.Snapshot} is the one read type (scans,
 * history, changes, reads at an older retained version, {@code versionAt}); and {@link
 * dev.zverse.actors.ZVerseStore#readTransaction()}, which hands out a snapshot whose version stays
 * pinned until it is closed, for reads that must not lose their version to pruning (or {@link
 * dev.zverse.actors.ZVerseStore#readTransaction(long, String)}, an older version).
 *
 * <p><b>Writes are serialized</b> through the store's one WriterActor, which applies them with
 * group commit (see {@code WriterActor}): each write batch takes the next version, and the returned
 * stage completes with it once the snapshot containing it is published, so a read begun after that
 * sees it. Writes sent from one thread, or one actor, commit in the order sent. A stage that
 * completes exceptionally means the batch was <em>not</em> committed: {@link
 * dev.zverse.engine.ConditionFailedException} (listing every failed condition), {@link
 * IllegalArgumentException} (a key or value over its limit), {@link
 * dev.zverse.actors.StoreOverloadedException} (too many writes waiting; not sent at all), or the
 * exception that broke the writer while applying it.
 *
 * <p>The stages complete on the writer's thread (or, for a write that ran on its caller's thread,
 * before the write method returns), like the replies of Pekko's ask: use the {@code ...Async}
 * variants for anything that blocks (blocking the writer stalls every writer). Past {@code
 * writer.max-pending-writes} writes sent and not yet answered, a write fails at once with {@link
 * dev.zverse.actors.StoreOverloadedException} and sends nothing, so the writer's mailbox stays
 * bounded.
 *
 * <p><b>Closing.</b> {@link dev.zverse.actors.ZVerseStore#close()} (also run by {@link
 * org.apache.pekko.actor.CoordinatedShutdown} in its {@code before-actor-system-terminate} phase)
 * stops accepting calls: every method then throws {@link IllegalStateException}, but the status
 * reads and {@link dev.zverse.actors.ZVerseStore#advanced()} as each says. Writes admitted before
 * the close are still committed and answered; the returned stage completes when they all are and
 * the store's actors have stopped. (If the actor system is stopped some other way than through
 * coordinated shutdown, writes still unanswered may never complete.)
 *
 * <p><b>Durability.</b> Memory-only by default: a store opens empty and forgets everything when
 * closed. With {@code durability.data-directory} set (see {@link dev.zverse.actors.StoreSettings})
 * it is durable: opening recovers the directory (the newest valid checkpoint, then the log after
 * it; {@link dev.zverse.actors.ZVerseStore#recoveryReport()} says what was found) and the store
 * continues at the next version, with the recovered history readable and replayable. Every group
 * commit is appended to the write-ahead log and forced per {@code durability.sync} <em>before</em>
 * its writers are answered and before any reader can see it; checkpoints are written on a separate
 * thread while writes go on, and a final one on close. The directory is locked while the store is
 * open: a second store, in this process or another, fails to open it. If the log cannot be written
 * (disk full, I/O error), the writes of that group and every later write fail with {@link
 * dev.zverse.actors.StoreFailedException}, and reads go on.
 *
 * <p>The actors are package-private; applications use the facade, whose {@code write(batch,
 * replyTo)} is the protocol for actors, answering with a {@link dev.zverse.actors.WriteReply}. Only
 * the actors log, through SLF4J.
 */
@NullMarked
package dev.zverse.actors;

import org.jspecify.annotations.NullMarked;
