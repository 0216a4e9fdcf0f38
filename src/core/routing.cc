#include "core/routing.h"

#include <cassert>

namespace walrus {

std::string_view HashTagOrKey(std::string_view key) {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::string_view RoutingKey(const Write& w) {
  if (w.ops.empty()) return {};
  return HashTagOrKey(w.ops.front().key);
}

std::string_view RecordKey(const Write& w) {
  if (w.ops.empty()) return {};
  return w.multi ? RoutingKey(w) : std::string_view(w.ops.front().key);
}

uint32_t KafkaMurmur2(std::string_view data) {
  // MurmurHash2, 32-bit, seed 0x9747b28c, as specified by Kafka's default partitioner.
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const size_t len = data.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(len);
  const size_t blocks = len / 4;
  for (size_t i = 0; i < blocks; ++i) {
    const size_t o = i * 4;
    uint32_t k = static_cast<uint32_t>(bytes[o]) | (static_cast<uint32_t>(bytes[o + 1]) << 8) |
                 (static_cast<uint32_t>(bytes[o + 2]) << 16) |
                 (static_cast<uint32_t>(bytes[o + 3]) << 24);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const size_t tail = blocks * 4;
  switch (len % 4) {
    case 3: h ^= static_cast<uint32_t>(bytes[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(bytes[tail + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(bytes[tail]);
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return h;
}

int32_t PartitionFor(std::string_view routing_key, int32_t partitions) {
  assert(partitions > 0);
  return static_cast<int32_t>((KafkaMurmur2(routing_key) & 0x7fffffff) %
                              static_cast<uint32_t>(partitions));
}

}  // namespace walrus
