#pragma once

// Standard base64 (RFC 4648 §4, alphabet A-Z a-z 0-9 + /, '=' padding), strict.
// Used for `args_b64` / `key_b64` in the JSON op format. Pure functions, thread-safe.
//
//   std::string b = walrus::Base64Encode(std::string_view("\x00\xff", 2));  // "AP8="
//   walrus::Result<std::string> raw = walrus::Base64Decode("AP8=");
//   if (!raw) { /* raw.error().message: "invalid base64 ..." */ }

#include <string>
#include <string_view>

#include "core/result.h"

namespace walrus {

std::string Base64Encode(std::string_view bytes);

// Appends the encoding of `bytes` to `out` (avoids a temporary in encoders).
void Base64EncodeTo(std::string_view bytes, std::string& out);

// Strict decode: length a multiple of 4, padding only at the end (at most two '='), no
// whitespace, no URL-safe alphabet, and unused trailing bits must be zero (so every byte string
// has exactly one accepted encoding). Errors are Errc::kDecode.
Result<std::string> Base64Decode(std::string_view text);

// As Base64Decode, but decodes into `out` (cleared first), reusing its capacity.
Status Base64DecodeTo(std::string_view text, std::string& out);

}  // namespace walrus
