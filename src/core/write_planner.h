#pragma once

// WritePlanner: turns a decoded Write into the Redis commands that apply it. The applier owns one
// and calls it on its thread for every record.
//
//  * PlainPlanner (here): the op's own commands, with expiries made absolute (core/planner.h).
//  * The active-active planner (src/crdt/) emits EVALSHA calls of merge scripts instead; its
//    Scripts() are loaded with SCRIPT LOAD at the start of every transaction (inside the MULTI),
//    so a Redis that lost its script cache can never answer NOSCRIPT.
//
//   PlainPlanner p;
//   std::vector<Argv> cmds;
//   Status st = p.Plan(write, record_ts_ms, cmds);

#include <string>
#include <vector>

#include "core/op.h"
#include "core/planner.h"
#include "core/result.h"

namespace walrus {

class WritePlanner {
 public:
  virtual ~WritePlanner() = default;
  // Appends the commands applying `w`; on error leaves `out` as it was.
  virtual Status Plan(const Write& w, int64_t record_ts_ms, std::vector<Argv>& out) = 0;
  // Lua script bodies the planned commands call by SHA1.
  virtual std::vector<std::string> Scripts() const { return {}; }
};

// Plain (active/standby) planner. A record that needs a single command is sent as that command.
// A record that needs several (a `multi`, or an op plus its PEXPIREAT) is sent as one EVALSHA of
// an "all or nothing" script: it snapshots the touched keys (DUMP + PEXPIRETIME), runs the
// commands, and if one fails restores every key and returns the error. MULTI/EXEC alone would
// leave the commands before the failing one applied (Redis has no rollback).
class PlainPlanner final : public WritePlanner {
 public:
  PlainPlanner();
  Status Plan(const Write& w, int64_t record_ts_ms, std::vector<Argv>& out) override;
  std::vector<std::string> Scripts() const override;

 private:
  std::string atomic_sha_;
  std::vector<Argv> scratch_;
};

}  // namespace walrus
