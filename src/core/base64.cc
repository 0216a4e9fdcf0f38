#include "core/base64.h"

#include <array>
#include <cstdint>

namespace walrus {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
  return t;
}
constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

void Base64EncodeTo(std::string_view bytes, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  Base64EncodeTo(bytes, out);
  return out;
}

Status Base64DecodeTo(std::string_view text, std::string& out) {
  out.clear();
  const size_t n = text.size();
  if (n % 4 != 0) return Error(Errc::kDecode, "invalid base64: length not a multiple of 4");
  if (n == 0) return Status::Ok();
  size_t pad = 0;
  if (text[n - 1] == '=') pad = (text[n - 2] == '=') ? 2 : 1;
  out.reserve(n / 4 * 3 - pad);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t full = n - (pad ? 4 : 0);  // groups without padding
  for (size_t i = 0; i < full; i += 4) {
    const uint8_t a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]],
                  d = kDecode[p[i + 3]];
    if ((a | b | c | d) & 0xc0) {  // valid sextets are < 64; kInvalid has the high bits set
      return Error(Errc::kDecode, "invalid base64: bad character");
    }
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
  }
  if (pad) {
    const size_t i = n - 4;
    const uint8_t a = kDecode[p[i]], b = kDecode[p[i + 1]];
    const uint8_t c = pad == 1 ? kDecode[p[i + 2]] : 0;
    if ((a | b | c) & 0xc0) {
      return Error(Errc::kDecode, "invalid base64: bad character");
    }
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6);
    if (pad == 2 && (v & 0xffff) != 0) {
      return Error(Errc::kDecode, "invalid base64: non-zero trailing bits");
    }
    if (pad == 1 && (v & 0xff) != 0) {
      return Error(Errc::kDecode, "invalid base64: non-zero trailing bits");
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad == 1) out.push_back(static_cast<char>((v >> 8) & 0xff));
  }
  return Status::Ok();
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  if (Status s = Base64DecodeTo(text, out); !s) return s.error();
  return out;
}

}  // namespace walrus
