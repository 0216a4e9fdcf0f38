#pragma once

// Lowercase hex SHA1 of a byte string (how Redis names scripts; also used for value digests).
//
//   std::string sha = walrus::Sha1Hex(script_body);   // EVALSHA sha ...

#include <string>
#include <string_view>

namespace walrus {

std::string Sha1Hex(std::string_view data);

}  // namespace walrus
