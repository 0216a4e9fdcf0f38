#pragma once

// Where a stored position lies against a partition's log: the one rule shared by `walrus apply`
// (positions in Redis) and `walrus mirror` (source positions in the target), which must agree
// and must not depend on each other (docs/log-gaps.md).
//
//   auto p = PlacePosition(617, 0, 20);  // p.where == kBeyondEnd, p.count == 597
//
// `position` is the next offset to consume (< 0: none stored, which is never outside). The log
// is [low watermark, high watermark]; position == high is normal (everything consumed; on a real
// broker the last offsets may be transaction markers, so high may exceed the last record + 1).

#include <cstdint>

namespace walrus::kafka {

struct LogPlacement {
  enum Where { kInLog, kBeyondEnd, kBeforeStart } where = kInLog;
  int64_t count = 0;  // beyond end: position - high; before start (a gap): low - position
};

constexpr LogPlacement PlacePosition(int64_t position, int64_t low, int64_t high) {
  if (position < 0) return {};
  if (position > high) return {LogPlacement::kBeyondEnd, position - high};
  if (position < low) return {LogPlacement::kBeforeStart, low - position};
  return {};
}

}  // namespace walrus::kafka
