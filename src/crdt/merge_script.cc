#include "crdt/merge_script.h"

#include <openssl/sha.h>

#include "core/routing.h"

namespace walrus::crdt {

extern const char kMergeLua[];  // generated from merge.lua (merge_lua.cc)

const std::string& MergeScript() {
  static const std::string body(kMergeLua);
  return body;
}

std::string Sha1Hex(std::string_view data) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char c : md) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

const std::string& MergeScriptSha1() {
  static const std::string sha = Sha1Hex(MergeScript());
  return sha;
}

namespace {
std::string Derived(std::string_view prefix, std::string_view key) {
  std::string s(prefix);
  s += '{';
  s += HashTagOrKey(key);
  s += "}:";
  s += key;
  return s;
}
}  // namespace

std::string SidecarKey(std::string_view key) { return Derived(kSidecarPrefix, key); }
std::string ContribKey(std::string_view key) { return Derived(kContribPrefix, key); }

bool IsSidecar(std::string_view name) {
  return name.substr(0, kSidecarPrefix.size()) == kSidecarPrefix ||
         name.substr(0, kContribPrefix.size()) == kContribPrefix;
}

}  // namespace walrus::crdt
