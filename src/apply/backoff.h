#pragma once

// Backoff: the delay before the next attempt after a failure, doubling from `floor` up to `cap`
// on every failure, and the point in time before which no attempt is made.
//
//   Backoff b(clock, std::chrono::milliseconds(100), cfg.backoff_max);
//   if (b.Waiting()) return;          // too early to try again
//   if (!Try()) b.Failed();           // 100 ms, 200 ms, 400 ms ... cap
//   else b.Reset();                   // the next failure starts from `floor` again
//
// Reset() forgets the delay only; a deadline already set stays (it lies in the past whenever an
// attempt succeeded after it). Used by RedisSession (reconnects) and the Applier (outbox drain
// retries). Not thread-safe: one owner thread.

#include <algorithm>
#include <chrono>

#include "core/clock.h"

namespace walrus::apply {

class Backoff {
 public:
  // A `cap` below `floor` caps every delay at `cap`.
  Backoff(Clock& clock, std::chrono::milliseconds floor, std::chrono::milliseconds cap)
      : clock_(clock), floor_(floor), cap_(cap) {}

  // A failed attempt: the delay doubles (at least floor, at most cap) and the next attempt is
  // due that long from now. Returns the new delay.
  std::chrono::milliseconds Failed() {
    delay_ = std::min(std::max(delay_ * 2, floor_), cap_);
    next_ = clock_.Steady() + delay_;
    return delay_;
  }
  // A successful attempt: the next failure waits `floor` again.
  void Reset() { delay_ = std::chrono::milliseconds(0); }
  // True while the next attempt is not due yet.
  bool Waiting() const { return clock_.Steady() < next_; }
  std::chrono::milliseconds delay() const { return delay_; }

 private:
  Clock& clock_;
  const std::chrono::milliseconds floor_;
  const std::chrono::milliseconds cap_;
  std::chrono::milliseconds delay_{0};
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace walrus::apply
