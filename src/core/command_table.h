#pragma once

// The allow-list of deterministic single-key Redis write commands walrus applies.
//
// Every op names one of these commands; anything else is refused before it reaches Redis, with a
// reason that says which command and, for the well-known cases, why (random, scripted, multi-key,
// blocking, ...). The table is static and immutable: safe to use from any thread.
//
// Key positions: every allowed command takes exactly one key, the op's `key`; no argument is a
// key. walrus's reserved namespace (keyspace.h) is enforced on that position; allowing a command
// with keys among its arguments means extending CheckOpKeys (keyspace.cc) to them.
//
//   const walrus::CommandSpec* spec = walrus::FindCommand("hset");   // case-insensitive
//   if (spec && spec->family == walrus::Family::kHash) ...
//
//   auto r = walrus::ResolveCommand("flushall");
//   // !r, r.error().Is(Errc::kRefused), message "command 'FLUSHALL' is not in the allow-list"

#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.h"

namespace walrus {

// Data-type family of a command (active-active mode picks its conflict rule by family).
enum class Family {
  kString,   // SET family, APPEND, SETRANGE, SETBIT, GETDEL, ...
  kCounter,  // INCR family
  kGeneric,  // DEL, UNLINK
  kHash,
  kSet,
  kSortedSet,
  kList,
  kStream,
  kHyperLogLog,
  kExpiry,  // EXPIRE family, PERSIST
};

std::string_view FamilyName(Family f);

// What the planner (planner.h) does with a command beyond passing it through.
enum class PlanKind : uint8_t {
  kPassThrough,  // [CMD, key, args...]
  kSet,          // SET: EX/PX in args become PXAT; ttl_ms/expire_at_ms become PXAT
  kSetnx,        // SETNX with a TTL becomes SET key value NX PXAT abs
  kSetex,        // SETEX key seconds value -> SET key value PXAT abs
  kPsetex,       // PSETEX key ms value -> SET key value PXAT abs
  kGetex,        // GETEX: EX/PX become PXAT; ttl_ms/expire_at_ms become PXAT
  kExpire,       // EXPIRE key seconds [NX|XX|GT|LT] -> PEXPIREAT key abs [flags]
  kPexpire,      // PEXPIRE key ms [flags] -> PEXPIREAT
  kExpireAt,     // EXPIREAT key unix-seconds [flags] -> PEXPIREAT key unix-ms [flags]
  kPexpireAt,    // PEXPIREAT: validated, passed through
  kZadd,         // ZADD: options and score/member pairs validated, passed through
  kXadd,         // XADD: id '*' becomes '<record_ts_ms>-*'
};

struct CommandSpec {
  std::string_view name;  // canonical upper-case name
  int min_args;           // arguments after the key
  int max_args;           // -1 = unbounded
  Family family;
  bool pairs = false;  // all args come in pairs (HSET field value [field value ...])
  bool ttl_ok = true;  // ttl_ms / expire_at_ms may accompany the command
  PlanKind plan = PlanKind::kPassThrough;
};

// The spec of an allowed command, or nullptr. Case-insensitive.
const CommandSpec* FindCommand(std::string_view name_any_case);

// The spec, or Errc::kRefused with a short reason naming the command, e.g.
// "command 'SPOP' is not allowed: non-deterministic (picks random members)".
Result<const CommandSpec*> ResolveCommand(std::string_view name_any_case);

// All allowed commands, sorted by name (for docs, tests and `walrus produce --help`).
std::span<const CommandSpec> AllCommands();

}  // namespace walrus
