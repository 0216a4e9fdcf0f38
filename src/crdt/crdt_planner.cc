#include "crdt/crdt_planner.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/strings.h"
#include "crdt/merge_script.h"

namespace walrus::crdt {
namespace {

Error Refuse(std::string_view cmd, std::string_view why) {
  return Error(Errc::kRefused, fmt::format("{}: {} in crdt mode", cmd, why));
}

bool ValidScore(std::string_view s) {
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  return !std::isnan(d) && std::isfinite(d);
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Builds one EVALSHA of the merge script.
class Call {
 public:
  Call(const std::string& sha, const Op& op, std::string_view opname, const std::string& stamp,
       const std::string& sid) {
    argv_ = {
        "EVALSHA", sha, "3", op.key, SidecarKey(op.key), ContribKey(op.key), std::string(opname),
        stamp,     "",  "0", sid};
  }
  void Expiry(std::string_view mode, int64_t abs = 0) {
    argv_[8] = std::string(mode);
    argv_[9] = std::to_string(abs);
  }
  void Arg(std::string a) { argv_.push_back(std::move(a)); }
  Argv Take() { return std::move(argv_); }

 private:
  Argv argv_;
};

}  // namespace

CrdtPlanner::CrdtPlanner(CrdtPlannerOptions opts) : opts_(std::move(opts)), sha_(MergeScriptSha1()) {}

std::vector<std::string> CrdtPlanner::Scripts() const { return {MergeScript()}; }

std::string CrdtPlanner::Stamp(const Hlc& h, size_t op_index, std::string_view origin) {
  return fmt::format("{}.{:04x}-{}", EncodeHlc(h), op_index, origin);
}

std::string CrdtPlanner::StreamId(const Hlc& h, size_t op_index, std::string_view origin) {
  const uint64_t seq = (uint64_t{h.logical} << 48) | (uint64_t{op_index} << 38) |
                       (Fnv1a64(origin) & ((uint64_t{1} << 38) - 1));
  return fmt::format("{}-{}", h.physical_ms, seq);
}

Argv CrdtPlanner::GcCommand(std::string_view key, std::string_view horizon_stamp) {
  return {"EVALSHA",
          MergeScriptSha1(),
          "3",
          std::string(key),
          SidecarKey(key),
          ContribKey(key),
          "GC",
          std::string(horizon_stamp),
          "",
          "0",
          "0-0"};
}

Status CrdtPlanner::Plan(const Write& w, int64_t record_ts_ms, std::vector<Argv>& out) {
  if (w.origin.empty() || w.hlc.empty()) {
    return Error(Errc::kRefused,
                 "crdt mode needs 'origin' and 'hlc' on every record (produce with --origin)");
  }
  if (!ValidOrigin(w.origin)) {
    return Error(Errc::kRefused, "origin must be 1-32 characters of [A-Za-z0-9_.-], got " +
                                     QuoteForMessage(w.origin, 40));
  }
  auto h = ParseHlc(w.hlc);
  if (!h) return Error(Errc::kRefused, h.error().message);
  if (opts_.max_clock_skew_ms > 0) {
    const int64_t now = opts_.now_ms ? opts_.now_ms() : SystemNowMs();
    if (h->physical_ms - now > opts_.max_clock_skew_ms) {
      return Error(Errc::kRefused,
                   fmt::format("hlc {} (unix ms {}) is {} ms ahead of this applier's clock (unix "
                               "ms {}, record timestamp {}): beyond --max-clock-skew {} ms, it "
                               "would win every later conflict",
                               w.hlc, h->physical_ms, h->physical_ms - now, now, record_ts_ms,
                               opts_.max_clock_skew_ms));
    }
  }
  if (w.ops.size() > 1000) return Error(Errc::kRefused, "crdt mode: more than 1000 ops in multi");
  const size_t mark = out.size();
  for (size_t i = 0; i < w.ops.size(); ++i) {
    if (auto st = PlanOne(w.ops[i], *h, i, w.origin, out); !st) {
      out.resize(mark);
      if (!w.multi) return st;
      return Error(Errc::kRefused, fmt::format("multi[{}]: {}", i, st.error().message));
    }
  }
  return {};
}

Status CrdtPlanner::PlanOne(const Op& op, const Hlc& h, size_t index, std::string_view origin,
                            std::vector<Argv>& out) const {
  // The plain planner validates the op and makes every expiry absolute (anchored at the HLC).
  std::vector<Argv> plain;
  if (auto st = PlanOp(op, h.physical_ms, plain); !st) return st;
  const Argv& p = plain[0];
  const std::string& cmd = p[0];
  std::optional<int64_t> trailing_expiry;
  if (plain.size() == 2 && plain[1][0] == "PEXPIREAT") {
    trailing_expiry = std::stoll(plain[1][2]);
  } else if (plain.size() != 1) {
    return Refuse(cmd, "unexpected plan");
  }
  const std::string stamp = Stamp(h, index, origin);
  const std::string sid = StreamId(h, index, origin);
  auto make = [&](std::string_view name) {
    Call c(sha_, op, name, stamp, sid);
    if (trailing_expiry) c.Expiry("A", *trailing_expiry);
    return c;
  };

  if (cmd == "SET") {
    Call c = make("SET");
    c.Expiry("P");  // a SET without expiry option clears the TTL
    for (size_t i = 3; i < p.size(); ++i) {
      if (EqualsIgnoreCase(p[i], "PXAT") && i + 1 < p.size()) {
        c.Expiry("A", std::stoll(p[++i]));
      } else if (EqualsIgnoreCase(p[i], "KEEPTTL")) {
        c.Expiry("");
      } else {
        return Refuse("SET", "option " + AsciiUpper(p[i]) + " is conditional and not supported");
      }
    }
    c.Arg(p[2]);
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "DEL" || cmd == "UNLINK") {
    out.push_back(make("DEL").Take());
    return {};
  }
  if (cmd == "INCR" || cmd == "DECR" || cmd == "INCRBY" || cmd == "DECRBY") {
    int64_t d = cmd == "INCR" ? 1 : cmd == "DECR" ? -1 : 0;
    if (cmd == "INCRBY" || cmd == "DECRBY") {
      auto n = ParseInt64(p[2]);
      if (!n) return Refuse(cmd, "increment must be an integer, got " + QuoteForMessage(p[2]));
      if (cmd == "DECRBY" && *n == std::numeric_limits<int64_t>::min()) {
        return Refuse(cmd, "decrement out of range");
      }
      d = cmd == "INCRBY" ? *n : -*n;
    }
    Call c = make("INCRBY");
    c.Arg(std::to_string(d));
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "PEXPIREAT") {
    if (p.size() > 3) return Refuse(op.cmd, "conditional flags (NX/XX/GT/LT) are not supported");
    Call c = make("EXPIRE");
    c.Expiry("A", std::stoll(p[2]));
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "PERSIST") {
    Call c = make("PERSIST");
    c.Expiry("P");
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "SADD" || cmd == "SREM" || cmd == "HDEL" || cmd == "ZREM" || cmd == "HSET" ||
      cmd == "HMSET") {
    Call c = make(cmd == "HMSET" ? "HSET" : cmd);
    for (size_t i = 2; i < p.size(); ++i) c.Arg(p[i]);
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "HINCRBY") {
    if (!ParseInt64(p[3])) return Refuse(cmd, "increment must be an integer");
    Call c = make("HINCRBY");
    c.Arg(p[2]);
    c.Arg(p[3]);
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "ZINCRBY") {
    if (!ValidScore(p[2])) return Refuse(cmd, "increment must be a finite number");
    Call c = make("ZINCRBY");
    c.Arg(p[2]);
    c.Arg(p[3]);
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "ZADD") {
    Call c = make("ZADD");
    size_t i = 2;
    for (; i < p.size() && !ValidScore(p[i]); ++i) {
      if (!EqualsIgnoreCase(p[i], "CH")) {
        return Refuse(cmd, "option " + AsciiUpper(p[i]) + " is not supported");
      }
    }
    if ((p.size() - i) % 2 != 0 || i == p.size()) {
      return Refuse(cmd, "scores must be finite numbers");
    }
    for (; i < p.size(); i += 2) {
      if (!ValidScore(p[i])) return Refuse(cmd, "scores must be finite numbers");
      c.Arg(p[i]);
      c.Arg(p[i + 1]);
    }
    out.push_back(c.Take());
    return {};
  }
  if (cmd == "XADD") {
    // The plain plan turned '*' into '<ms>-*'; crdt mode uses the stamp's id instead.
    if (op.args.empty() || op.args[0] != "*") {
      return Refuse(cmd, "only '*' ids and no options (NOMKSTREAM, MAXLEN, MINID) are supported");
    }
    Call c = make("XADD");
    for (size_t i = 1; i < op.args.size(); ++i) c.Arg(op.args[i]);
    out.push_back(c.Take());
    return {};
  }
  return Refuse(cmd, "command has no convergent merge rule and is not supported");
}

}  // namespace walrus::crdt
