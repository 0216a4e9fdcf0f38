#pragma once
// The one clock interface. Code that decides by time (timeouts, periodic tasks, holds' "since",
// lag ages) takes a Clock& so that unit tests can drive it with a ManualClock instead of sleeping.
//
//   walrus::Clock& clock = walrus::SystemClock();      // production
//   walrus::ManualClock fake;  fake.Advance(std::chrono::seconds(5));   // tests
//
// Two readings: Steady() for durations and deadlines (monotonic, never jumps), WallMs() for
// timestamps stored or shown (Unix epoch milliseconds; may jump with NTP).
// Threading: SystemClock is stateless; ManualClock is internally locked (any thread may read or
// advance it).

#include <chrono>
#include <cstdint>
#include <mutex>

namespace walrus {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Steady() = 0;
  virtual int64_t WallMs() = 0;
};

// The process's real clock (a stateless singleton).
Clock& SystemClock();

// Wall-clock milliseconds from the real clock: for the places that only stamp a value.
inline int64_t WallNowMs() { return SystemClock().WallMs(); }

// A clock that moves only when told to. Starts at an arbitrary steady point and at `wall_ms`.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_ms = 1'700'000'000'000) : wall_ms_(wall_ms) {}

  std::chrono::steady_clock::time_point Steady() override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  int64_t WallMs() override {
    std::lock_guard lock(mu_);
    return wall_ms_;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    steady_ += d;
    wall_ms_ += d.count();
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1)};
  int64_t wall_ms_;
};

}  // namespace walrus
