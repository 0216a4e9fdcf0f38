#include "core/planner.h"

#include <limits>
#include <optional>
#include <string_view>

#include "core/command_table.h"
#include "core/keyspace.h"
#include "core/strings.h"

namespace walrus {
namespace {

constexpr int64_t kMaxAbsSeconds = std::numeric_limits<int64_t>::max() / 1000;

// The NX|XX|GT|LT condition flags of EXPIRE-family commands and ZADD.
struct CondFlags {
  bool nx = false, xx = false, gt = false, lt = false;

  // True when `f` is one of the flags (and records it).
  bool Parse(std::string_view f) {
    if (f.size() != 2) return false;
    if (EqualsIgnoreCase(f, "NX")) return nx = true;
    if (EqualsIgnoreCase(f, "XX")) return xx = true;
    if (EqualsIgnoreCase(f, "GT")) return gt = true;
    if (EqualsIgnoreCase(f, "LT")) return lt = true;
    return false;
  }
  // The reason the combination is invalid (as Redis words it), or nullptr.
  const char* Conflict() const {
    if (nx && (xx || gt || lt)) return "NX and XX, GT or LT options are not compatible";
    if (gt && lt) return "GT and LT options are not compatible";
    return nullptr;
  }
};

// Validates one op against its spec and, when `out` is set, emits its commands. `ts` is only
// read when emitting. Used on the consumer thread; holds references only for one call.
class Planner {
 public:
  Planner(const Op& op, const CommandSpec& spec, int64_t ts, std::vector<Argv>* out)
      : op_(op), spec_(spec), ts_(ts), out_(out) {}

  Status Run();

 private:
  Error Refuse(std::string_view msg) const {
    return Error(Errc::kRefused, std::string(spec_.name) + ": " + std::string(msg));
  }
  Error BadNumber(std::string_view what, std::string_view arg) const {
    return Refuse(std::string(what) + " must be an integer, got " + QuoteForMessage(arg, 24));
  }

  // Starts a command [cmd, key] in the output; nullptr when only checking.
  Argv* Begin(std::string_view cmd, size_t extra_args) {
    if (!out_) return nullptr;
    Argv& a = out_->emplace_back();
    a.reserve(2 + extra_args);
    a.emplace_back(cmd);
    a.push_back(op_.key);
    return &a;
  }
  static void Push(Argv* a, std::string_view s) {
    if (a) a->emplace_back(s);
  }

  // Absolute ms for a relative offset; `rel_ms` is already range-checked.
  Result<int64_t> FromRecordTs(int64_t rel_ms) const {
    if (!out_) return int64_t{0};
    if (ts_ < 0 || ts_ > kMaxRecordTsMs) {
      return Refuse("record timestamp " + std::to_string(ts_) + " cannot anchor a relative expiry");
    }
    return ts_ + rel_ms;
  }
  // Parses a relative amount in `unit_ms` units; positive-only unless `allow_non_positive`.
  Result<int64_t> RelativeMs(std::string_view what, std::string_view arg, int64_t unit_ms,
                             bool allow_non_positive) const;
  // The absolute expiry from ttl_ms / expire_at_ms, or nullopt without either.
  Result<std::optional<int64_t>> OpExpiry() const;

  Status PassThrough();
  Status Set();
  Status Setnx();
  Status SetexFamily(int64_t unit_ms);
  Status Getex();
  Status Expire(int64_t unit_ms, bool absolute);
  Status Zadd();
  Status Xadd();
  // Appends PEXPIREAT key abs when the op carries ttl_ms / expire_at_ms.
  Status TrailingExpiry();

