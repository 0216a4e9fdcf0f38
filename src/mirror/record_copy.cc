#include "mirror/record_copy.h"

#include <fmt/format.h>

#include "protocol/headers.h"
#include "protocol/topics.h"

namespace walrus::mirror {

std::string SrcHeaderPrefix(std::string_view alias, std::string_view topic, int32_t partition) {
  return protocol::SrcHeaderPrefix(alias, topic, partition);
}

std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset) {
  return protocol::SrcHeaderValue(alias, topic, partition, offset);
}

bool LoopsBack(std::optional<std::string_view> src, std::optional<std::string_view> origin,
               std::string_view target_alias) {
  if (src && src->substr(0, src->find('/')) == target_alias) return true;
  return origin && *origin == target_alias;
}

std::string PositionKey(std::string_view source_alias, std::string_view topic, int32_t partition) {
  return protocol::MirrorPositionKey(source_alias, topic, partition);
}

}  // namespace walrus::mirror
