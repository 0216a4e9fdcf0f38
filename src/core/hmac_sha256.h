#pragma once

// HmacSha256: an HMAC-SHA256 context (OpenSSL EVP_MAC) keyed once and reused for many messages,
// so a per-record MAC costs no key setup and no context creation on our side.
//
//   HmacSha256 mac("a secret of 32+ bytes ...");
//   mac.Begin();
//   mac.Update("part one");
//   mac.Update("part two");
//   uint8_t tag[HmacSha256::kSize];
//   mac.Finish(tag);                     // == HMAC-SHA256(key, "part onepart two")
//
// Threading: one thread at a time per object (the OpenSSL context is mutable state).
// Ownership: owns its EVP_MAC_CTX (freed by the destructor). Move-only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

struct evp_mac_ctx_st;

namespace walrus {

class HmacSha256 {
 public:
  static constexpr size_t kSize = 32;

  // Throws std::runtime_error when OpenSSL has no HMAC/SHA-256 (a broken installation).
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(HmacSha256&&) noexcept;
  HmacSha256& operator=(HmacSha256&&) noexcept;

  // Starts a new message with the same key (the context is reused).
  void Begin();
  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  void Finish(uint8_t out[kSize]);

  // One-shot convenience (tests, start-up).
  static void Compute(std::string_view key, std::string_view msg, uint8_t out[kSize]);

 private:
  struct CtxFree {
    void operator()(evp_mac_ctx_st* c) const;
  };
  std::unique_ptr<evp_mac_ctx_st, CtxFree> ctx_;
};

// Constant-time equality of two byte strings of the same length (CRYPTO_memcmp); false when
// the lengths differ (the length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace walrus
