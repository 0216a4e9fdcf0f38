#include "core/write_planner.h"

#include "core/sha1.h"

#include <algorithm>

namespace walrus {
namespace {

// ARGV: n, then per command: argc, argv... KEYS: every key the commands touch.
constexpr const char* kAtomicScript = R"lua(
-- walrus: apply several commands all or nothing (plain mode)
local snap = {}
for i, k in ipairs(KEYS) do
  local d = redis.call('DUMP', k)
  if d then snap[i] = {d, redis.call('PEXPIRETIME', k)} else snap[i] = false end
end
local n = tonumber(ARGV[1])
local pos = 2
for c = 1, n do
  local argc = tonumber(ARGV[pos])
  local args = {}
  for j = 1, argc do args[j] = ARGV[pos + j] end
  pos = pos + argc + 1
  local r = redis.pcall(unpack(args))
  if type(r) == 'table' and r.err then
    for i, k in ipairs(KEYS) do
      redis.call('DEL', k)
      local s = snap[i]
      if s then
        local at = s[2]
        if at < 0 then at = 0 end
        redis.call('RESTORE', k, at, s[1], 'ABSTTL')
      end
    end
    return redis.error_reply('command ' .. c .. ' (' .. args[1] .. ') failed, record rolled back: ' .. r.err)
  end
end
return n
)lua";

}  // namespace

PlainPlanner::PlainPlanner() : atomic_sha_(Sha1Hex(kAtomicScript)) {}

std::vector<std::string> PlainPlanner::Scripts() const { return {kAtomicScript}; }

Status PlainPlanner::Plan(const Write& w, int64_t record_ts_ms, std::vector<Argv>& out) {
  scratch_.clear();
  for (const auto& op : w.ops) {
    if (auto st = PlanOp(op, record_ts_ms, scratch_); !st) return st;
  }
  if (scratch_.size() == 1) {
    out.push_back(std::move(scratch_.front()));
    return {};
  }
  // Several commands: one all-or-nothing script call. Every planned command names its key first.
  std::vector<std::string> keys;
  for (const auto& cmd : scratch_) {
    if (cmd.size() >= 2 && std::find(keys.begin(), keys.end(), cmd[1]) == keys.end()) {
      keys.push_back(cmd[1]);
    }
  }
  Argv call;
  call.reserve(4 + keys.size() + scratch_.size() * 4);
  call.push_back("EVALSHA");
  call.push_back(atomic_sha_);
  call.push_back(std::to_string(keys.size()));
  for (auto& k : keys) call.push_back(std::move(k));
  call.push_back(std::to_string(scratch_.size()));
  for (auto& cmd : scratch_) {
    call.push_back(std::to_string(cmd.size()));
    for (auto& a : cmd) call.push_back(std::move(a));
  }
  out.push_back(std::move(call));
  return {};
}

}  // namespace walrus
