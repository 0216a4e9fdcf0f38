#include "apply/outbox.h"

#include <fmt/format.h>

#include <charconv>

#include "core/sha1.h"

namespace walrus::apply {
namespace {

// One EVALSHA per run of records (see outbox.h for the layout). A record's commands run with
// redis.pcall; when one fails, a record of several commands is rolled back (DUMP/RESTORE of the
// keys it names, as PlainPlanner's all-or-nothing script does) and the record's outbox entry is
// written, in the same script and so in the same MULTI/EXEC as every other effect.
// Cost: Redis converts every ARGV element into a Lua string, which is most of the price, so a
// record of one command costs just its arguments (groups share the command name); the
// coordinates are one packed string, read only for a record that failed.
constexpr const char* kApplyScript = R"lua(
-- walrus: apply a run of records; a record Redis rejects goes to the dead-letter outbox
local prefix = ARGV[1] .. '|rejected|'
local coords = ARGV[2]
local failed = {}
local slot = 0
local function fail(err)
  local at = (slot - 1) * 21
  local off = string.match(string.sub(coords, at + 2, at + 21), '^0*(%d+)$')
  redis.call('HSET', KEYS[string.byte(coords, at + 1)], off, prefix .. err)
  failed[#failed + 1] = slot
  failed[#failed + 1] = err
end
-- The loop runs under pcall: a Lua runtime error (or a redis.call that raises, e.g. the outbox
-- HSET) must not hide which records ran. The reply then ends with {-slot, error}: records before
-- `slot` are done (applied, or failed and listed), record `slot` is in an unknown state, the
-- ones after it never ran (the applier stops: Applier::Committed).
local function run()
local pos, last = 3, #ARGV
while pos <= last do
  local count, argc = tonumber(ARGV[pos]), tonumber(ARGV[pos + 1])
  if argc >= 0 then
    local name = ARGV[pos + 2]
    pos = pos + 3
    for _ = 1, count do
      slot = slot + 1
      local r
      if argc == 1 then
        r = redis.pcall(name, ARGV[pos])
      elseif argc == 2 then
        r = redis.pcall(name, ARGV[pos], ARGV[pos + 1])
      elseif argc == 3 then
        r = redis.pcall(name, ARGV[pos], ARGV[pos + 1], ARGV[pos + 2])
      else
        r = redis.pcall(name, unpack(ARGV, pos, pos + argc - 1))
      end
      if type(r) == 'table' and r.err then fail(r.err) end
      pos = pos + argc
    end
  else
    -- one record of several commands, all or nothing: nkeys, keys..., n, (argc, argv...) x n
    slot = slot + 1
    local nk = tonumber(ARGV[pos + 2])
    local kfirst = pos + 3
    pos = kfirst + nk
    local n = tonumber(ARGV[pos])
    pos = pos + 1
    local snap = {}
    for i = 1, nk do
      local k = ARGV[kfirst + i - 1]
      local d = redis.call('DUMP', k)
      if d then snap[i] = {d, redis.call('PEXPIRETIME', k)} else snap[i] = false end
    end
    local err
    for c = 1, n do
      local cargc = tonumber(ARGV[pos])
      if not err then
        local r = redis.pcall(unpack(ARGV, pos + 1, pos + cargc))
        if type(r) == 'table' and r.err then
          err = 'command ' .. c .. ' (' .. ARGV[pos + 1] .. ') failed, record rolled back: ' .. r.err
        end
      end
      pos = pos + cargc + 1
    end
    if err then
      for i = 1, nk do
        local k = ARGV[kfirst + i - 1]
        redis.call('DEL', k)
        local sn = snap[i]
        if sn then
          local at = sn[2]
          if at < 0 then at = 0 end
          redis.call('RESTORE', k, at, sn[1], 'ABSTTL')
        end
      end
      fail(err)
    end
  end
end
end
local ok, e = pcall(run)
if not ok then
  if slot < 1 then slot = 1 end
  failed[#failed + 1] = -slot
  failed[#failed + 1] = type(e) == 'table' and tostring(e.err) or tostring(e)
end
return failed
)lua";

bool ParseInt(std::string_view s, int64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string OutboxKey(std::string_view topic, int32_t partition) {
  return protocol::OutboxKey(topic, partition);
}

std::string EncodeOutboxValue(int64_t wall_ms, std::string_view category, std::string_view reason) {
  return fmt::format("{}|{}|{}", wall_ms, category, reason);
}

std::optional<OutboxEntry> DecodeOutboxEntry(std::string_view field, std::string_view value) {
  OutboxEntry e;
  if (!ParseInt(field, e.offset) || e.offset < 0) return std::nullopt;
  const size_t a = value.find('|');
  if (a == std::string_view::npos) return std::nullopt;
  const size_t b = value.find('|', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  if (!ParseInt(value.substr(0, a), e.wall_ms)) return std::nullopt;
  e.category.assign(value.substr(a + 1, b - a - 1));
  e.reason.assign(value.substr(b + 1));
  return e;
}

const std::string& ApplyScript() {
  static const std::string body(kApplyScript);
  return body;
}

const std::string& ApplyScriptSha1() {
  static const std::string sha = Sha1Hex(ApplyScript());
  return sha;
}

bool CannotFailAtExec(const std::vector<std::string>& cmd) {
  if (cmd.empty()) return false;
  const std::string& name = cmd[0];
  if (name == "DEL" || name == "UNLINK") return cmd.size() >= 2;
  if (name != "SET") return false;
  if (cmd.size() == 3) return true;
  if (cmd.size() != 5 || cmd[3] != "PXAT") return false;
  int64_t at = 0;
  return ParseInt(cmd[4], at) && at > 0;
}

}  // namespace walrus::apply
