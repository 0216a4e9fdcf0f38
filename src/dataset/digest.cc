#include "dataset/digest.h"

#include <algorithm>

#include "core/keyspace.h"
#include "core/sha1.h"

namespace walrus::dataset {
namespace {

void Item(std::string_view s, std::string& out) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

bool KnownType(std::string_view t) {
  return t == "string" || t == "hash" || t == "zset" || t == "set" || t == "list" ||
         t == "stream" || t == "none";
}

}  // namespace

bool IsUserKey(std::string_view key) { return !IsReservedKey(key); }

void Canonicalize(KeyValue& kv) {
  if (kv.type == "hash") std::sort(kv.pairs.begin(), kv.pairs.end());
  if (kv.type == "set") std::sort(kv.items.begin(), kv.items.end());
}

void AppendCanonical(const KeyValue& kv, std::string& out) {
  Item(kv.key, out);
  Item(kv.type, out);
  if (kv.type == "string") {
    Item(kv.str, out);
  } else if (kv.type == "hash" || kv.type == "zset") {
    out += std::to_string(kv.pairs.size()) + '#';
    for (const auto& [a, b] : kv.pairs) {
      Item(a, out);
      Item(b, out);
    }
  } else if (kv.type == "set" || kv.type == "list") {
    out += std::to_string(kv.items.size()) + '#';
    for (const auto& i : kv.items) Item(i, out);
  } else if (kv.type == "stream") {
    out += std::to_string(kv.entries.size()) + '#';
    for (const auto& e : kv.entries) {
      Item(e.id, out);
      out += std::to_string(e.fields.size()) + '#';
      for (const auto& [f, v] : e.fields) {
        Item(f, out);
        Item(v, out);
      }
    }
  } else if (!KnownType(kv.type) && !kv.str.empty()) {
    Item(kv.str, out);  // a module type's DUMP payload, when it was read
  }
  out += '\n';
}

std::string KeyDigest(const KeyValue& kv) {
  std::string text;
  AppendCanonical(kv, text);
  return Sha1Hex(text);
}

std::string DigestOf(const std::vector<KeyValue>& sorted) {
  std::string text;
  for (const auto& kv : sorted) AppendCanonical(kv, text);
  return Sha1Hex(text);
}

}  // namespace walrus::dataset
