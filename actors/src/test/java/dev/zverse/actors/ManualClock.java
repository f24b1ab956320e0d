package dev.zverse.actors;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/** A clock that tests set and move, forwards or back; read from any thread. */
final class ManualClock implements InstantSource {
  private final AtomicReference<Instant> now;

  ManualClock(Instant start) {
    this.now = new AtomicReference<>(start);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  void set(Instant instant) {
    now.set(instant);
  }

  /** Moves the clock by {@code d}, back if negative. */
  Instant move(Duration d) {
    return now.updateAndGet(t -> t.plus(d));
  }
}
