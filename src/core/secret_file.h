#pragma once

// A secret (password, token) read from a file named by a flag: the one reader every command uses.
// The whole file, trailing CR/LF removed (what an editor or `echo` adds); with `trim_blanks` also
// trailing spaces and tabs (the gateway's token). Throws std::invalid_argument naming the flag and
// the path when it cannot be read, or, with `non_empty`, when nothing is left.
//
//   cfg.redis_password = ReadSecretFile(f.password_file, "--redis-password-file");
//   token = ReadSecretFile(f.token_file, "--token-file", {.trim_blanks = true, .non_empty = true});

#include <string>
#include <string_view>

namespace walrus {

struct SecretFileOptions {
  bool trim_blanks = false;  // also remove trailing ' ' and '\t'
  bool non_empty = false;    // an empty secret is an error ("'PATH' is empty")
};

std::string ReadSecretFile(const std::string& path, std::string_view flag,
                           SecretFileOptions options = {});

}  // namespace walrus
