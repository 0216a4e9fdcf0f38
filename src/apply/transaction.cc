#include "apply/transaction.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <iterator>

#include <fmt/format.h>

#include "apply/outbox.h"
#include "apply/partition_state.h"
#include "core/clock.h"

namespace walrus::apply {
namespace {

// Records per apply-script run: bounds one script's run time (a run of 1024 INCRs takes well
// under a millisecond; lua-time-limit is 5 s) and keeps the batch streaming.
constexpr uint32_t kRunMaxRecords = 1024;

}  // namespace

Transaction::Transaction() : wall_ms_(WallNowMs()) {}

void Transaction::set_guard(Guard g, std::string atomic_sha) {
  guard_ = g;
  atomic_sha_ = std::move(atomic_sha);
}

void Transaction::Clear() {
  commands_.clear();
  records_.clear();
  refusals_.clear();
  clears_.clear();
  advances_.clear();
  sources_.clear();
  max_stamp_.clear();
  tail_.clear();
  run_keys_.clear();
  run_coords_.clear();
  run_args_.clear();
  run_records_ = 0;
  group_at_ = std::string::npos;
  wall_ms_ = WallNowMs();
}

void Transaction::NoteSource(PartitionState* part, std::string_view key, int64_t offset) {
  for (auto& s : sources_) {
    if (s.key == key) {
      s.offset = offset;
      return;
    }
  }
  sources_.push_back({part, std::string(key), offset});
}

int64_t Transaction::PendingSource(std::string_view key) const {
  for (const auto& s : sources_) {
    if (s.key == key) return s.offset;
  }
  return -1;
}

void Transaction::Touch(PartitionState* part, int64_t expected_before, int64_t offset) {
  for (auto& a : advances_) {
    if (a.part == part) {
      a.next = offset + 1;
      return;
    }
  }
  advances_.push_back({part, expected_before, offset + 1});
}

void Transaction::BeginRecord(PartitionState* part, size_t msg_index, int64_t offset) {
  records_.push_back({part, msg_index, offset, commands_.size(), 0});
}

void Transaction::EndRecord() {
  assert(!records_.empty());
  auto& r = records_.back();
  r.n_cmds = commands_.size() - r.first_cmd;
  if (guard_ == Guard::kMergeScript) {
    GuardMergeCalls(r);
    return;
  }
  if (guard_ != Guard::kApplyScript || r.n_cmds == 0) return;
  bool native = true;
  size_t args = 0;
  for (size_t i = r.first_cmd; i < commands_.size(); ++i) {
    native = native && CannotFailAtExec(commands_[i]);
    args += commands_[i].size();
  }
  if (!native && args <= kMaxScriptedArgs) {
    AddToRun(r);
    return;
  }
  SealBefore(r);
}

void Transaction::SealBefore(RecordSpan& r) {
  if (run_records_ == 0) return;
  // The open run precedes record `r` (the last one): seal it in front of r's commands.
  std::vector<Argv> mine(std::make_move_iterator(commands_.begin() + r.first_cmd),
                         std::make_move_iterator(commands_.end()));
  commands_.resize(r.first_cmd);
  Seal();
  r.first_cmd = commands_.size();
  for (auto& c : mine) commands_.push_back(std::move(c));
}

void Transaction::AddToRun(RecordSpan& r) {
  const std::string& key = OutboxKeyOf(r.part);
  size_t kidx = 0;
  while (kidx < run_keys_.size() && run_keys_[kidx] != key) ++kidx;
  if (kidx == run_keys_.size()) {
    if (run_keys_.size() == kMaxRunKeys) {
      SealBefore(r);
      kidx = 0;
    }
    run_keys_.push_back(key);
  }
  char coord[kCoordWidth + 1];
  coord[0] = static_cast<char>(kidx + 1);
  fmt::format_to(coord + 1, "{:020d}", r.offset);
  run_coords_.append(coord, kCoordWidth);

  const size_t first = r.first_cmd;
  auto& c0 = commands_[first];
  if (r.n_cmds == 1 && !(c0.size() >= 3 && c0[0] == "EVALSHA" && c0[1] == atomic_sha_)) {
    const size_t argc = c0.size() - 1;
    if (group_at_ == std::string::npos || group_argc_ != argc || run_args_[group_at_ + 2] != c0[0]) {
      CloseGroup();
      group_at_ = run_args_.size();
      group_count_ = 0;
      group_argc_ = argc;
      run_args_.emplace_back();
      run_args_.push_back(std::to_string(argc));
      run_args_.push_back(std::move(c0[0]));
    }
    ++group_count_;
    for (size_t j = 1; j < c0.size(); ++j) run_args_.push_back(std::move(c0[j]));
  } else {
    CloseGroup();
    run_args_.push_back("1");
    run_args_.push_back("-1");
    if (r.n_cmds == 1) {
      // PlainPlanner's all-or-nothing call: its ARGV layout is the record layout of the script.
      for (size_t j = 2; j < c0.size(); ++j) run_args_.push_back(std::move(c0[j]));
    } else {
      std::vector<std::string_view> keys;
      for (size_t i = first; i < first + r.n_cmds; ++i) {
        const auto& c = commands_[i];
        if (c.size() >= 2 && std::find(keys.begin(), keys.end(), c[1]) == keys.end()) {
          keys.push_back(c[1]);
        }
      }
      run_args_.push_back(std::to_string(keys.size()));
      for (auto k : keys) run_args_.emplace_back(k);
      run_args_.push_back(std::to_string(r.n_cmds));
      for (size_t i = first; i < first + r.n_cmds; ++i) {
        auto& c = commands_[i];
        run_args_.push_back(std::to_string(c.size()));
        for (auto& a : c) run_args_.push_back(std::move(a));
      }
    }
  }
  commands_.resize(first);
  r.n_cmds = 0;
  r.slot = ++run_records_;
  r.outboxed = true;
  if (run_records_ >= kRunMaxRecords) Seal();
}

void Transaction::CloseGroup() {
  if (group_at_ == std::string::npos) return;
  run_args_[group_at_] = std::to_string(group_count_);
  group_at_ = std::string::npos;
}

void Transaction::Seal() {
  if (run_records_ == 0) return;
  CloseGroup();
  Argv call;
  call.reserve(5 + run_keys_.size() + run_args_.size());
  call.push_back("EVALSHA");
  call.push_back(ApplyScriptSha1());
  call.push_back(std::to_string(run_keys_.size()));
  for (auto& k : run_keys_) call.push_back(std::move(k));
  call.push_back(std::to_string(wall_ms_));
  call.push_back(std::move(run_coords_));
  for (auto& a : run_args_) call.push_back(std::move(a));
  commands_.push_back(std::move(call));
  run_keys_.clear();
  run_coords_.clear();
  run_args_.clear();
  run_records_ = 0;
}

void Transaction::GuardMergeCalls(RecordSpan& r) {
  bool all = r.n_cmds > 0;
  for (size_t i = r.first_cmd; i < r.first_cmd + r.n_cmds; ++i) {
    auto& c = commands_[i];
    if (c.size() < 6 || c[0] != "EVALSHA" || c[2] != "3") {
      all = false;
      continue;
    }
    c[2] = "4";
    c.insert(c.begin() + 6, OutboxKeyOf(r.part));
    c.push_back(std::to_string(r.offset));
    c.push_back(std::to_string(wall_ms_) + "|rejected|");
  }
  r.outboxed = all;
}

void Transaction::AbortRecord() {
  assert(!records_.empty());
  commands_.resize(records_.back().first_cmd);
  records_.pop_back();
}

void Transaction::Refuse(PartitionState* part, size_t msg_index, int64_t offset,
                         std::string category, std::string reason) {
  refusals_.push_back({part, msg_index, offset, std::move(category), std::move(reason)});
}

const std::string& Transaction::OutboxKeyOf(PartitionState* part) {
  if (part->outbox_key.empty()) part->outbox_key = OutboxKey(part->topic, part->partition);
  return part->outbox_key;
}

void Transaction::DropFailedCommands() {
  Seal();
  std::vector<Argv> kept;
  kept.reserve(commands_.size());
  std::vector<RecordSpan> left;
  left.reserve(records_.size());
  size_t run_src = SIZE_MAX, run_dst = 0;
  for (auto& r : records_) {
    if (r.failed) {
      refusals_.push_back({r.part, r.msg_index, r.offset, "rejected", std::move(r.error)});
      continue;
    }
    if (r.slot > 0) {
      if (r.first_cmd != run_src) {
        run_src = r.first_cmd;
        run_dst = kept.size();
        kept.push_back(std::move(commands_[r.first_cmd]));
      }
      r.first_cmd = run_dst;
    } else {
      const size_t first = kept.size();
      for (size_t i = 0; i < r.n_cmds; ++i) kept.push_back(std::move(commands_[r.first_cmd + i]));
      r.first_cmd = first;
    }
    left.push_back(std::move(r));
  }
  commands_ = std::move(kept);
  records_ = std::move(left);
}

void Transaction::BuildTail() {
  tail_.clear();
  std::vector<PartitionState*> parts;
  for (const auto& f : refusals_) {
    if (std::find(parts.begin(), parts.end(), f.part) == parts.end()) parts.push_back(f.part);
  }
  for (auto* p : parts) {
    Argv hset{"HSET", OutboxKeyOf(p)};
    for (const auto& f : refusals_) {
      if (f.part != p) continue;
      hset.push_back(std::to_string(f.offset));
      hset.push_back(EncodeOutboxValue(wall_ms_, f.category, f.reason));
    }
    tail_.push_back(std::move(hset));
  }
  std::vector<std::string_view> keys;
  for (const auto& [k, off] : clears_) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  for (auto k : keys) {
    Argv hdel{"HDEL", std::string(k)};
    for (const auto& [k2, off] : clears_) {
      if (k2 == k) hdel.push_back(std::to_string(off));
    }
    tail_.push_back(std::move(hdel));
  }
}

}  // namespace walrus::apply
