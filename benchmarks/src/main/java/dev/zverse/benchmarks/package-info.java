/**
 * JMH benchmarks of ZVerse, side by side with its peers in the same run. See the module's README.
 */
@NullMarked
package dev.zverse.benchmarks;

import org.jspecify.annotations.NullMarked;
