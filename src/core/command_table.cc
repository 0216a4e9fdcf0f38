#include "core/command_table.h"

#include <algorithm>
#include <array>

#include "core/strings.h"

namespace walrus {
namespace {

using F = Family;
using P = PlanKind;
constexpr bool kPairs = true;
constexpr bool kNoTtl = false;

// Sorted by name (checked below): FindCommand binary-searches it.
constexpr std::array kCommands = {
    CommandSpec{"APPEND", 1, 1, F::kString},
    CommandSpec{"DECR", 0, 0, F::kCounter},
    CommandSpec{"DECRBY", 1, 1, F::kCounter},
    CommandSpec{"DEL", 0, 0, F::kGeneric, false, kNoTtl},
    CommandSpec{"EXPIRE", 1, 3, F::kExpiry, false, kNoTtl, P::kExpire},
    CommandSpec{"EXPIREAT", 1, 3, F::kExpiry, false, kNoTtl, P::kExpireAt},
    CommandSpec{"GETDEL", 0, 0, F::kString, false, kNoTtl},
    CommandSpec{"GETEX", 0, 2, F::kString, false, true, P::kGetex},
    CommandSpec{"GETSET", 1, 1, F::kString},
    CommandSpec{"HDEL", 1, -1, F::kHash},
    CommandSpec{"HINCRBY", 2, 2, F::kHash},
    CommandSpec{"HINCRBYFLOAT", 2, 2, F::kHash},
    CommandSpec{"HMSET", 2, -1, F::kHash, kPairs},
    CommandSpec{"HSET", 2, -1, F::kHash, kPairs},
    CommandSpec{"HSETNX", 2, 2, F::kHash},
    CommandSpec{"INCR", 0, 0, F::kCounter},
    CommandSpec{"INCRBY", 1, 1, F::kCounter},
    CommandSpec{"INCRBYFLOAT", 1, 1, F::kCounter},
    CommandSpec{"LINSERT", 3, 3, F::kList},
    CommandSpec{"LPOP", 0, 1, F::kList},
    CommandSpec{"LPUSH", 1, -1, F::kList},
    CommandSpec{"LPUSHX", 1, -1, F::kList},
    CommandSpec{"LREM", 2, 2, F::kList},
    CommandSpec{"LSET", 2, 2, F::kList},
    CommandSpec{"LTRIM", 2, 2, F::kList},
    CommandSpec{"PERSIST", 0, 0, F::kExpiry, false, kNoTtl},
    CommandSpec{"PEXPIRE", 1, 3, F::kExpiry, false, kNoTtl, P::kPexpire},
    CommandSpec{"PEXPIREAT", 1, 3, F::kExpiry, false, kNoTtl, P::kPexpireAt},
    CommandSpec{"PFADD", 0, -1, F::kHyperLogLog},
    CommandSpec{"PSETEX", 2, 2, F::kString, false, kNoTtl, P::kPsetex},
    CommandSpec{"RPOP", 0, 1, F::kList},
    CommandSpec{"RPUSH", 1, -1, F::kList},
    CommandSpec{"RPUSHX", 1, -1, F::kList},
    CommandSpec{"SADD", 1, -1, F::kSet},
    CommandSpec{"SET", 1, 5, F::kString, false, true, P::kSet},
    CommandSpec{"SETBIT", 2, 2, F::kString},
    CommandSpec{"SETEX", 2, 2, F::kString, false, kNoTtl, P::kSetex},
    CommandSpec{"SETNX", 1, 1, F::kString, false, true, P::kSetnx},
    CommandSpec{"SETRANGE", 2, 2, F::kString},
    CommandSpec{"SREM", 1, -1, F::kSet},
    CommandSpec{"UNLINK", 0, 0, F::kGeneric, false, kNoTtl},
    CommandSpec{"XADD", 3, -1, F::kStream, false, true, P::kXadd},
    CommandSpec{"XDEL", 1, -1, F::kStream},
    CommandSpec{"XTRIM", 2, 5, F::kStream},
    CommandSpec{"ZADD", 2, -1, F::kSortedSet, false, true, P::kZadd},
    CommandSpec{"ZINCRBY", 2, 2, F::kSortedSet},
    CommandSpec{"ZPOPMAX", 0, 1, F::kSortedSet},
    CommandSpec{"ZPOPMIN", 0, 1, F::kSortedSet},
    CommandSpec{"ZREM", 1, -1, F::kSortedSet},
    CommandSpec{"ZREMRANGEBYLEX", 2, 2, F::kSortedSet},
    CommandSpec{"ZREMRANGEBYRANK", 2, 2, F::kSortedSet},
    CommandSpec{"ZREMRANGEBYSCORE", 2, 2, F::kSortedSet},
};

static_assert(std::is_sorted(kCommands.begin(), kCommands.end(),
                             [](const CommandSpec& a, const CommandSpec& b) {
                               return a.name < b.name;
                             }),
              "kCommands must be sorted by name");

constexpr size_t kMaxNameLen = 16;  // longest allowed name: ZREMRANGEBYSCORE

struct Refusal {
  std::string_view name;
  std::string_view why;
};

constexpr std::string_view kRandom = "non-deterministic (random members)";
constexpr std::string_view kScript = "scripts cannot be checked for determinism";
constexpr std::string_view kMultiKey = "multi-key command; use multi";
constexpr std::string_view kBlocking = "blocking command";
constexpr std::string_view kTxn = "transactions are written with the 'multi' field";
constexpr std::string_view kDb = "changes the selected database";

// Well-known commands refused for a specific reason (everything else gets the generic one).
constexpr std::array kRefusals = {
    Refusal{"SPOP", kRandom},
    Refusal{"SRANDMEMBER", kRandom},
    Refusal{"HRANDFIELD", kRandom},
    Refusal{"ZRANDMEMBER", kRandom},
    Refusal{"RANDOMKEY", kRandom},
    Refusal{"EVAL", kScript},
    Refusal{"EVALSHA", kScript},
    Refusal{"EVAL_RO", kScript},
    Refusal{"EVALSHA_RO", kScript},
    Refusal{"FCALL", kScript},
    Refusal{"FCALL_RO", kScript},
    Refusal{"SCRIPT", kScript},
    Refusal{"FUNCTION", kScript},
    Refusal{"MSET", kMultiKey},
    Refusal{"MSETNX", kMultiKey},
    Refusal{"RENAME", kMultiKey},
    Refusal{"RENAMENX", kMultiKey},
    Refusal{"SMOVE", kMultiKey},
    Refusal{"LMOVE", kMultiKey},
    Refusal{"RPOPLPUSH", kMultiKey},
    Refusal{"COPY", kMultiKey},
    Refusal{"SINTERSTORE", kMultiKey},
    Refusal{"SUNIONSTORE", kMultiKey},
    Refusal{"SDIFFSTORE", kMultiKey},
    Refusal{"ZUNIONSTORE", kMultiKey},
    Refusal{"ZINTERSTORE", kMultiKey},
    Refusal{"ZDIFFSTORE", kMultiKey},
    Refusal{"ZRANGESTORE", kMultiKey},
    Refusal{"BITOP", kMultiKey},
    Refusal{"PFMERGE", kMultiKey},
    Refusal{"LMPOP", kMultiKey},
    Refusal{"ZMPOP", kMultiKey},
    Refusal{"SORT", kMultiKey},
    Refusal{"GEORADIUS", kMultiKey},
    Refusal{"GEOSEARCHSTORE", kMultiKey},
    Refusal{"BLPOP", kBlocking},
    Refusal{"BRPOP", kBlocking},
    Refusal{"BLMOVE", kBlocking},
    Refusal{"BRPOPLPUSH", kBlocking},
    Refusal{"BLMPOP", kBlocking},
    Refusal{"BZPOPMIN", kBlocking},
    Refusal{"BZPOPMAX", kBlocking},
    Refusal{"BZMPOP", kBlocking},
    Refusal{"XREAD", kBlocking},
    Refusal{"XREADGROUP", kBlocking},
    Refusal{"WAIT", kBlocking},
    Refusal{"MULTI", kTxn},
    Refusal{"EXEC", kTxn},
    Refusal{"DISCARD", kTxn},
    Refusal{"WATCH", kTxn},
    Refusal{"UNWATCH", kTxn},
    Refusal{"SELECT", kDb},
    Refusal{"MOVE", kDb},
    Refusal{"SWAPDB", kDb},
};

}  // namespace

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kString:
      return "string";
    case Family::kCounter:
      return "counter";
    case Family::kGeneric:
      return "generic";
    case Family::kHash:
      return "hash";
    case Family::kSet:
      return "set";
    case Family::kSortedSet:
      return "sorted-set";
    case Family::kList:
      return "list";
    case Family::kStream:
      return "stream";
    case Family::kHyperLogLog:
      return "hyperloglog";
    case Family::kExpiry:
      return "expiry";
  }
  return "unknown";
}

