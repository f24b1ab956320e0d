package dev.zverse.cluster;

/**
 * Every message this module sends between nodes: bound to {@link WireSerializer} in the module's
 * {@code reference.conf}, so none ever falls back to Java serialization.
 */
interface WireMessage {}
