#include "mirror/record_copy.h"

#include <fmt/format.h>

namespace walrus::mirror {

std::string SrcHeaderPrefix(std::string_view alias, std::string_view topic, int32_t partition) {
  return fmt::format("{}/{}/{}/", alias, topic, partition);
}

std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset) {
  return SrcHeaderPrefix(alias, topic, partition) + std::to_string(offset);
}

bool LoopsBack(std::optional<std::string_view> src, std::optional<std::string_view> origin,
               std::string_view target_alias) {
  if (src && src->substr(0, src->find('/')) == target_alias) return true;
  return origin && *origin == target_alias;
}

std::string PositionKey(std::string_view source_alias, std::string_view topic, int32_t partition) {
  return fmt::format("{}/{}/{}", source_alias, topic, partition);
}

}  // namespace walrus::mirror
