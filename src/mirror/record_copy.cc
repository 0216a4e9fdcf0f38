#include "mirror/record_copy.h"

#include <fmt/format.h>

#include <charconv>

#include "mirror/mirror_config.h"

namespace walrus::mirror {

std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset) {
  // Per copied record: plain appends, one allocation.
  char nums[48];
  char* p = std::to_chars(nums, nums + 20, partition).ptr;
  *p++ = '/';
  p = std::to_chars(p, nums + sizeof nums, offset).ptr;
  std::string out;
  out.reserve(alias.size() + topic.size() + 2 + static_cast<size_t>(p - nums));
  out.append(alias).append(1, '/').append(topic).append(1, '/').append(nums, p);
  return out;
}

bool LoopsBack(const std::vector<kafka::Header>& headers, std::string_view target_alias) {
  for (const auto& h : headers) {
    if (!h.value) continue;
    if (h.name == kSrcHeader) {
      const std::string_view v = *h.value;
      if (v.substr(0, v.find('/')) == target_alias) return true;
    } else if (h.name == kOriginHeader && *h.value == target_alias) {
      return true;
    }
  }
  return false;
}

std::string PositionKey(std::string_view source_alias, std::string_view topic, int32_t partition) {
  return fmt::format("{}/{}/{}", source_alias, topic, partition);
}

}  // namespace walrus::mirror
