#pragma once

// The `walrus-src` header a mirror adds to every record it copies:
//   walrus-src: <source-alias>/<topic>/<partition>/<offset>
// The applier keeps, per (alias, topic, partition), the highest source offset it applied, in Redis
// (key walrus:src:<alias>/<topic>/<partition>, written in the same MULTI/EXEC as the effects), and
// skips a record whose source offset is not above it: a record the mirror delivered twice is
// applied once. The coordinates are trusted only when authenticated (apply/source_auth.h): a
// walrus-src anyone could produce would otherwise raise the stored offset for good.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace walrus::apply {

struct SourceCoords {
  std::string_view stream;  // "<alias>/<topic>/<partition>": identifies the source partition
  int64_t offset = -1;
  std::string_view alias;   // the source cluster's alias (first component)
  std::string_view topic;   // the source topic
  int32_t partition = -1;
};

// Parses a walrus-src header value; nullopt if malformed.
std::optional<SourceCoords> ParseSourceCoords(std::string_view header);
std::string SourceKey(std::string_view stream);

}  // namespace walrus::apply
