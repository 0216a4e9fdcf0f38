// libFuzzer target: the walrus-src header parser never crashes, and whatever it accepts
// round-trips (stream + "/" + offset is the input).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "apply/source_coords.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto c = walrus::apply::ParseSourceCoords(in);
  if (c) {
    const std::string back = std::string(c->stream) + "/" + std::to_string(c->offset);
    // Only digits are accepted, so the text differs from the input only by leading zeros.
    if (back.size() > in.size() || back.back() != in.back()) std::abort();
    if (c->offset < 0) std::abort();
  }
  return 0;
}
