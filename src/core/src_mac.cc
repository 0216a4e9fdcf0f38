#include "core/src_mac.h"

#include <stdexcept>

namespace walrus {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kDomain{"walrus-src-mac/v1\0", 18};
// Pieces at least this long bypass the buffer (no copy of large values).
constexpr size_t kDirect = 256;

bool LowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::optional<SrcMacValue> ParseSrcMacValue(std::string_view v) {
  if (v.size() != SrcMac::kValueSize || v.substr(0, 3) != "v1:" || v[11] != ':') {
    return std::nullopt;
  }
  SrcMacValue out{v.substr(3, 8), v.substr(12)};
  if (!LowerHex(out.key_id) || !LowerHex(out.tag_hex)) return std::nullopt;
  return out;
}

SrcMac::SrcMac(const SrcKey& key) : hmac_(key.secret), key_id_(key.id) {
  if (key_id_.size() != 8) throw std::invalid_argument("SrcMac: a key id has 8 hex digits");
  buf_.reserve(1024);
}

void SrcMac::U32(uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  buf_.append(b, sizeof b);
}

void SrcMac::Str(std::string_view s) {
  U32(static_cast<uint32_t>(s.size()));
  if (s.size() >= kDirect) {
    Flush();
    hmac_.Update(s);
  } else {
    buf_.append(s);
  }
}

void SrcMac::Flush() {
  hmac_.Update(buf_);
  buf_.clear();  // capacity kept
}

void SrcMac::Opt(std::optional<std::string_view> s) {
  if (!s) {
    U32(0xffffffffu);
  } else {
    Str(*s);
  }
}

void SrcMac::Begin(const SrcMacRecord& r) {
  hmac_.Begin();
  buf_.assign(kDomain);
  Str(r.target_topic);
  U32(static_cast<uint32_t>(r.target_partition));
  Str(r.src);
  const auto ts = static_cast<uint64_t>(r.timestamp_ms);
  U32(static_cast<uint32_t>(ts >> 32));
  U32(static_cast<uint32_t>(ts));
  Opt(r.key);
  Opt(r.value);
  U32(static_cast<uint32_t>(r.header_count));
}

void SrcMac::Header(std::string_view name, std::optional<std::string_view> value) {
  Str(name);
  Opt(value);
}

void SrcMac::Finish(char out[kValueSize]) {
  Flush();
  uint8_t tag[HmacSha256::kSize];
  hmac_.Finish(tag);
  out[0] = 'v';
  out[1] = '1';
  out[2] = ':';
  for (size_t i = 0; i < 8; ++i) out[3 + i] = key_id_[i];
  out[11] = ':';
  for (size_t i = 0; i < HmacSha256::kSize; ++i) {
    out[12 + 2 * i] = kHex[tag[i] >> 4];
    out[13 + 2 * i] = kHex[tag[i] & 0xf];
  }
}

bool SrcMac::Matches(const SrcMacValue& given) {
  char mine[kValueSize];
  Finish(mine);
  return ConstantTimeEquals(std::string_view(mine + 12, 2 * HmacSha256::kSize), given.tag_hex);
}

}  // namespace walrus
