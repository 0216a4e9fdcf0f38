#include "protocol/headers.h"

#include <fmt/format.h>

namespace walrus::protocol {

std::string SrcHeaderPrefix(std::string_view alias, std::string_view topic, int32_t partition) {
  return fmt::format("{}/{}/{}/", alias, topic, partition);
}

std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset) {
  return SrcHeaderPrefix(alias, topic, partition) + std::to_string(offset);
}

}  // namespace walrus::protocol
