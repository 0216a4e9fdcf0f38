#include "apply/source_coords.h"

#include <charconv>

#include "protocol/redis_keys.h"

namespace walrus::apply {

namespace {
bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
}  // namespace

std::optional<SourceCoords> ParseSourceCoords(std::string_view h) {
  const auto last = h.rfind('/');
  if (last == std::string_view::npos || last == 0 || last + 1 >= h.size()) return std::nullopt;
  const std::string_view stream = h.substr(0, last);
  // stream must be alias/topic/partition: exactly two more slashes, non-empty parts.
  const auto a = stream.find('/');
  const auto b = stream.rfind('/');
  if (a == std::string_view::npos || a == b || a == 0 || b == a + 1 || b + 1 >= stream.size()) {
    return std::nullopt;
  }
  if (stream.substr(a + 1, b - a - 1).find('/') != std::string_view::npos) return std::nullopt;
  int32_t partition = -1;
  const auto ps = stream.substr(b + 1);
  if (!AllDigits(ps) || !AllDigits(h.substr(last + 1))) return std::nullopt;
  auto [pp, pec] = std::from_chars(ps.data(), ps.data() + ps.size(), partition);
  if (pec != std::errc() || pp != ps.data() + ps.size() || partition < 0) return std::nullopt;
  int64_t offset = -1;
  const auto os = h.substr(last + 1);
  auto [op, oec] = std::from_chars(os.data(), os.data() + os.size(), offset);
  if (oec != std::errc() || op != os.data() + os.size() || offset < 0) return std::nullopt;
  return SourceCoords{.stream = stream,
                      .offset = offset,
                      .alias = stream.substr(0, a),
                      .topic = stream.substr(a + 1, b - a - 1),
                      .partition = partition};
}

std::string SourceKey(std::string_view stream) {
  return protocol::SourceKey(stream);
}

}  // namespace walrus::apply
