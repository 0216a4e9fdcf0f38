#include "protocol/redis_keys.h"

#include <fmt/format.h>

namespace walrus::protocol {

std::string PositionKey(std::string_view topic, int32_t partition) {
  return fmt::format("{}{}:{}", kPositionKeyPrefix, topic, partition);
}

std::string SourceKey(std::string_view stream) {
  std::string k(kSourceKeyPrefix);
  k.append(stream);
  return k;
}

std::string HoldKey(std::string_view topic, int32_t partition) {
  return fmt::format("{}{}:{}", kHoldKeyPrefix, topic, partition);
}

std::string HoldKeyPrefix(std::string_view topic) {
  return fmt::format("{}{}:", kHoldKeyPrefix, topic);
}

std::string ClusterIdKey(std::string_view topic, int32_t partition) {
  return fmt::format("{}{}:{}", kClusterIdKeyPrefix, topic, partition);
}

std::string OutboxKey(std::string_view topic, int32_t partition) {
  return fmt::format("{}{}:{}", kOutboxKeyPrefix, topic, partition);
}

}  // namespace walrus::protocol
