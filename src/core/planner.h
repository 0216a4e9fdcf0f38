#pragma once

// The planner turns an Op into the Redis commands that apply it deterministically, whenever and
// wherever it is applied: every relative expiry becomes absolute relative to the Kafka record
// timestamp, and XADD '*' ids become '<record_ts_ms>-*'. Pure functions, thread-safe.
//
//   std::vector<walrus::Argv> cmds;
//   walrus::Op op{.cmd = "SET", .key = "s:9", .args = {"x"}, .ttl_ms = 30000};
//   walrus::Status st = walrus::PlanOp(op, /*record_ts_ms=*/1700000000000, cmds);
//   // cmds == {{"SET", "s:9", "x", "PXAT", "1700000030000"}}
//
// Rules (docs/op-format.md has the full reference):
//   ttl_ms            -> absolute expiry record_ts_ms + ttl_ms; SET/SETNX/GETEX carry it as PXAT,
//                        other commands get a following PEXPIREAT key abs.
//   expire_at_ms      -> the same, already absolute.
//   SET EX s | PX ms  -> SET ... PXAT abs (EXAT s -> PXAT s*1000)
//   SETEX / PSETEX    -> SET key value PXAT abs
//   GETEX EX | PX     -> GETEX key PXAT abs
//   EXPIRE / PEXPIRE  -> PEXPIREAT key abs [NX|XX|GT|LT]; EXPIREAT s -> PEXPIREAT s*1000
//   XADD ... *        -> XADD ... <record_ts_ms>-*
//   anything else     -> [CMD, key, args...]

#include <cstdint>
#include <string>
#include <vector>

#include "core/op.h"
#include "core/result.h"

namespace walrus {

using Argv = std::vector<std::string>;

// Relative expiries (ttl_ms, EX, PX, SETEX, EXPIRE, ...) must lie within +-kMaxRelativeMs
// (about 285,000 years), so record_ts_ms + relative can never overflow.
inline constexpr int64_t kMaxRelativeMs = int64_t{1} << 53;
// Record timestamps PlanOp accepts where it needs one: 0 <= record_ts_ms <= kMaxRecordTsMs.
inline constexpr int64_t kMaxRecordTsMs = int64_t{1} << 60;

// Appends to `out` the commands applying `op`. record_ts_ms = Kafka record timestamp (create
// time). On error (Errc::kRefused) `out` is left as it was.
Status PlanOp(const Op& op, int64_t record_ts_ms, std::vector<Argv>& out);

// Everything PlanOp checks except the record timestamp: command allowed, no key in walrus's
// reserved namespace (core/keyspace.h), arity, option syntax, expiry values and conflicts. An op that passes CheckOp plans successfully for any record
// timestamp in [0, kMaxRecordTsMs]. Decoders call it, so bad ops are refused at decode time.
Status CheckOp(const Op& op);

}  // namespace walrus
