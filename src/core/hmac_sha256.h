#pragma once

// HmacSha256: HMAC-SHA256 (RFC 2104) keyed once and reused for many messages. The key's inner
// and outer pad states are hashed once at construction; a message then costs its own SHA-256
// blocks plus one outer block, and no allocation: Begin() copies the inner state (a struct copy).
// Built on OpenSSL's SHA-256 (SHA-NI / AVX2 code paths) through its SHA256_* functions, not
// EVP_MAC: OpenSSL 3.0's EVP_MAC_init / EVP_MAC_final each duplicate a digest context on the
// heap, which measured 1.6x slower per MAC in the mirror's hot loop. RFC 4231 vectors in
// src_mac_test.cc hold it to the standard.
//
//   HmacSha256 mac("a secret of 32+ bytes ...");
//   mac.Begin();
//   mac.Update("part one");
//   mac.Update("part two");
//   uint8_t tag[HmacSha256::kSize];
//   mac.Finish(tag);                     // == HMAC-SHA256(key, "part onepart two")
//
// Threading: one thread at a time per object (the running state is mutable).
// Ownership: owns its state (one allocation, at construction; the key pads are wiped on
// destruction). Move-only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace walrus {

class HmacSha256 {
 public:
  static constexpr size_t kSize = 32;

  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(HmacSha256&&) noexcept;
  HmacSha256& operator=(HmacSha256&&) noexcept;

  // Starts a new message with the same key.
  void Begin();
  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  void Finish(uint8_t out[kSize]);

  // One-shot convenience (tests, start-up).
  static void Compute(std::string_view key, std::string_view msg, uint8_t out[kSize]);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Constant-time equality of two byte strings of the same length (CRYPTO_memcmp); false when
// the lengths differ (the length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace walrus
