// libFuzzer target: the walrus-src header parser never crashes, and whatever it accepts
// round-trips (stream + "/" + offset is the input; stream is alias/topic/partition); the
// walrus-src-mac value parser never crashes and accepts only the exact v1 shape.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "apply/source_coords.h"
#include "core/src_mac.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto c = walrus::apply::ParseSourceCoords(in);
  if (c) {
    const std::string back = std::string(c->stream) + "/" + std::to_string(c->offset);
    // Only digits are accepted, so the text differs from the input only by leading zeros.
    if (back.size() > in.size() || back.back() != in.back()) std::abort();
    if (c->offset < 0 || c->partition < 0) std::abort();
    if (c->alias.empty() || c->topic.empty()) std::abort();
    if (c->stream.substr(0, c->alias.size() + c->topic.size() + 2) !=
        std::string(c->alias) + "/" + std::string(c->topic) + "/") {
      std::abort();
    }
  }
  if (auto m = walrus::ParseSrcMacValue(in)) {
    if (in.size() != walrus::SrcMac::kValueSize || m->key_id.size() != 8 ||
        m->tag_hex.size() != 64 || in.substr(0, 3) != "v1:") {
      std::abort();
    }
  }
  return 0;
}
