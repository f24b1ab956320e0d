/**
 * Micrometer meters of a ZVerse store: {@link dev.zverse.metrics.StoreMeterBinder} binds every
 * figure of {@link dev.zverse.actors.StoreMetrics} to a {@code MeterRegistry}, named {@code
 * zverse.store.*} and tagged with the store's name. Each meter reads the store when the registry
 * publishes; the store records nothing for Micrometer, so binding costs its write path nothing.
 * {@link dev.zverse.metrics.ClusterStoreMeterBinder} binds a cluster store's replica standing (its
 * lag behind the writer), named {@code zverse.replica.*}.
 */
@NullMarked
package dev.zverse.metrics;

import org.jspecify.annotations.NullMarked;