  const Op& op_;
  const CommandSpec& spec_;
  int64_t ts_;
  std::vector<Argv>* out_;
};

Result<int64_t> Planner::RelativeMs(std::string_view what, std::string_view arg, int64_t unit_ms,
                                    bool allow_non_positive) const {
  const std::optional<int64_t> v = ParseInt64(arg);
  if (!v) return BadNumber(what, arg);
  if (!allow_non_positive && *v <= 0) {
    return Refuse(std::string(what) + " must be positive, got " + std::to_string(*v));
  }
  if (*v > kMaxRelativeMs / unit_ms || *v < -kMaxRelativeMs / unit_ms) {
    return Refuse(std::string(what) + " out of range: " + std::to_string(*v));
  }
  return FromRecordTs(*v * unit_ms);
}

Result<std::optional<int64_t>> Planner::OpExpiry() const {
  if (op_.ttl_ms && op_.expire_at_ms) return Refuse("ttl_ms and expire_at_ms together");
  if (op_.ttl_ms) {
    if (*op_.ttl_ms <= 0) return Refuse("ttl_ms must be > 0");
    if (*op_.ttl_ms > kMaxRelativeMs) return Refuse("ttl_ms out of range");
    Result<int64_t> abs = FromRecordTs(*op_.ttl_ms);
    if (!abs) return abs.error();
    return std::optional<int64_t>(*abs);
  }
  if (op_.expire_at_ms) {
    if (*op_.expire_at_ms <= 0) return Refuse("expire_at_ms must be > 0");
    return std::optional<int64_t>(*op_.expire_at_ms);
  }
  return std::optional<int64_t>();
}

Status Planner::Run() {
  const int n = static_cast<int>(op_.args.size());
  if (n < spec_.min_args || (spec_.max_args >= 0 && n > spec_.max_args)) {
    std::string expect = std::to_string(spec_.min_args);
    if (spec_.max_args < 0) {
      expect += " or more";
    } else if (spec_.max_args != spec_.min_args) {
      expect += " to " + std::to_string(spec_.max_args);
    }
    return Refuse("wrong number of args: " + std::to_string(n) + " (expects " + expect + ")");
  }
  if (spec_.pairs && n % 2 != 0) return Refuse("args must come in field/value pairs");
  if (!spec_.ttl_ok && (op_.ttl_ms || op_.expire_at_ms)) {
    return Refuse("ttl_ms/expire_at_ms not allowed with this command");
  }
  switch (spec_.plan) {
    case PlanKind::kSet:
      return Set();
    case PlanKind::kSetnx:
      return Setnx();
    case PlanKind::kSetex:
      return SetexFamily(1000);
    case PlanKind::kPsetex:
      return SetexFamily(1);
    case PlanKind::kGetex:
      return Getex();
    case PlanKind::kExpire:
      return Expire(1000, false);
    case PlanKind::kPexpire:
      return Expire(1, false);
    case PlanKind::kExpireAt:
      return Expire(1000, true);
    case PlanKind::kPexpireAt:
      return Expire(1, true);
    case PlanKind::kZadd:
      return Zadd();
    case PlanKind::kXadd:
      return Xadd();
    case PlanKind::kPassThrough:
      break;
  }
  return PassThrough();
}

Status Planner::TrailingExpiry() {
  Result<std::optional<int64_t>> abs = OpExpiry();
  if (!abs) return abs.error();
  if (abs->has_value()) {
    Argv* a = Begin("PEXPIREAT", 1);
    Push(a, std::to_string(**abs));
  }
  return Status::Ok();
}

Status Planner::PassThrough() {
  if (Argv* a = Begin(spec_.name, op_.args.size())) {
    a->insert(a->end(), op_.args.begin(), op_.args.end());
  }
  return TrailingExpiry();
}

Status Planner::Set() {
  Argv* a = Begin("SET", op_.args.size() + 2);
  Push(a, op_.args[0]);
  bool nx = false, xx = false, expiry_opt = false;
  for (size_t i = 1; i < op_.args.size(); ++i) {
    const std::string& opt = op_.args[i];
    if (EqualsIgnoreCase(opt, "NX") || EqualsIgnoreCase(opt, "XX")) {
      (opt[0] == 'N' || opt[0] == 'n' ? nx : xx) = true;
      if (nx && xx) return Refuse("NX and XX together");
      Push(a, opt);
      continue;
    }
    if (EqualsIgnoreCase(opt, "GET")) {
      Push(a, opt);
      continue;
    }
    const bool keepttl = EqualsIgnoreCase(opt, "KEEPTTL");
    const bool ex = EqualsIgnoreCase(opt, "EX"), px = EqualsIgnoreCase(opt, "PX");
    const bool exat = EqualsIgnoreCase(opt, "EXAT"), pxat = EqualsIgnoreCase(opt, "PXAT");
    if (!(keepttl || ex || px || exat || pxat)) {
      return Refuse("unknown option " + QuoteForMessage(opt, 24));
    }
    if (expiry_opt) return Refuse("more than one of EX/PX/EXAT/PXAT/KEEPTTL");
    expiry_opt = true;
    if (op_.ttl_ms || op_.expire_at_ms) {
      return Refuse("ttl_ms/expire_at_ms together with an expiry option in args");
    }
    if (keepttl) {
      Push(a, opt);
      continue;
    }
    if (i + 1 >= op_.args.size()) return Refuse(AsciiUpper(opt) + " needs a value");
    const std::string& val = op_.args[++i];
    int64_t abs = 0;
    if (ex || px) {
      Result<int64_t> r = RelativeMs(AsciiUpper(opt), val, ex ? 1000 : 1, false);
      if (!r) return r.error();
      abs = *r;
    } else {
      const std::optional<int64_t> v = ParseInt64(val);
      if (!v) return BadNumber(AsciiUpper(opt), val);
      if (*v <= 0 || (exat && *v > kMaxAbsSeconds)) {
        return Refuse(AsciiUpper(opt) + " out of range: " + std::to_string(*v));
      }
      abs = exat ? *v * 1000 : *v;
    }
    Push(a, "PXAT");
    Push(a, std::to_string(abs));
  }
  Result<std::optional<int64_t>> op_abs = OpExpiry();
  if (!op_abs) return op_abs.error();
  if (op_abs->has_value()) {
    Push(a, "PXAT");
    Push(a, std::to_string(**op_abs));
  }
  return Status::Ok();
}

Status Planner::Setnx() {
  if (!op_.ttl_ms && !op_.expire_at_ms) return PassThrough();
  // SETNX + PEXPIREAT would also re-expire a key SETNX left alone; SET NX PXAT does not.
  Result<std::optional<int64_t>> abs = OpExpiry();
  if (!abs) return abs.error();
  Argv* a = Begin("SET", 4);
  Push(a, op_.args[0]);
  Push(a, "NX");
  Push(a, "PXAT");
  Push(a, std::to_string(**abs));
  return Status::Ok();
}

Status Planner::SetexFamily(int64_t unit_ms) {
  Result<int64_t> abs =
      RelativeMs(unit_ms == 1 ? "milliseconds" : "seconds", op_.args[0], unit_ms, false);
  if (!abs) return abs.error();
  Argv* a = Begin("SET", 3);
  Push(a, op_.args[1]);
  Push(a, "PXAT");
  Push(a, std::to_string(*abs));
  return Status::Ok();
}

Status Planner::Getex() {
  Argv* a = Begin("GETEX", 2);
  if (op_.args.empty()) {
    Result<std::optional<int64_t>> abs = OpExpiry();
    if (!abs) return abs.error();
    if (abs->has_value()) {
      Push(a, "PXAT");
      Push(a, std::to_string(**abs));
    }
    return Status::Ok();
  }
  if (op_.ttl_ms || op_.expire_at_ms) {
    return Refuse("ttl_ms/expire_at_ms together with an expiry option in args");
  }
  const std::string& opt = op_.args[0];
  if (EqualsIgnoreCase(opt, "PERSIST")) {
    if (op_.args.size() != 1) return Refuse("PERSIST takes no value");
    Push(a, opt);
    return Status::Ok();
  }
  const bool ex = EqualsIgnoreCase(opt, "EX"), px = EqualsIgnoreCase(opt, "PX");
  const bool exat = EqualsIgnoreCase(opt, "EXAT"), pxat = EqualsIgnoreCase(opt, "PXAT");
  if (!(ex || px || exat || pxat)) return Refuse("unknown option " + QuoteForMessage(opt, 24));
  if (op_.args.size() != 2) return Refuse(AsciiUpper(opt) + " needs a value");
  int64_t abs = 0;
  if (ex || px) {
    Result<int64_t> r = RelativeMs(AsciiUpper(opt), op_.args[1], ex ? 1000 : 1, false);
    if (!r) return r.error();
    abs = *r;
  } else {
    const std::optional<int64_t> v = ParseInt64(op_.args[1]);
    if (!v) return BadNumber(AsciiUpper(opt), op_.args[1]);
    if (*v <= 0 || (exat && *v > kMaxAbsSeconds)) {
      return Refuse(AsciiUpper(opt) + " out of range: " + std::to_string(*v));
    }
    abs = exat ? *v * 1000 : *v;
  }
  Push(a, "PXAT");
  Push(a, std::to_string(abs));
  return Status::Ok();
}

Status Planner::Expire(int64_t unit_ms, bool absolute) {
  CondFlags flags;
  for (size_t i = 1; i < op_.args.size(); ++i) {
    if (!flags.Parse(op_.args[i]))
      return Refuse("unknown option " + QuoteForMessage(op_.args[i], 24));
  }
  if (const char* conflict = flags.Conflict()) return Refuse(conflict);
  const std::string_view what = unit_ms == 1000 ? "seconds" : "milliseconds";
  int64_t abs = 0;
  if (absolute) {
    const std::optional<int64_t> v = ParseInt64(op_.args[0]);
    if (!v) return BadNumber(what, op_.args[0]);
    if (unit_ms == 1000 && (*v > kMaxAbsSeconds || *v < -kMaxAbsSeconds)) {
      return Refuse(std::string(what) + " out of range: " + std::to_string(*v));
    }
    abs = *v * unit_ms;
  } else {
    // A non-positive relative expiry deletes the key, in Redis and as PEXPIREAT in the past.
    Result<int64_t> r = RelativeMs(what, op_.args[0], unit_ms, true);
    if (!r) return r.error();
    abs = *r;
  }
  Argv* a = Begin("PEXPIREAT", op_.args.size());
  Push(a, std::to_string(abs));
  for (size_t i = 1; i < op_.args.size(); ++i) Push(a, op_.args[i]);
  return Status::Ok();
}

Status Planner::Zadd() {
  CondFlags flags;
  bool incr = false;
  size_t i = 0;
  for (; i < op_.args.size(); ++i) {
    const std::string& f = op_.args[i];
    if (flags.Parse(f) || EqualsIgnoreCase(f, "CH")) continue;
    if (!EqualsIgnoreCase(f, "INCR")) break;
    incr = true;
  }
  if (const char* conflict = flags.Conflict()) return Refuse(conflict);
  const size_t rest = op_.args.size() - i;
  if (rest == 0 || rest % 2 != 0) return Refuse("expects score/member pairs");
  if (incr && rest != 2) return Refuse("INCR takes one score/member pair");
  return PassThrough();
}

Status Planner::Xadd() {
  // Options as Redis parses them (any order): NOMKSTREAM, MAXLEN|MINID [=|~] threshold, LIMIT n.
  const size_t n = op_.args.size();
  size_t i = 0;
  for (; i < n; ++i) {
    const std::string& opt = op_.args[i];
    const size_t more = n - 1 - i;
    if (opt == "*") break;
    if ((EqualsIgnoreCase(opt, "MAXLEN") || EqualsIgnoreCase(opt, "MINID")) && more > 0) {
      const std::string& next = op_.args[i + 1];
      if (more >= 2 && (next == "~" || next == "=")) ++i;
      ++i;
    } else if (EqualsIgnoreCase(opt, "LIMIT") && more > 0) {
      ++i;
    } else if (EqualsIgnoreCase(opt, "NOMKSTREAM")) {
      continue;
    } else {
      break;  // the entry id
    }
  }
  if (i >= n) return Refuse("missing entry id");
  const size_t fields = n - i - 1;
  if (fields == 0 || fields % 2 != 0) return Refuse("expects field/value pairs after the id");
  if (op_.args[i] != "*") return PassThrough();
  if (out_ && (ts_ < 0 || ts_ > kMaxRecordTsMs)) {
    return Refuse("record timestamp " + std::to_string(ts_) + " cannot make an entry id");
  }
  if (Argv* a = Begin("XADD", n)) {
    a->insert(a->end(), op_.args.begin(), op_.args.begin() + static_cast<ptrdiff_t>(i));
    a->push_back(std::to_string(ts_) + "-*");
    a->insert(a->end(), op_.args.begin() + static_cast<ptrdiff_t>(i) + 1, op_.args.end());
  }
  return TrailingExpiry();
}

Status RunPlanner(const Op& op, int64_t ts, std::vector<Argv>* out) {
  Result<const CommandSpec*> spec = ResolveCommand(op.cmd);
  if (!spec) return spec.error();
  if (Status st = CheckOpKeys(op); !st) return st;  // walrus's own keys (core/keyspace.h)
  const size_t before = out ? out->size() : 0;
  Status st = Planner(op, **spec, ts, out).Run();
  if (!st && out) out->resize(before);
  return st;
}

}  // namespace

Status PlanOp(const Op& op, int64_t record_ts_ms, std::vector<Argv>& out) {
  return RunPlanner(op, record_ts_ms, &out);
}

Status CheckOp(const Op& op) { return RunPlanner(op, 0, nullptr); }

}  // namespace walrus