const CommandSpec* FindCommand(std::string_view name_any_case) {
  if (name_any_case.empty() || name_any_case.size() > kMaxNameLen) return nullptr;
  char buf[kMaxNameLen];
  for (size_t i = 0; i < name_any_case.size(); ++i) {
    char c = name_any_case[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    buf[i] = c;
  }
  const std::string_view upper(buf, name_any_case.size());
  auto it = std::lower_bound(kCommands.begin(), kCommands.end(), upper,
                             [](const CommandSpec& s, std::string_view n) { return s.name < n; });
  if (it == kCommands.end() || it->name != upper) return nullptr;
  return &*it;
}

Result<const CommandSpec*> ResolveCommand(std::string_view name_any_case) {
  if (const CommandSpec* spec = FindCommand(name_any_case)) return spec;
  if (name_any_case.empty()) return Error(Errc::kRefused, "empty command name");
  const std::string upper = AsciiUpper(name_any_case.substr(0, 64));
  for (const Refusal& r : kRefusals) {
    if (r.name == upper) {
      return Error(Errc::kRefused,
                   "command " + QuoteForMessage(upper) + " is not allowed: " + std::string(r.why));
    }
  }
  return Error(Errc::kRefused, "command " + QuoteForMessage(AsciiUpper(name_any_case), 32) +
                                   " is not in the allow-list");
}

std::span<const CommandSpec> AllCommands() { return kCommands; }

}  // namespace walrus
