#pragma once

// Hybrid logical clock (HLC) for active-active mode: physical milliseconds + a logical counter,
// plus the origin region that issued the stamp. Stamps are totally ordered by
// (physical, logical, origin); causally later writes always get larger stamps because a producer
// Observe()s the highest stamps its local applier has applied before it Tick()s.
//
// Text encoding (what goes in a record's `hlc` field): 12 lower-case hex digits of physical ms,
// '-', 4 hex digits of logical counter, e.g. "018bcfe56800-0003". Fixed width, so comparing the
// texts compares the clocks. The origin travels in the record's `origin` field; active-active
// scripts order writes by the string "<hlc>-<origin>" (EncodeStamp).
//
//   HybridClock clock({.origin = "us", .floor_file = "/var/lib/walrus/hlc-us"});
//   if (auto st = clock.Init(); !st) ...;                  // reads the floor (restart safety)
//   clock.Observe("018bcfe56800-0003");                     // a stamp seen from another region
//   Result<std::string> hlc = clock.Tick();                 // stamp for the next local write
//
// Monotonic across restarts: the clock persists a floor (a physical ms >= every stamp issued)
// ahead of time, in steps of `floor_step_ms`, so after a restart it starts above anything it
// issued even if the wall clock went back. Drift guard: Observe refuses (Errc::kRefused) a remote
// stamp more than `max_drift_ms` ahead of the local wall clock, so one bad clock cannot drag the
// whole system into the future.
//
// Threading: a HybridClock is internally locked; Tick/Observe may be called from any thread.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"

namespace walrus {

struct Hlc {
  int64_t physical_ms = 0;  // 0 .. 2^48-1
  uint32_t logical = 0;     // 0 .. 0xffff

  auto operator<=>(const Hlc&) const = default;
};

inline constexpr int64_t kHlcMaxPhysical = (int64_t{1} << 48) - 1;
inline constexpr uint32_t kHlcMaxLogical = 0xffff;
inline constexpr size_t kHlcTextSize = 17;  // "pppppppppppp-llll"

// "pppppppppppp-llll". Precondition: fields within range.
std::string EncodeHlc(const Hlc& h);
// Strict inverse of EncodeHlc (lower-case hex, exact width). Errc::kInvalidArgument otherwise.
Result<Hlc> ParseHlc(std::string_view text);
// Origin names: 1..32 characters of [A-Za-z0-9_.-].
bool ValidOrigin(std::string_view origin);
// "<hlc>-<origin>": the total order used by active-active merges.
std::string EncodeStamp(const Hlc& h, std::string_view origin);

struct HybridClockOptions {
  std::string origin;
  // File holding the persisted floor; empty: no persistence (tests, short-lived tools).
  std::string floor_file;
  int64_t floor_step_ms = 10000;
  int64_t max_drift_ms = 60000;
  // Wall clock in unix ms; empty: the system clock.
  std::function<int64_t()> now_ms;
};

class HybridClock {
 public:
  explicit HybridClock(HybridClockOptions opts);

  // Validates the origin and reads the floor file (missing file = floor 0).
  Status Init();
  // The stamp for the next local event: strictly greater than every stamp issued or observed.
  Result<std::string> Tick();
  Result<Hlc> TickHlc();
  // Merges a stamp seen from elsewhere (text or parsed). Refuses stamps beyond the drift guard.
  Status Observe(std::string_view hlc_text);
  Status ObserveHlc(const Hlc& remote);
  // The largest stamp issued or observed so far.
  Hlc Last() const;
  const std::string& origin() const { return opts_.origin; }

 private:
  int64_t Now() const;
  Status PersistFloorLocked(int64_t physical_ms);

  HybridClockOptions opts_;
  mutable std::mutex mu_;
  Hlc last_;
  int64_t floor_ = 0;  // persisted: every issued stamp's physical part is < floor_ (if persisted)
};

}  // namespace walrus
