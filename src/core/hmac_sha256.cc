#include "core/hmac_sha256.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>

namespace walrus {
namespace {

// The HMAC algorithm, fetched once per process (thread-safe static init).
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) throw std::runtime_error("OpenSSL: HMAC is not available");
  return mac;
}

}  // namespace

void HmacSha256::CtxFree::operator()(evp_mac_ctx_st* c) const { EVP_MAC_CTX_free(c); }

HmacSha256::HmacSha256(std::string_view key) : ctx_(EVP_MAC_CTX_new(HmacAlgorithm())) {
  if (!ctx_) throw std::runtime_error("OpenSSL: EVP_MAC_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  // EVP_MAC_init with a NULL key is "no key", not "empty key": an empty key needs a non-null
  // pointer.
  static const unsigned char kEmpty = 0;
  const auto* k = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx_.get(), k, key.size(), params) != 1) {
    throw std::runtime_error("OpenSSL: HMAC-SHA256 init failed");
  }
}

HmacSha256::~HmacSha256() = default;
HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;
HmacSha256& HmacSha256::operator=(HmacSha256&&) noexcept = default;

void HmacSha256::Begin() {
  // NULL key: restart with the key already set (HMAC keeps its padded key state).
  (void)EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr);
}

void HmacSha256::Update(const void* data, size_t size) {
  if (size > 0) (void)EVP_MAC_update(ctx_.get(), static_cast<const unsigned char*>(data), size);
}

void HmacSha256::Finish(uint8_t out[kSize]) {
  size_t len = 0;
  if (EVP_MAC_final(ctx_.get(), out, &len, kSize) != 1 || len != kSize) {
    // Cannot happen with a valid context; never return a predictable tag.
    throw std::runtime_error("OpenSSL: HMAC-SHA256 final failed");
  }
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
