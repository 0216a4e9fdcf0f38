#pragma once

// SrcMac: the MAC a mirror puts beside the source coordinates it appends to a record, so an
// applier trusts coordinates only from a mirror holding the shared key (a `walrus-src` produced
// by anyone else would otherwise raise the stored source offset and turn every later genuine
// record of that stream into a "duplicate").
//
// The mirror appends two headers, last and in this order:
//   walrus-src:     <source-alias>/<topic>/<partition>/<offset>
//   walrus-src-mac: v1:<key id>:<tag>      tag = 64 lower-case hex digits of
//                   HMAC-SHA256(key, M)     key id = SrcKeyRing::KeyId(key) (8 hex digits)
// where M is, with u32/i64 big-endian, str(x) = u32(byte length of x) || x and
// opt(x) = u32(0xffffffff) for a null x, else str(x):
//   "walrus-src-mac/v1" 0x00
//   str(target topic) u32(target partition)       where the record was written
//   str(walrus-src value)
//   i64(record timestamp ms)                        as written to the target
//   opt(record key) opt(record value)
//   u32(n) then n times str(header name) opt(header value)
//                                                   every header before this walrus-src, in order
// so coordinates copied onto another payload, topic, partition, timestamp or header set fail.
// A record mirrored twice (A -> B -> C) carries two pairs; the later MAC covers the earlier pair.
//
//   SrcMac mac(ring.signing());
//   mac.Begin({.target_topic = "t", .target_partition = 3, .src = "dc/t/3/42",
//              .timestamp_ms = ts, .key = k, .value = v, .header_count = n});
//   for (each header h) mac.Header(h.name, h.value);
//   char value[SrcMac::kValueSize];
//   mac.Finish(value);                    // the walrus-src-mac header value
//
// Cost: the small fields are gathered in a reused buffer and fed to the HMAC in one call (a large
// key, value or header value goes in directly): one EVP update per record, no allocation once
// the buffer is warm.
//
// Threading: one thread at a time per object. Ownership: owns its HMAC context.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/hmac_sha256.h"
#include "core/src_key_ring.h"
#include "protocol/headers.h"

namespace walrus {

inline constexpr const char* kSrcMacHeader = protocol::kSrcMacHeader;

// The fields of a record a MAC covers, headers apart (fed one by one with Header()).
struct SrcMacRecord {
  std::string_view target_topic;
  int32_t target_partition = 0;
  std::string_view src;  // the walrus-src value
  int64_t timestamp_ms = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  size_t header_count = 0;  // headers before walrus-src; exactly this many Header() calls follow
};

// A parsed walrus-src-mac value.
struct SrcMacValue {
  std::string_view key_id;   // 8 hex digits
  std::string_view tag_hex;  // 64 hex digits
};
// nullopt unless exactly "v1:<8 lower-case hex>:<64 lower-case hex>".
std::optional<SrcMacValue> ParseSrcMacValue(std::string_view v);

class SrcMac {
 public:
  static constexpr size_t kValueSize = 3 + 8 + 1 + 2 * HmacSha256::kSize;  // "v1:id:tag"

  explicit SrcMac(const SrcKey& key);

  void Begin(const SrcMacRecord& r);
  void Header(std::string_view name, std::optional<std::string_view> value);
  // Writes the walrus-src-mac value (kValueSize characters, no terminator).
  void Finish(char out[kValueSize]);
  // Finish() compared in constant time with the tag of `given` (whose key id must be ours).
  bool Matches(const SrcMacValue& given);

  const std::string& key_id() const { return key_id_; }

 private:
  void U32(uint32_t v);
  void Str(std::string_view s);
  void Opt(std::optional<std::string_view> s);
  void Flush();

  HmacSha256 hmac_;
  std::string key_id_;
  std::string buf_;  // pending input (small fields), fed to hmac_ by Flush()
};

}  // namespace walrus
