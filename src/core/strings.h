#pragma once

// Small string helpers shared by the op codec and planner. Pure functions, thread-safe.
//
//   std::string up = walrus::AsciiUpper("hset");            // "HSET"
//   if (walrus::EqualsIgnoreCase(arg, "NX")) ...
//   std::optional<int64_t> n = walrus::ParseInt64("-42");   // strict, like Redis
//   err.message = "bad key " + walrus::QuoteForMessage(key);  // 'abc\x00…' (bounded, printable)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace walrus {

// ASCII upper-casing; other bytes are left untouched.
std::string AsciiUpper(std::string_view s);

// ASCII case-insensitive equality. `upper` must already be upper-case (e.g. "NX").
bool EqualsIgnoreCase(std::string_view s, std::string_view upper);

// Parses a decimal int64 the way Redis does (string2ll): optional '-', no '+', no spaces,
// no leading zeros, no overflow. nullopt on anything else.
std::optional<int64_t> ParseInt64(std::string_view s);

// Single-quoted, printable rendering of arbitrary bytes for error messages: non-printable bytes
// become \xNN, and the text is cut after `max_bytes` input bytes with "..." appended.
std::string QuoteForMessage(std::string_view s, size_t max_bytes = 64);

}  // namespace walrus
