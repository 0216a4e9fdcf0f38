#include "crdt/merge_script.h"

#include "core/routing.h"
#include "core/sha1.h"

namespace walrus::crdt {

extern const char kMergeLua[];  // generated from merge.lua (merge_lua.cc)

const std::string& MergeScript() {
  static const std::string body(kMergeLua);
  return body;
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

namespace walrus::crdt {

std::optional<std::string_view> KeyOfSidecar(std::string_view name) {
  const std::string_view open = "{";
  if (name.substr(0, kSidecarPrefix.size()) != kSidecarPrefix) return std::nullopt;
  std::string_view rest = name.substr(kSidecarPrefix.size());
  if (rest.substr(0, open.size()) != open) return std::nullopt;
  rest.remove_prefix(open.size());
  // rest = tag + "}:" + key, where tag = HashTagOrKey(key); the tag may itself contain "}:".
  for (size_t at = rest.find("}:"); at != std::string_view::npos; at = rest.find("}:", at + 1)) {
    const std::string_view key = rest.substr(at + 2);
    if (HashTagOrKey(key) == rest.substr(0, at)) return key;
  }
  return std::nullopt;
}

}  // namespace walrus::crdt
