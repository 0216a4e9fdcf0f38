#pragma once

// Transaction: the Redis commands of one applier batch, and which Kafka record produced which
// commands, so that EXEC's per-command replies can be mapped back to records (for the DLQ) and
// the per-partition positions can be written in the same MULTI/EXEC as the effects.
//
// Owned and used by the applier thread only.
//
//   Transaction tx;
//   tx.BeginRecord(part, msg_index, offset);
//   PlanOp(op, ts, tx.commands());           // appends the record's commands
//   tx.EndRecord();
//   ... then RedisTxRunner::Run(conn, tx)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/planner.h"
#include "redis/reply.h"

namespace walrus::apply {

struct PartitionState;

class Transaction {
 public:
  struct RecordSpan {
    PartitionState* part;
    size_t msg_index;   // index into the polled batch (for the DLQ)
    int64_t offset;
    size_t first_cmd;   // commands_[first_cmd, first_cmd + n_cmds)
    size_t n_cmds;
    bool failed = false;  // rejected by Redis (queue time or exec time)
    std::string error;    // Redis' error text when failed
  };
  // A partition touched by this transaction, with the position to store on success.
  struct Advance {
    PartitionState* part;
    int64_t expected;   // position stored in Redis before this transaction (checked under WATCH)
    int64_t next;       // position stored by this transaction
  };

  // A mirrored record's source stream advanced to `offset` (stored with the positions).
  struct SourceAdvance {
    PartitionState* part;
    std::string key;
    int64_t offset;
  };

  void Clear();
  bool empty() const { return advances_.empty(); }

  // Marks `offset` of `part` as consumed by this transaction (whether or not it has commands).
  void Touch(PartitionState* part, int64_t expected_before, int64_t offset);
  void BeginRecord(PartitionState* part, size_t msg_index, int64_t offset);
  void EndRecord();
  // Drops the commands of the last begun record (it failed to plan).
  void AbortRecord();

  // Commands run first inside every MULTI (e.g. SCRIPT LOAD of the merge scripts). Survives Clear().
  void set_prelude(std::vector<Argv> prelude) { prelude_ = std::move(prelude); }
  const std::vector<Argv>& prelude() const { return prelude_; }

  std::vector<Argv>& commands() { return commands_; }
  const std::vector<Argv>& commands() const { return commands_; }
  std::vector<RecordSpan>& records() { return records_; }
  const std::vector<Advance>& advances() const { return advances_; }
  void NoteSource(PartitionState* part, std::string_view key, int64_t offset);
  // The offset this transaction already advanced `key` to, or -1.
  int64_t PendingSource(std::string_view key) const;
  const std::vector<SourceAdvance>& sources() const { return sources_; }
  // Active-active: the record's HLC text (core/hlc.h, fixed width). The transaction stores the
  // highest one in walrus:hlc (max-set, so several appliers may share a Redis).
  void NoteStamp(std::string_view hlc) {
    if (hlc > max_stamp_) max_stamp_.assign(hlc);
  }
  // The highest stamp noted; empty if none.
  const std::string& max_stamp() const { return max_stamp_; }
  size_t command_count() const { return commands_.size(); }

  // Rebuilds the command list without the records marked failed (after a queue-time rejection).
  void DropFailedCommands();

  // Storage for the EXEC replies (ReadExec), kept across batches to reuse its capacity.
  std::vector<redis::Reply>& replies() { return replies_; }

 private:
  std::vector<Argv> prelude_;
  std::vector<Argv> commands_;
  std::vector<RecordSpan> records_;
  std::vector<Advance> advances_;
  std::vector<SourceAdvance> sources_;
  std::string max_stamp_;
  std::vector<redis::Reply> replies_;
};

}  // namespace walrus::apply
