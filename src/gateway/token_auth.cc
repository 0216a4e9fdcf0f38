#include "gateway/token_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/strings.h"

namespace walrus::gateway {
namespace {

std::array<unsigned char, 32> Sha256(std::string_view s) {
  std::array<unsigned char, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

}  // namespace

TokenAuth::TokenAuth(std::string_view token) : enabled_(!token.empty()) {
  if (enabled_) digest_ = Sha256(token);
}

bool TokenAuth::Allows(std::string_view authorization) const {
  if (!enabled_) return true;
  constexpr std::string_view kScheme = "BEARER ";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  std::string_view presented = authorization.substr(kScheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  const auto got = Sha256(presented);
  return CRYPTO_memcmp(got.data(), digest_.data(), digest_.size()) == 0;
}

}  // namespace walrus::gateway
