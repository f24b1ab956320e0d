package dev.zverse.persistence;

/**
 * An upsert was refused because its revision is not the object's current revision plus one: another
 * writer changed the object first, or the caller's revision is stale. The store is unchanged.
 *
 * <p>An {@link IllegalStateException}, as the JDBC plug-in's refusal is, so code written against
 * either catches both.
 */
public final class RevisionConflictException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final String persistenceId;
  private final long revision;
  private final long currentRevision;

  /**
   * @param persistenceId the object's persistence id
   * @param revision the revision the upsert asked for
   * @param currentRevision the object's revision in the store, 0 if it has none
   */
  public RevisionConflictException(String persistenceId, long revision, long currentRevision) {
    super(
        "Incorrect revision number ["
            + revision
            + "] provided for persistenceId ["
            + persistenceId
            + "]: it has to be 1 more than the revision in the store, ["
            + currentRevision
            + "], so expected ["
            + (currentRevision + 1)
            + "]");
    this.persistenceId = persistenceId;
    this.revision = revision;
    this.currentRevision = currentRevision;
  }

  /** The object's persistence id. */
  public String persistenceId() {
    return persistenceId;
  }

  /** The revision the refused upsert asked for. */
  public long revision() {
    return revision;
  }

  /** The object's revision in the store when the upsert was refused; 0 if it had none. */
  public long currentRevision() {
    return currentRevision;
  }
}
