// libFuzzer target: arbitrary bytes fed to the RESP reply parser, in two chunks split at a
// position taken from the input, must never crash; every parsed reply must be walkable.

#include <cstddef>
#include <cstdint>
#include <string>

#include "redis/resp_parser.h"

namespace {

void Walk(const walrus::redis::ReplyView& r, int depth) {
  if (depth > 64) return;
  (void)r.type();
  (void)r.DebugString();
  if (r.type() == walrus::redis::ReplyType::kArray) {
    for (size_t i = 0; i < r.size(); ++i) Walk(r.element(i), depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split = data[0] % size;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  walrus::redis::RespParser parser;
  const size_t first = split < n ? split : n;
  if (!parser.Feed(bytes, first)) return 0;
  if (!parser.Feed(bytes + first, n - first)) return 0;
  for (int i = 0; i < 1000; ++i) {
    auto next = parser.Next();
    if (!next || !next->has_value()) break;
    Walk((*next)->view(), 0);
  }
  return 0;
}
