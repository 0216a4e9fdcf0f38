#pragma once

// Transaction: the Redis commands of one applier batch, and which Kafka record produced which
// commands, so that EXEC's replies can be mapped back to records (for the DLQ) and the
// per-partition positions can be written in the same MULTI/EXEC as the effects. It also carries
// the batch's dead-letter outbox writes (outbox.h) and the HDELs of entries already in the DLQ.
//
// Owned and used by the applier thread only.
//
//   Transaction tx;
//   tx.set_guard(Transaction::Guard::kApplyScript, atomic_sha);   // plain mode (once)
//   tx.BeginRecord(part, msg_index, offset);
//   PlanOp(op, ts, tx.commands());           // appends the record's commands
//   tx.EndRecord();
//   tx.Refuse(part, msg_index, offset, "decode", why);   // a record refused before Redis
//   ... then RunTransaction(conn, tx, epoch)
//
// Guards (how an exec-time rejection reaches the outbox atomically with the effects):
//   kNone         commands as planned; rejections are only known from the EXEC reply (tests)
//   kApplyScript  plain mode: runs of records that can fail are folded into one EVALSHA of the
//                 apply script per run (EndRecord); commands that cannot fail stay native
//   kMergeScript  crdt mode: every merge-script EVALSHA gets the outbox key (KEYS[4]) and the
//                 record's outbox field and value prefix (last two ARGV)

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/planner.h"
#include "redis/reply.h"

namespace walrus::apply {

struct PartitionState;

class Transaction {
 public:
  enum class Guard { kNone, kApplyScript, kMergeScript };

  struct RecordSpan {
    PartitionState* part;
    size_t msg_index;   // index into the polled batch (for the DLQ)
    int64_t offset;
    size_t first_cmd;   // commands_[first_cmd, first_cmd + n_cmds); a scripted record: its run
    size_t n_cmds;
    bool failed = false;  // rejected by Redis (queue time or exec time)
    std::string error;    // Redis' error text when failed
    uint32_t slot = 0;    // 1-based place in the apply-script run commands_[first_cmd]; 0: none
    bool outboxed = false;  // its outbox entry is written by the transaction (script or HSET)
    // The apply script stopped at or before this record (a Lua error, SCRIPT KILL): the record
    // may not have run although the transaction committed. Never a dead letter (failed stays
    // false); the applier stops (Applier::Committed). `error` says why.
    bool aborted = false;
  };
  // A record refused before Redis (decode error, refused command, queue-time rejection): no
  // effects, an outbox entry written with the positions.
  struct Refusal {
    PartitionState* part;
    size_t msg_index;
    int64_t offset;
    std::string category;
    std::string reason;
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

  Transaction();

  // Forgets the batch (not the prelude, guard or reply storage); takes a new wall time.
  void Clear();
  bool empty() const { return advances_.empty(); }

  // Survives Clear(). `atomic_sha`: SHA1 of PlainPlanner's all-or-nothing script (kApplyScript).
  void set_guard(Guard g, std::string atomic_sha = {});
  Guard guard() const { return guard_; }

  // Marks `offset` of `part` as consumed by this transaction (whether or not it has commands).
  void Touch(PartitionState* part, int64_t expected_before, int64_t offset);
  void BeginRecord(PartitionState* part, size_t msg_index, int64_t offset);
  void EndRecord();
  // Drops the commands of the last begun record (it failed to plan).
  void AbortRecord();
  // A record refused before Redis (Touch it too): goes to the outbox in this transaction.
  void Refuse(PartitionState* part, size_t msg_index, int64_t offset, std::string category,
              std::string reason);
  // Deletes an outbox entry (already acknowledged by the DLQ) in this transaction.
  void ClearOutbox(std::string key, int64_t offset) { clears_.emplace_back(std::move(key), offset); }
  const std::vector<std::pair<std::string, int64_t>>& clears() const { return clears_; }
  // Closes the open apply-script run (EndRecord opens one): commands() is complete after it.
  void Seal();
  bool sealed() const { return run_records_ == 0; }

  // Commands run first inside every MULTI (e.g. SCRIPT LOAD of the merge scripts). Survives Clear().
  void set_prelude(std::vector<Argv> prelude) { prelude_ = std::move(prelude); }
  const std::vector<Argv>& prelude() const { return prelude_; }

  std::vector<Argv>& commands() { return commands_; }
  const std::vector<Argv>& commands() const { return commands_; }
  std::vector<RecordSpan>& records() { return records_; }
  const std::vector<RecordSpan>& records() const { return records_; }
  const std::vector<Refusal>& refusals() const { return refusals_; }
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
  int64_t wall_ms() const { return wall_ms_; }

  // Rebuilds the command list without the records marked failed (after a queue-time
  // rejection); they become refusals (category "rejected").
  void DropFailedCommands();

  // The outbox writes (HSET of the refusals per partition) and HDELs, sent after the positions.
  // Built by tx_runner's AppendExec; read by ReadExec.
  std::vector<Argv>& tail() { return tail_; }
  void BuildTail();

  // Storage for the EXEC replies (ReadExec), kept across batches to reuse its capacity.
  std::vector<redis::Reply>& replies() { return replies_; }

 private:
  void AddToRun(RecordSpan& r);
  void CloseGroup();
  void SealBefore(RecordSpan& r);
  void GuardMergeCalls(RecordSpan& r);
  const std::string& OutboxKeyOf(PartitionState* part);

  Guard guard_ = Guard::kNone;
  std::string atomic_sha_;
  std::vector<Argv> prelude_;
  std::vector<Argv> commands_;
  std::vector<RecordSpan> records_;
  std::vector<Refusal> refusals_;
  std::vector<std::pair<std::string, int64_t>> clears_;
  std::vector<Advance> advances_;
  std::vector<SourceAdvance> sources_;
  std::string max_stamp_;
  std::vector<Argv> tail_;
  std::vector<redis::Reply> replies_;
  int64_t wall_ms_ = 0;
  // The open apply-script run (outbox.h has the layout): its outbox keys, packed coordinates,
  // ARGV groups, and the open group (index of its count in run_args_, or npos).
  std::vector<std::string> run_keys_;
  std::string run_coords_;
  std::vector<std::string> run_args_;
  uint32_t run_records_ = 0;
  size_t group_at_ = std::string::npos;
  size_t group_count_ = 0;
  size_t group_argc_ = 0;
};

}  // namespace walrus::apply
