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
 *       release store of the new snapshot; each write batch still takes its own version.
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
 * <p>The actors are package-private; applications use the facade, whose {@code write(batch,
 * replyTo)} is the protocol for actors, answering with a {@link dev.zverse.actors.WriteReply}. Only
 * the actors log, through SLF4J.
 */
@NullMarked
package dev.zverse.actors;

import org.jspecify.annotations.NullMarked;
