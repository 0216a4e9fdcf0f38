#pragma once

// The dead-letter outbox: records the applier refuses (decode errors, refused commands) or that
// Redis rejects while executing them (WRONGTYPE, not an integer, ...) are written to an outbox
// hash IN THE SAME MULTI/EXEC as the effects and positions of their batch, so a dead letter is
// exactly as durable as the effects. After the commit the applier produces them to the DLQ,
// waits for the acks, then deletes the entries (HDEL folded into the next transaction).
// OutboxDrain (outbox_drain.h) produces what a crash left behind.
//
//   key    walrus:outbox:<topic>:<partition>            (a hash; one per source partition)
//   field  <offset>                                     (decimal source offset)
//   value  <wall ms>|<category>|<reason>                (wall ms: when the entry was written)
//
// Exec-time rejections are found inside Redis: plain mode sends each run of records that can
// fail as ONE EVALSHA of the apply script (ApplyScript(): redis.pcall per command, a record of
// several commands all or nothing, the failing record's entry HSET by the script); crdt mode
// passes the outbox key and the coordinates to the merge script itself (src/crdt/merge.lua).
// Pure data and functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/redis_keys.h"

namespace walrus::apply {

inline constexpr std::string_view kOutboxPrefix = protocol::kOutboxKeyPrefix;

std::string OutboxKey(std::string_view topic, int32_t partition);

struct OutboxEntry {
  int64_t offset = -1;
  int64_t wall_ms = 0;
  std::string category;  // decode | refused | rejected
  std::string reason;
};

std::string EncodeOutboxValue(int64_t wall_ms, std::string_view category, std::string_view reason);
// nullopt when `field` / `value` are not an outbox entry (then the entry is left alone, loudly).
std::optional<OutboxEntry> DecodeOutboxEntry(std::string_view field, std::string_view value);

// The plain-mode apply script (SCRIPT LOAD body) and its SHA1.
//   KEYS: outbox hashes (at most kMaxRunKeys).  ARGV[1] = wall ms, ARGV[2] = the records'
//   coordinates packed, 21 bytes each: 1 byte = 1-based index into KEYS, 20 digits = offset;
//   then groups: a group of records of one command each with the same name and argument count
//   is  count, argc, name, then count x argc arguments;  a record of several commands (multi,
//   or an op plus its PEXPIREAT) is  1, -1, nkeys, keys..., n, (argc, argv...) x n  (the tail
//   of PlainPlanner's all-or-nothing EVALSHA). Returns {slot, error, ...} for the records that
//   failed (slot: 1-based place of the record in the run); if the script itself failed part way
//   (a Lua error, a redis.call that raised) the list ends with {-slot, error}: records before
//   `slot` ran, record `slot` is in an unknown state, the later ones never ran.
const std::string& ApplyScript();
const std::string& ApplyScriptSha1();

// Commands the apply script is not needed for: with the arguments PlainPlanner emits them
// (SET key value [PXAT ms>0], DEL/UNLINK keys...) Redis cannot reject them at EXEC time, so
// they are sent as they are (the SET benchmark path stays native).
bool CannotFailAtExec(const std::vector<std::string>& cmd);

// Records whose commands carry more arguments than this are sent without the script (Lua's
// unpack() is limited to ~8000 values); their exec-time rejections are produced after the
// commit as before (logged as unguarded).
inline constexpr size_t kMaxScriptedArgs = 7000;
inline constexpr size_t kMaxRunKeys = 255;
inline constexpr size_t kCoordWidth = 21;

}  // namespace walrus::apply
