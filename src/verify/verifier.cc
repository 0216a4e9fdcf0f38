#include "verify/verifier.h"

#include "core/sha1.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "core/strings.h"
#include "crdt/merge_script.h"
#include "redis/connection.h"

namespace walrus::verify {
namespace {

using redis::Connection;
using redis::ReplyView;

// What one instance holds for one key.
struct KeyState {
  std::string type;
  int64_t expire_at = -1;  // PEXPIRETIME: -1 none, -2 missing
  std::string digest;
};

bool Wanted(std::string_view key, bool sidecars) {
  if (key.substr(0, crdt::kInternalPrefix.size()) != crdt::kInternalPrefix) return true;
  return sidecars && crdt::IsSidecar(key);
}

// Length-prefixed so that element boundaries are part of the digest.
void Put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

void Flatten(ReplyView v, std::string& out) {
  if (v.type() == redis::ReplyType::kArray) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) Flatten(v.element(i), out);
    out += ']';
  } else if (v.type() == redis::ReplyType::kInteger) {
    Put(out, std::to_string(v.integer()));
  } else {
    Put(out, v.str());
  }
}

// The GC floor field of a sidecar hash: each region's sweep fixes its own horizon (now - H when
// that region's sweep starts), so it legitimately differs between converged regions.
constexpr std::string_view kGcFloorField = "g";

// Canonical rendering of a content reply of `type` (of a sidecar hash when `sidecar`).
std::string Canonical(std::string_view type, ReplyView v, bool sidecar) {
  std::string out;
  if (type == "hash" || type == "set") {
    std::vector<std::string> items;
    const size_t step = type == "hash" ? 2 : 1;
    for (size_t i = 0; i + step <= v.size(); i += step) {
      if (sidecar && step == 2 && v.element(i).str() == kGcFloorField) continue;
      std::string e;
      for (size_t j = 0; j < step; ++j) Put(e, v.element(i + j).str());
      items.push_back(std::move(e));
    }
    std::sort(items.begin(), items.end());
    for (auto& e : items) out += e;
    return out;
  }
  Flatten(v, out);
  return out;
}

void AppendContentCommand(Connection& c, std::string_view type, const std::string& key) {
  if (type == "string") {
    c.Append({"GET", key});
  } else if (type == "hash") {
    c.Append({"HGETALL", key});
  } else if (type == "set") {
    c.Append({"SMEMBERS", key});
  } else if (type == "zset") {
    c.Append({"ZRANGE", key, "0", "-1", "WITHSCORES"});
  } else if (type == "list") {
    c.Append({"LRANGE", key, "0", "-1"});
  } else if (type == "stream") {
    c.Append({"XRANGE", key, "-", "+"});
  } else {
    c.Append({"DUMP", key});
  }
}

Error ReplyError(const Connection& c, ReplyView r) {
  return Error(Errc::kRejected, redis::HostPort(c.endpoint()) + ": " + std::string(r.str()));
}

// States of `keys` on one instance: two pipelined round trips.
Result<std::vector<KeyState>> Fetch(Connection& c, const std::vector<std::string>& keys) {
  std::vector<KeyState> out(keys.size());
  for (const auto& k : keys) {
    c.Append({"TYPE", k});
    c.Append({"PEXPIRETIME", k});
  }
  auto meta = c.ReadReplies(c.pending());
  if (!meta) return meta.error();
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& t = (*meta)[2 * i];
    const auto& e = (*meta)[2 * i + 1];
    if (t.IsError()) return ReplyError(c, t);
    if (e.IsError()) return ReplyError(c, e);
    out[i].type = std::string(t.str());
    out[i].expire_at = e.integer();
  }
  std::vector<size_t> asked;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (out[i].type == "none") continue;
    AppendContentCommand(c, out[i].type, keys[i]);
    asked.push_back(i);
  }
  auto content = c.ReadReplies(c.pending());
  if (!content) return content.error();
  for (size_t j = 0; j < asked.size(); ++j) {
    const size_t i = asked[j];
    const auto& r = (*content)[j];
    if (r.IsError()) return ReplyError(c, r);
    if (r.IsNil()) {  // expired or deleted between the two round trips
      out[i].type = "none";
      continue;
    }
    out[i].digest = Sha1Hex(Canonical(out[i].type, r, crdt::KeyOfSidecar(keys[i]).has_value()));
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
    std::string cursor = "0";
    do {
      auto r = c->Command({"SCAN", cursor, "COUNT", "1000"});
      if (!r) return r.error();
      if (r->IsError()) return ReplyError(*c, r->view());
      cursor = std::string(r->element(0).str());
      ReplyView batch = r->element(1);
      for (size_t i = 0; i < batch.size(); ++i) {
        std::string_view k = batch.element(i).str();
        if (Wanted(k, opts.sidecars)) all.emplace(k);
      }
    } while (cursor != "0");
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
