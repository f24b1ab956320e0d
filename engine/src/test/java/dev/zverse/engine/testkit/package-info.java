/**
 * Engine-level test code the tests of several modules share, published as zverse-engine's test-jar:
 * the child-JVM crash harness ({@link dev.zverse.engine.testkit.ChildJvm}), waits for stages and
 * polled state ({@link dev.zverse.engine.testkit.Await}) and the reflection behind the String-twin
 * properties ({@link dev.zverse.engine.testkit.StringTwins}). JDK and JUnit only; a package of its
 * own, so that the test-jar never splits {@code dev.zverse.engine}.
 */
package dev.zverse.engine.testkit;
