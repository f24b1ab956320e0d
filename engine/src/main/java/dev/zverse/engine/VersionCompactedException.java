package dev.zverse.engine;

/**
 * A read asked for a version below the retention watermark, whose history has been pruned. The
 * answer would be silently wrong, so there is none.
 *
 * <p>The way back: read at or above {@link #watermark()}; a consumer that lost its place takes a
 * snapshot, reads its state, and follows the changes from that snapshot's version (list, then
 * watch).
 *
 * <p>Not final so that a reader with a more specific reason (a change feed that fell too far
 * behind) can say it in its own subclass, which callers still catch as this one.
 */
public class VersionCompactedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long requestedVersion;
  private final long watermark;

  /**
   * @param requestedVersion the version asked for
   * @param watermark the oldest version that can still be read
   */
  public VersionCompactedException(long requestedVersion, long watermark) {
    super(
        "version "
            + requestedVersion
            + " is below the retention watermark "
            + watermark
            + ": its history was pruned; read at version "
            + watermark
            + " or later");
    this.requestedVersion = requestedVersion;
    this.watermark = watermark;
  }

  /**
   * For subclasses: the same refusal with a message of their own, which should name both versions.
   *
   * @param message the message
   * @param requestedVersion the version asked for
   * @param watermark the oldest version that can still be read
   */
  protected VersionCompactedException(String message, long requestedVersion, long watermark) {
    super(message);
    this.requestedVersion = requestedVersion;
    this.watermark = watermark;
  }

  /** The version that was asked for. */
  public long requestedVersion() {
    return requestedVersion;
  }

  /** The oldest version that can still be read when the request was refused. */
  public long watermark() {
    return watermark;
  }
}
