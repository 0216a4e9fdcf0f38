#pragma once

// SrcKeyRing: the keys shared by `walrus mirror` and `walrus apply` that authenticate source
// coordinates (the walrus-src-mac header, core/src_mac.h). The first key signs (the mirror uses
// only it); every key verifies (an applier accepts a record signed with any of them), so a key
// can be rotated without a flag day (docs/mirror.md, "Authenticated source coordinates").
//
// Text format (file or env WALRUS_SRC_KEY): keys separated by whitespace or newlines, '#' starts
// a comment to the end of the line. A key is its text bytes as written (no decoding), 32 to 1024
// printable ASCII characters without spaces, e.g. the output of `openssl rand -hex 32`.
// Each key has an id, the first 8 hex digits of HMAC-SHA256(key, "walrus-src-key-id"), which
// the MAC header names so an applier picks the key directly and says which one it lacks.
//
//   auto ring = LoadSrcKeys(flags.src_key_file);   // the file, else WALRUS_SRC_KEY, else empty
//   if (!ring) throw std::invalid_argument(ring.error().message);
//   if (!ring->empty()) log->info("source keys: {}", ring->Ids());   // ids only, never keys
//
// Immutable after construction; any thread.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace walrus {

struct SrcKey {
  std::string secret;
  std::string id;  // 8 lower-case hex digits
};

class SrcKeyRing {
 public:
  static constexpr size_t kMinKeySize = 32;
  static constexpr size_t kMaxKeySize = 1024;

  SrcKeyRing() = default;
  // Parses key text; `source` names where it came from in error messages (never the keys).
  static Result<SrcKeyRing> Parse(std::string_view text, std::string_view source);
  static std::string KeyId(std::string_view secret);

  bool empty() const { return keys_.empty(); }
  const std::vector<SrcKey>& keys() const { return keys_; }
  const SrcKey& signing() const { return keys_.front(); }  // precondition: !empty()
  const SrcKey* Find(std::string_view id) const;
  // "id1,id2,..." (signing key first), for logs.
  std::string Ids() const;

 private:
  std::vector<SrcKey> keys_;
};

// The keys of a command: `file` (from --src-key-file / WALRUS_SRC_KEY_FILE) when set, else the
// text of env WALRUS_SRC_KEY when set, else an empty ring. Both set, an unreadable file or no key
// in what was given is an error naming the flag.
Result<SrcKeyRing> LoadSrcKeys(const std::string& file);

}  // namespace walrus
