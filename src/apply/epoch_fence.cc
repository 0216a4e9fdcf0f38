#include "apply/epoch_fence.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace walrus::apply {

Status EpochFence::Check(std::optional<std::string_view> stored) {
  if (!stored) {
    if (newest_ < 0) return {};  // no election in use (Sentinel or a direct primary)
    return Error(Errc::kConflict,
                 fmt::format("{} is missing but epoch {} was seen: not the elected primary",
                             kEpochKey, newest_));
  }
  const std::optional<int64_t> epoch = ParseInt64(*stored);
  if (!epoch || *epoch < 0) {
    return Error(Errc::kConflict, fmt::format("{} holds {}, not an epoch number", kEpochKey,
                                              QuoteForMessage(*stored, 40)));
  }
  if (*epoch < newest_) {
    return Error(Errc::kConflict,
                 fmt::format("{} is {}, older than epoch {} already seen: a deposed primary",
                             kEpochKey, *epoch, newest_));
  }
  newest_ = *epoch;
  return {};
}

}  // namespace walrus::apply
