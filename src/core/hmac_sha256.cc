// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 in favour of EVP, whose per-message
// context duplication allocates (see hmac_sha256.h); they remain supported through 3.x.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "core/hmac_sha256.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace walrus {

struct HmacSha256::State {
  SHA256_CTX inner;  // after hashing key ^ ipad
  SHA256_CTX outer;  // after hashing key ^ opad
  SHA256_CTX work;   // the message being hashed

  ~State() { OPENSSL_cleanse(this, sizeof *this); }
};

HmacSha256::HmacSha256(std::string_view key) : s_(std::make_unique<State>()) {
  constexpr size_t kBlock = SHA256_CBLOCK;  // 64
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k);
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  SHA256_Init(&s_->inner);
  SHA256_Update(&s_->inner, pad, kBlock);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  SHA256_Init(&s_->outer);
  SHA256_Update(&s_->outer, pad, kBlock);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  s_->work = s_->inner;
}

HmacSha256::~HmacSha256() = default;
HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;
HmacSha256& HmacSha256::operator=(HmacSha256&&) noexcept = default;

void HmacSha256::Begin() { s_->work = s_->inner; }

void HmacSha256::Update(const void* data, size_t size) {
  if (size > 0) SHA256_Update(&s_->work, data, size);
}

void HmacSha256::Finish(uint8_t out[kSize]) {
  unsigned char inner[kSize];
  SHA256_Final(inner, &s_->work);
  SHA256_CTX o = s_->outer;
  SHA256_Update(&o, inner, kSize);
  SHA256_Final(out, &o);
  OPENSSL_cleanse(&o, sizeof o);
}

void HmacSha256::Compute(std::string_view key, std::string_view msg, uint8_t out[kSize]) {
  HmacSha256 h(key);
  h.Begin();
  h.Update(msg);
  h.Finish(out);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace walrus
