#pragma once

// TokenAuth: the Bearer-token check of the gateway's write routes.
//
//   TokenAuth auth("s3cret");                       // TokenAuth("") : auth disabled (--no-auth)
//   if (!auth.Allows(req.get_header_value("Authorization"))) return Unauthorized();
//
// The comparison is constant-time: both the expected and the presented token are hashed
// (SHA-256) and the digests compared with CRYPTO_memcmp, so neither the position of the first
// differing byte nor the token's length shows in the timing. The scheme name is
// case-insensitive ("Bearer", "bearer").
//
// Threading: immutable after construction; any thread.

#include <array>
#include <string>
#include <string_view>

namespace walrus::gateway {

class TokenAuth {
 public:
  explicit TokenAuth(std::string_view token);

  bool enabled() const { return enabled_; }
  // True if auth is disabled, or `authorization` is "Bearer <the token>".
  bool Allows(std::string_view authorization) const;

 private:
  bool enabled_;
  std::array<unsigned char, 32> digest_{};
};

}  // namespace walrus::gateway
