#include "core/src_key_ring.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/hmac_sha256.h"

namespace walrus {

std::string SrcKeyRing::KeyId(std::string_view secret) {
  uint8_t tag[HmacSha256::kSize];
  HmacSha256::Compute(secret, "walrus-src-key-id", tag);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < 4; ++i) {
    id.push_back(kHex[tag[i] >> 4]);
    id.push_back(kHex[tag[i] & 0xf]);
  }
  return id;
}

Result<SrcKeyRing> SrcKeyRing::Parse(std::string_view text, std::string_view source) {
  SrcKeyRing ring;
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else {
      size_t j = i;
      while (j < text.size() && text[j] != '\n' && text[j] != ' ' && text[j] != '\t' &&
             text[j] != '\r') {
        ++j;
      }
      const std::string_view key = text.substr(i, j - i);
      for (char k : key) {
        if (k < 0x21 || k > 0x7e) {
          return Error(Errc::kInvalidArgument,
                       fmt::format("{}: line {}: a key must be printable ASCII", source, line));
        }
      }
      if (key.size() < kMinKeySize || key.size() > kMaxKeySize) {
        return Error(Errc::kInvalidArgument,
                     fmt::format("{}: line {}: a key must be {} to {} characters, this one has {} "
                                 "(generate one with `openssl rand -hex 32`)",
                                 source, line, kMinKeySize, kMaxKeySize, key.size()));
      }
      SrcKey k{std::string(key), KeyId(key)};
      for (const auto& other : ring.keys_) {
        if (other.id == k.id) {
          return Error(Errc::kInvalidArgument,
                       fmt::format("{}: line {}: key id {} appears twice (the same key, or a "
                                   "collision: generate another key)",
                                   source, line, k.id));
        }
      }
      ring.keys_.push_back(std::move(k));
      i = j;
    }
  }
  if (ring.keys_.empty()) {
    return Error(Errc::kInvalidArgument, fmt::format("{}: no key found", source));
  }
  return ring;
}

const SrcKey* SrcKeyRing::Find(std::string_view id) const {
  for (const auto& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

std::string SrcKeyRing::Ids() const {
  std::string out;
  for (const auto& k : keys_) out += (out.empty() ? "" : ",") + k.id;
  return out;
}

Result<SrcKeyRing> LoadSrcKeys(const std::string& file) {
  const char* env = std::getenv("WALRUS_SRC_KEY");
  if (!file.empty()) {
    if (env != nullptr && *env != '\0') {
      return Error(Errc::kInvalidArgument,
                   "give the source keys either in --src-key-file or in WALRUS_SRC_KEY, not both");
    }
    std::ifstream in(file);
    if (!in) {
      return Error(Errc::kInvalidArgument, "--src-key-file: cannot read '" + file + "'");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return SrcKeyRing::Parse(ss.str(), "--src-key-file " + file);
  }
  if (env != nullptr && *env != '\0') return SrcKeyRing::Parse(env, "WALRUS_SRC_KEY");
  return SrcKeyRing();
}

}  // namespace walrus
