#include "verify/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "core/strings.h"
#include "crdt/merge_script.h"
#include "dataset/digest.h"
#include "dataset/reader.h"
#include "redis/connection.h"

namespace walrus::verify {
namespace {

using redis::Connection;

// What one instance holds for one key.
struct KeyState {
  std::string type;
  int64_t expire_at = -1;  // PEXPIRETIME: -1 none
  std::string digest;
};

bool Wanted(std::string_view key, bool sidecars) {
  if (key.substr(0, crdt::kInternalPrefix.size()) != crdt::kInternalPrefix) return true;
  return sidecars && crdt::IsSidecar(key);
}

// The GC floor field of a sidecar hash: each region's sweep fixes its own horizon (now - H when
// that region's sweep starts), so it legitimately differs between converged regions.
constexpr std::string_view kGcFloorField = "g";

// Absolute expiries (comparable across instances), other types whole (DUMP), and any error
// reply an error: what verify always read.
constexpr dataset::ReadOptions kRead{.expiry = dataset::Expiry::kExpireTime,
                                     .dump_other_types = true,
                                     .error_reads_as_missing = false};

// States of `keys` on one instance: two pipelined round trips (the dataset reader); the digest
// is the canonical one (dataset/digest.h) of the key, without a sidecar's GC floor.
Result<std::vector<KeyState>> Fetch(Connection& c, const std::vector<std::string>& keys) {
  auto kvs = dataset::ReadKeys(c, keys, kRead);
  if (!kvs) return kvs.error();
  std::vector<KeyState> out;
  out.reserve(kvs->size());
  for (auto& kv : *kvs) {
    KeyState st{.type = kv.type, .expire_at = kv.expire_at_ms};
    if (kv.type != "none") {
      if (kv.type == "hash" && crdt::KeyOfSidecar(kv.key).has_value()) {
        std::erase_if(kv.pairs, [](const auto& p) { return p.first == kGcFloorField; });
      }
      st.digest = dataset::KeyDigest(kv);
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::string Describe(const KeyState& s) {
  if (s.type == "none") return "missing";
  std::string d = s.type + " " + s.digest.substr(0, 12);
  if (s.expire_at >= 0) d += fmt::format(" expires@{}", s.expire_at);
  return d;
}

}  // namespace

Result<VerifyReport> Verify(const VerifyOptions& opts) {
  if (opts.urls.size() < 2) {
    return Error(Errc::kInvalidArgument, "verify needs two or more Redis URLs");
  }
  std::vector<std::unique_ptr<Connection>> conns;
  redis::ConnectOptions co;
  co.client_name = "walrus-verify";
  co.io_timeout = std::chrono::milliseconds(60000);
  for (const auto& url : opts.urls) {
    auto ep = redis::ParseRedisUrl(url);
    if (!ep) return Error(Errc::kInvalidArgument, url + ": " + ep.error().message);
    auto c = Connection::Connect(*ep, co);
    if (!c) return c.error();
    conns.push_back(std::move(*c));
  }

  // The union of the keys of every instance.
  std::set<std::string> all;
  for (auto& c : conns) {
    auto keys = dataset::ScanKeys(*c, [&](std::string_view k) { return Wanted(k, opts.sidecars); });
    if (!keys) return keys.error();
    all.insert(std::make_move_iterator(keys->begin()), std::make_move_iterator(keys->end()));
  }

  VerifyReport rep;
  std::vector<std::string> chunk;
  auto flush = [&]() -> Status {
    std::vector<std::vector<KeyState>> states;
    for (auto& c : conns) {
      auto s = Fetch(*c, chunk);
      if (!s) return s.error();
      states.push_back(std::move(*s));
    }
    for (size_t i = 0; i < chunk.size(); ++i) {
      ++rep.keys;
      if (!Wanted(chunk[i], false)) ++rep.sidecars;
      const KeyState& a = states[0][i];
      for (size_t n = 1; n < conns.size(); ++n) {
        const KeyState& b = states[n][i];
        bool same = a.type == b.type && a.digest == b.digest;
        if (same && (a.expire_at >= 0 || b.expire_at >= 0)) {
          same = a.expire_at >= 0 && b.expire_at >= 0 &&
                 std::abs(a.expire_at - b.expire_at) <= opts.ttl_tolerance_ms;
        }
        if (same) continue;
        ++rep.differing;
        if (rep.diffs.size() < opts.max_diffs) {
          rep.diffs.push_back(fmt::format("{}: {} on {} vs {} on {}",
                                          QuoteForMessage(chunk[i], 120), Describe(a), opts.urls[0],
                                          Describe(b), opts.urls[n]));
        }
        break;
      }
    }
    chunk.clear();
    if (opts.progress) opts.progress(rep.keys, all.size());
    return {};
  };
  for (const auto& k : all) {
    chunk.push_back(k);
    if (chunk.size() >= std::max<size_t>(1, opts.chunk)) {
      if (auto st = flush(); !st) return st.error();
    }
  }
  if (!chunk.empty()) {
    if (auto st = flush(); !st) return st.error();
  }
  return rep;
}

}  // namespace walrus::verify
