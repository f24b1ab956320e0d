/**
 * What the tests of the modules above actors and streams share ({@link
 * dev.zverse.testkit.ZVerseTestKit}): an actor system for tests, fresh stores, waits that fail with
 * a clear message, and streams pulled one element at a time. A test-scope dependency only.
 */
package dev.zverse.testkit;
