#pragma once

// Runs one Transaction against the Redis primary, atomically with the position updates:
//
//   WATCH pos_keys... walrus:epoch; MGET pos_keys... walrus:epoch
//        -> positions must equal what the applier expects, the epoch must not be older than the
//           newest one seen (EpochFence)
//   MULTI; <record commands>; SET pos_key next ...; [EVAL max-set walrus:hlc stamp];
//          [HSET walrus:outbox:<t>:<p> ...]; [HDEL walrus:outbox:<t>:<p> ...]; EXEC
//
// Dead letters are as durable as the effects (outbox.h): refusals are HSET into the outbox here;
// exec-time rejections are written by the apply script (plain) or the merge script (crdt).
//
// WATCH fences a second applier that believes it owns the same partition (a zombie after a
// rebalance): whichever EXEC comes second is discarded, so no record is applied twice. It also
// fences an election that changes walrus:epoch between the check and EXEC.
// Applier thread only.

#include <string>

#include "apply/epoch_fence.h"
#include "apply/transaction.h"
#include "core/result.h"
#include "protocol/redis_keys.h"
#include "redis/connection.h"

namespace walrus::apply {

// Active-active: the highest record HLC (core/hlc.h text) applied to this Redis, written in the
// same MULTI/EXEC as the records (max-set). `walrus produce --observe-redis` reads it so a write
// made after seeing remote writes gets a larger stamp than theirs.
inline constexpr std::string_view kHlcKey = protocol::kHlcKey;

enum class TxOutcome {
  kCommitted,       // effects and positions are in Redis; failed records are marked in tx
  kConflict,        // positions in Redis differ from ours, or WATCH fired: resync, drop the tx
  kRetry,           // transient refusal (LOADING, READONLY, OOM, ...): nothing applied; back off
  kBroken,          // connection failed: unknown whether EXEC ran; reconnect and resync
  kQueueRejected,   // some records refused at queue time (EXECABORT): drop them, run again
  kStaleEpoch,      // walrus:epoch is older than the newest seen: a deposed primary; nothing
                    // applied, find the primary again after a backoff
};

struct TxResult {
  TxOutcome outcome;
  std::string detail;
};

// The whole exchange, synchronously: Fence, BeginMulti, AppendCommands(0), FinishMulti.
TxResult RunTransaction(redis::Connection& conn, Transaction& tx, EpochFence& epoch);

// The same in steps, so a caller can stream commands to Redis while it is still planning them
// (Redis parses and queues them meanwhile), and queue a batch behind the previous one's EXEC
// before reading that EXEC's replies (pipelining across batches). Replies are read in the order
// the commands were appended:
//
//   AppendFence(b2); BeginMulti(b2); AppendCommands(b2)...   // behind b1's EXEC
//   ReadExec(b1);                                            // b1's outcome
//   ReadFence(b2);  -> kCommitted: AppendExec(b2), Flush;  else: DISCARD, read the rest
//
// AppendFence: WATCH + MGET of the positions and walrus:epoch. ReadFence reads those two
// replies: kCommitted when the positions match and `epoch` accepts the Redis' walrus:epoch
// (remembering a newer one); it leaves the keys WATCHed either way (DISCARD or UNWATCH them).
void AppendFence(redis::Connection& conn, const Transaction& tx);
TxResult ReadFence(redis::Connection& conn, const Transaction& tx, EpochFence& epoch);
// AppendFence + ReadFence, UNWATCH on failure.
TxResult Fence(redis::Connection& conn, const Transaction& tx, EpochFence& epoch);
void BeginMulti(redis::Connection& conn, const Transaction& tx);
// Appends tx.commands()[from, end) to the connection's buffer.
void AppendCommands(redis::Connection& conn, const Transaction& tx, size_t from);
// Appends the position/source SETs (and the walrus:hlc max-set when tx.max_stamp() is set), the
// dead-letter outbox HSETs/HDELs (Transaction::BuildTail) and EXEC. Precondition: every command
// was appended (call tx.Seal() before the last AppendCommands).
void AppendExec(redis::Connection& conn, Transaction& tx);
// Reads the replies from MULTI to EXEC and classifies the outcome; marks failed records.
TxResult ReadExec(redis::Connection& conn, Transaction& tx);
// AppendExec + ReadExec.
TxResult FinishMulti(redis::Connection& conn, Transaction& tx);

}  // namespace walrus::apply
