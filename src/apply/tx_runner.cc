#include "apply/tx_runner.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <utility>
#include <string_view>

#include "apply/partition_state.h"
#include "core/log.h"

namespace walrus::apply {
namespace {

int64_t ParseOffset(std::string_view s) {
  int64_t v = -2;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return -2;  // never equals an expectation
  return v;
}

// KEYS[1] = walrus:hlc, ARGV[1] = a stamp: keeps the larger, comparing bytes (Lua's < follows
// the server's locale). Sent with EVAL: small, and Redis caches it by its SHA1.
constexpr std::string_view kMaxSetScript = R"lua(
local cur = redis.call('GET', KEYS[1])
local new = ARGV[1]
if cur then
  if cur == new then return 0 end
  local n = math.min(#cur, #new)
  for i = 1, n do
    local x, y = string.byte(cur, i), string.byte(new, i)
    if x ~= y then
      if x > y then return 0 end
      redis.call('SET', KEYS[1], new)
      return 1
    end
  end
  if #cur >= #new then return 0 end
end
redis.call('SET', KEYS[1], new)
return 1
)lua";

// Argv of the fence, reused (applier thread only).
std::vector<std::string_view>& FenceArgv() {
  thread_local std::vector<std::string_view> argv;
  return argv;
}

std::string_view Decimal(int64_t v, char (&buf)[24]) {
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string_view(buf, static_cast<size_t>(p - buf));
}

bool IsTransient(const Error& e) { return e.Is(Errc::kUnavailable); }

// The records owning command `cmd_index`: [*first, *last). A native command has one owner; an
// apply-script run has one per record in it. `cursor` walks forward as indexes grow.
size_t CmdEnd(const Transaction::RecordSpan& r) {
  return r.slot > 0 ? r.first_cmd + 1 : r.first_cmd + r.n_cmds;
}
std::pair<size_t, size_t> OwnersOf(const std::vector<Transaction::RecordSpan>& records,
                                   size_t& cursor, size_t cmd_index) {
  while (cursor < records.size() && CmdEnd(records[cursor]) <= cmd_index) ++cursor;
  size_t last = cursor;
  while (last < records.size() && records[last].first_cmd <= cmd_index &&
         CmdEnd(records[last]) > cmd_index) {
    ++last;
  }
  return {cursor, last};
}

void MarkFailed(Transaction::RecordSpan& rec, std::string error) {
  if (rec.failed) return;
  rec.failed = true;
  rec.error = std::move(error);
}

}  // namespace

void AppendFence(redis::Connection& conn, const Transaction& tx) {
  auto& argv = FenceArgv();
  argv.clear();
  argv.push_back("WATCH");
  for (const auto& a : tx.advances()) argv.push_back(a.part->pos_key);
  argv.push_back(kEpochKey);
  conn.Append(argv);
  argv[0] = "MGET";
  conn.Append(argv);
}

TxResult ReadFence(redis::Connection& conn, const Transaction& tx, EpochFence& epoch) {
  const auto& adv = tx.advances();
  auto fence = conn.ReadReplies(2);
  if (!fence) return {TxOutcome::kBroken, fence.error().message};
  for (auto& r : *fence) {
    if (r.IsError()) {
      auto err = r.ToError();
      return {IsTransient(err) ? TxOutcome::kRetry : TxOutcome::kBroken, err.message};
    }
  }
  const auto& mget = (*fence)[1];
  const auto stored_epoch = mget.element(adv.size());
  if (Status st = epoch.Check(stored_epoch.IsNil() ? std::nullopt
                                                   : std::optional(stored_epoch.str()));
      !st) {
    return {TxOutcome::kStaleEpoch, st.error().message};
  }
  for (size_t i = 0; i < adv.size(); ++i) {
    auto e = mget.element(i);
    const int64_t stored = e.IsNil() ? -1 : ParseOffset(e.str());
    if (stored != adv[i].expected) {
      return {TxOutcome::kConflict,
              fmt::format("position of {}[{}] in Redis is {}, expected {}", adv[i].part->topic,
                          adv[i].part->partition, stored, adv[i].expected)};
    }
  }
  return {TxOutcome::kCommitted, {}};
}

TxResult Fence(redis::Connection& conn, const Transaction& tx, EpochFence& epoch) {
  AppendFence(conn, tx);
  TxResult r = ReadFence(conn, tx, epoch);
  if (r.outcome == TxOutcome::kConflict || r.outcome == TxOutcome::kStaleEpoch) {
    conn.Append({"UNWATCH"});
    (void)conn.ReadReplies(1);
  }
  return r;
}

void BeginMulti(redis::Connection& conn, const Transaction& tx) {
  conn.Append(std::vector<std::string_view>{"MULTI"});
  for (const auto& cmd : tx.prelude()) conn.Append(cmd);
}

void AppendCommands(redis::Connection& conn, const Transaction& tx, size_t from) {
  const auto& cmds = tx.commands();
  for (size_t i = from; i < cmds.size(); ++i) conn.Append(cmds[i]);
}

void AppendExec(redis::Connection& conn, Transaction& tx) {
  if (!tx.sealed()) {
    // The caller appended every command but the open run: append it now.
    const size_t n = tx.command_count();
    tx.Seal();
    AppendCommands(conn, tx, n);
  }
  tx.BuildTail();
  char buf[24];
  for (const auto& a : tx.advances()) conn.AppendArgs("SET", a.part->pos_key, Decimal(a.next, buf));
  for (const auto& src : tx.sources()) conn.AppendArgs("SET", src.key, Decimal(src.offset, buf));
  if (!tx.max_stamp().empty()) {
    conn.AppendArgs("EVAL", kMaxSetScript, "1", kHlcKey, tx.max_stamp());
  }
  for (const auto& cmd : tx.tail()) conn.Append(cmd);
  conn.Append({"EXEC"});
}

TxResult ReadExec(redis::Connection& conn, Transaction& tx) {
  const size_t n_pre = tx.prelude().size();
  const size_t n_cmds = tx.command_count();
  // Position and source SETs, the stamp's max-set, the outbox HSETs/HDELs.
  const size_t n_meta = tx.advances().size() + tx.sources().size() +
                        (tx.max_stamp().empty() ? 0 : 1) + tx.tail().size();
  auto& rs = tx.replies();
  if (auto st = conn.ReadReplies(n_pre + n_cmds + n_meta + 2, &rs); !st) {
    return {TxOutcome::kBroken, st.error().message};
  }

  auto& records = tx.records();
  bool transient = false;
  bool queue_rejected = false;
  std::string detail;
  if (rs[0].IsError()) {
    auto err = rs[0].ToError();
    return {IsTransient(err) ? TxOutcome::kRetry : TxOutcome::kBroken, err.message};
  }
  for (size_t i = 0; i < n_pre; ++i) {
    if (rs[1 + i].IsError()) {
      // A prelude the server refuses (e.g. a script that does not compile) is not a record's
      // fault: retry, loudly, rather than skip anything.
      transient = true;
      detail = "prelude: " + rs[1 + i].ToError().message;
    }
  }
  size_t cursor = 0;
  for (size_t i = 0; i < n_cmds + n_meta; ++i) {
    const auto& r = rs[1 + n_pre + i];
    if (!r.IsError()) continue;
    auto err = r.ToError();
    if (IsTransient(err) || i >= n_cmds) {
      transient = true;
      detail = err.message;
      continue;
    }
    auto [b, e] = OwnersOf(records, cursor, i);
    for (size_t k = b; k < e; ++k) {
      MarkFailed(records[k], err.message);
      queue_rejected = true;
    }
  }
  const auto& exec = rs.back();
  if (transient) return {TxOutcome::kRetry, detail};
  if (exec.IsNil()) return {TxOutcome::kConflict, "WATCH fired: another writer moved a position"};
  if (exec.IsError()) {
    if (queue_rejected) return {TxOutcome::kQueueRejected, std::string(exec.str())};
    auto err = exec.ToError();
    return {IsTransient(err) ? TxOutcome::kRetry : TxOutcome::kBroken, err.message};
  }
  // Committed. Exec-time errors (WRONGTYPE, not an integer, ...) belong to single records; an
  // apply-script run answers the list of its records that failed (their outbox entries are
  // written). If the script itself stopped part way ({-slot, error} at the end of the list, or an
  // error reply when even its pcall could not answer, e.g. SCRIPT KILL) the records from that
  // slot on are marked aborted, never failed: they may not have run, yet the positions moved
  // past them in this same EXEC, so they are neither skipped silently nor dead-lettered: the
  // applier stops (Applier::Committed).
  auto abort_from = [&](size_t from, size_t end, std::string_view why) {
    for (size_t k = from; k < end; ++k) {
      records[k].aborted = true;
      records[k].outboxed = false;
      records[k].error = "apply script aborted: " + std::string(why);
    }
  };
  cursor = 0;
  for (size_t i = 0; i < n_cmds && n_pre + i < exec.size(); ++i) {
    auto e = exec.element(n_pre + i);
    auto [b, end] = OwnersOf(records, cursor, i);
    if (b == end) continue;
    if (records[b].slot > 0) {
      if (e.IsError()) {
        abort_from(b, end, e.str());
        continue;
      }
      for (size_t j = 0; j + 1 < e.size(); j += 2) {
        const int64_t slot = e.element(j).integer();
        if (slot <= -1 && static_cast<size_t>(-slot) <= end - b) {
          abort_from(b + static_cast<size_t>(-slot) - 1, end, e.element(j + 1).str());
        } else if (slot >= 1 && static_cast<size_t>(slot) <= end - b) {
          MarkFailed(records[b + static_cast<size_t>(slot) - 1], std::string(e.element(j + 1).str()));
        }
      }
      continue;
    }
    if (e.IsError()) MarkFailed(records[b], std::string(e.str()));
  }
  // The bookkeeping after the commands (positions, sources, stamp, outbox) cannot fail short of
  // a corrupted walrus: key (refused as ops); if it ever does, say so.
  for (size_t i = n_pre + n_cmds; i < exec.size(); ++i) {
    if (exec.element(i).IsError()) {
      Logger("apply")->error("bookkeeping command {} of a committed transaction failed: {}",
                             i - n_pre - n_cmds, exec.element(i).str());
    }
  }
  return {TxOutcome::kCommitted, {}};
}

TxResult FinishMulti(redis::Connection& conn, Transaction& tx) {
  AppendExec(conn, tx);
  return ReadExec(conn, tx);
}

TxResult RunTransaction(redis::Connection& conn, Transaction& tx, EpochFence& epoch) {
  if (TxResult fence = Fence(conn, tx, epoch); fence.outcome != TxOutcome::kCommitted) return fence;
  BeginMulti(conn, tx);
  tx.Seal();
  AppendCommands(conn, tx, 0);
  return FinishMulti(conn, tx);
}

}  // namespace walrus::apply
