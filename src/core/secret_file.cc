#include "core/secret_file.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace walrus {

std::string ReadSecretFile(const std::string& path, std::string_view flag) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(std::string(flag) + ": cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace walrus
