#include "core/secret_file.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace walrus {

std::string ReadSecretFile(const std::string& path, std::string_view flag,
                           SecretFileOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(std::string(flag) + ": cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  auto trimmed = [&](char c) {
    return c == '\n' || c == '\r' || (options.trim_blanks && (c == ' ' || c == '\t'));
  };
  while (!s.empty() && trimmed(s.back())) s.pop_back();
  if (options.non_empty && s.empty()) {
    throw std::invalid_argument(std::string(flag) + ": '" + path + "' is empty");
  }
  return s;
}

}  // namespace walrus
