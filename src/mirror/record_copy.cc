#include "mirror/record_copy.h"

#include <fmt/format.h>

#include "mirror/mirror_config.h"

namespace walrus::mirror {

std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset) {
  return fmt::format("{}/{}/{}/{}", alias, topic, partition, offset);
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
