#include "apply/transaction.h"

#include <cassert>

namespace walrus::apply {

void Transaction::Clear() {
  commands_.clear();
  records_.clear();
  advances_.clear();
  sources_.clear();
  max_stamp_.clear();
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
}

void Transaction::AbortRecord() {
  assert(!records_.empty());
  commands_.resize(records_.back().first_cmd);
  records_.pop_back();
}

void Transaction::DropFailedCommands() {
  std::vector<Argv> kept;
  kept.reserve(commands_.size());
  for (auto& r : records_) {
    const size_t first = kept.size();
    if (!r.failed) {
      for (size_t i = 0; i < r.n_cmds; ++i) kept.push_back(std::move(commands_[r.first_cmd + i]));
    }
    r.first_cmd = first;
    if (r.failed) r.n_cmds = 0;
  }
  commands_ = std::move(kept);
}

}  // namespace walrus::apply
