package dev.zverse.engine;

/** When a {@link DurableLog} forces what it appended to the disk. */
public enum SyncPolicy {
  /**
   * Every appended group commit is forced before {@link DurableLog#append} returns, so before any
   * writer in it is told it committed: a crash loses nothing acknowledged. The default.
   */
  EVERY_COMMIT,
  /**
   * The log is forced at the first append after the sync interval has passed, and whenever the
   * store calls {@link DurableLog#sync()}: a crash of the machine (not of the process: the
   * operating system still holds written pages) loses at most the commits of the last interval.
   */
  INTERVAL,
  /**
   * The log is never forced; the operating system writes it back when it likes (on Linux within
   * about 30 seconds). A process crash loses nothing written; a machine crash or power loss loses
   * whatever the operating system had not written yet, without limit. For tests and for data that
   * can be rebuilt.
   */
  NEVER
}
