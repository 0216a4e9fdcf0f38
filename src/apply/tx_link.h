#pragma once

// TxLink: what InflightBatch needs of the Redis connection to settle a transaction whose EXEC was
// sent. RedisSession implements it on the real connection; unit tests use a fake that scripts
// the outcomes (inflight_batch_test.cc).
//
// Applier thread only.

#include "apply/transaction.h"
#include "apply/tx_runner.h"
#include "core/result.h"

namespace walrus::apply {

class TxLink {
 public:
  virtual ~TxLink() = default;
  // True while there is a connection (possibly broken: its calls then fail as kBroken).
  virtual bool connected() const = 0;
  // Reads the replies from MULTI to EXEC of `tx` (apply::ReadExec). Precondition: connected().
  virtual TxResult ReadExec(Transaction& tx) = 0;
  // Runs `tx` again, synchronously, fence included (apply::RunTransaction). Precondition:
  // connected() and nothing queued on the connection.
  virtual TxResult Rerun(Transaction& tx) = 0;
  // DISCARDs whatever is queued on the connection and reads every pending reply. An error:
  // the connection failed (the caller drops it). Precondition: connected().
  virtual Status Discard() = 0;
};

}  // namespace walrus::apply
