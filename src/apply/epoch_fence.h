#pragma once

// EpochFence: the newest leader epoch the applier has seen, and the rule that refuses to write to
// a Redis holding an older one.
//
// `walrus elect` (docs/ha.md) writes its election epoch, a decimal integer, into the Redis key
// `walrus:epoch` of the primary it promotes. A Redis whose epoch is older than the newest one the
// applier has seen is a deposed primary (a zombie, or a stale replica promoted by mistake):
// writing to it would fork the dataset. The applier reads `walrus:epoch` when it connects and in
// every transaction's WATCH + MGET fence (so an epoch change before EXEC aborts the EXEC) and
// asks Check() whether it may write. A Redis without an epoch is fine as long as no epoch was
// ever seen (Sentinel and direct setups never write one).
//
//   EpochFence fence;
//   Status st = fence.Check(std::string_view("5"));   // ok; newest() == 5
//   st = fence.Check(std::string_view("3"));          // Errc::kConflict: older than 5
//   st = fence.Check(std::nullopt);                   // Errc::kConflict: missing after 5
//
// Owned by the Applier; the newest epoch lives as long as the process (across reconnects and
// primary changes). Applier thread only.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.h"
#include "protocol/redis_keys.h"

namespace walrus::apply {

inline constexpr std::string_view kEpochKey = protocol::kEpochKey;

class EpochFence {
 public:
  // `stored`: the value of walrus:epoch in the Redis about to be written (nullopt: no such key).
  // Ok if it is at least the newest epoch seen (remembering it when newer). Errc::kConflict,
  // with a message naming both epochs, if it is older, missing after an epoch was seen, or not
  // a decimal integer.
  Status Check(std::optional<std::string_view> stored);

  // The newest epoch seen; -1 while none was.
  int64_t newest() const { return newest_; }

 private:
  int64_t newest_ = -1;
};

}  // namespace walrus::apply
