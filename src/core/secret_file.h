#pragma once

// A secret (password, token) read from a file named by a flag: the whole file, trailing CR/LF
// removed. Throws std::invalid_argument naming the flag and the path when it cannot be read.
//
//   cfg.redis_password = ReadSecretFile(f.password_file, "--redis-password-file");

#include <string>
#include <string_view>

namespace walrus {

std::string ReadSecretFile(const std::string& path, std::string_view flag);

}  // namespace walrus
