#pragma once

// The reserved key namespace: the Redis keys walrus keeps for itself, which no op may write.
//
// Every key walrus stores beside the user's data starts with kReservedPrefix ("walrus:"):
//
//   walrus:pos:<topic>:<partition>    next offset to apply (the applier's positions)
//   walrus:src:<alias>/<topic>/<p>    highest mirrored source offset applied (dedup by walrus-src)
//   walrus:epoch                      leader epoch fence (walrus elect)
//   walrus:hlc                        highest HLC stamp applied (active-active)
//   walrus:m:{tag}:<key>              CRDT metadata sidecar of <key> (src/crdt/merge_script.h)
//   walrus:c:{tag}:<key>              CRDT counter contributions of <key>
//   walrus:outbox:<topic>:<partition> dead letters committed, not yet acknowledged by the DLQ
//                                     (docs/dead-letters.md)
//   walrus:...                        anything walrus adds later
//
// An op that wrote one of these would corrupt walrus's own bookkeeping without an error (a DEL of
// a position replays a partition, a SET of one skips records as duplicates, a SET of the epoch
// pauses the applier). So the decoder refuses (Errc::kRefused, the applier dead-letters it as
// `refused`) every op any of whose keys is reserved, and every producer (walrus produce, the
// gateway, the client library) refuses it before it reaches Kafka.
//
// The test is on the literal key bytes, case-sensitive, as Redis compares keys: "Walrus:pos",
// "WALRUS:x", "walrusx", "{walrus:}x" are user keys. A hash tag changes only the slot, never the
// name, so "{walrus:pos}:x" is a user key too; nothing walrus writes begins with '{'.
//
// Pure functions, thread-safe.
//
//   if (walrus::IsReservedKey(op.key)) ...                 // "walrus:pos:t:0" -> true
//   walrus::Status st = walrus::CheckOpKeys(op);          // kRefused naming the key and prefix
//   // st.error().message == "key 'walrus:epoch' is reserved: keys beginning with 'walrus:' are
//   //                        walrus's own state (positions, ...) and no op may write them"

#include <string>
#include <string_view>

#include "core/op.h"
#include "core/result.h"
#include "protocol/redis_keys.h"

namespace walrus {

inline constexpr std::string_view kReservedPrefix = protocol::kReservedPrefix;

// True when `key` lies in the reserved namespace (begins with kReservedPrefix, byte for byte).
constexpr bool IsReservedKey(std::string_view key) { return key.starts_with(kReservedPrefix); }

// Ok, or Errc::kRefused naming the first reserved key of `op` and the namespace. Checks every
// key position of the op's command, as the command table (command_table.h) defines them: each
// allowed command takes exactly one key, the op's `key`, and none of its arguments is a key
// (multi-key commands such as SMOVE, RENAME, LMOVE or ZUNIONSTORE are refused;
// tests/e2e/test_reserved_keys.py checks this against Redis' own COMMAND GETKEYS). Allowing a
// command that takes keys in its arguments means checking those positions here too.
// Runs for every decoded op: no allocation unless it refuses.
Status CheckOpKeys(const Op& op);

// The refusal message for a reserved `key` (what CheckOpKeys reports).
std::string ReservedKeyMessage(std::string_view key);

}  // namespace walrus
