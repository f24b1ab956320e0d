/**
 * Runnable programs that show the store at work, each a {@code main} checked by a test of this
 * module: {@link dev.zverse.examples.Demo} (the seed's benchmark table, the README's first
 * command), {@link dev.zverse.examples.BasicOperations}, {@link
 * dev.zverse.examples.ConcurrentOperations}, {@link dev.zverse.examples.ActorApplication}, {@link
 * dev.zverse.examples.ChangeFeeds}, {@link dev.zverse.examples.TemporalQuery}, {@link
 * dev.zverse.examples.DurableStore} and, for the engine alone, {@link
 * dev.zverse.examples.BasicUsage}. The top-level README's Java snippets are quoted from {@code
 * ReadmeSnippets} and from these programs.
 *
 * <p>Run one with {@code ./mvnw -B -q -pl examples -am -DskipTests package exec:exec
 * -Dzverse.main=dev.zverse.examples.<Name>}.
 */
@NullMarked
package dev.zverse.examples;

import org.jspecify.annotations.NullMarked;
