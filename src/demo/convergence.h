#pragma once

// Convergence: decides whether the three regions ended identical, the way a scenario asserts it.
//
//   Convergence conv(sys, traffic, console);
//   int code = conv.Check(45s);     // 0 converged, 1 not converged, 2 could not check
//
// 1. Fences: from every region R, one SET demo:fence:R:<n> = <round token> per partition of
//    R.events (the key is picked so it lands in that partition). Ops of a partition are applied
//    in log order everywhere (mirror and applier keep partition order), so once a region holds
//    every fence of every origin, it has applied everything written before them. Waits up to
//    the settle timeout for every region to hold every fence (a region whose fence could not be
//    written, e.g. its Kafka is down, is reported and waited for no further).
// 2. `walrus verify` (a child of the same binary) over the three Redis: values, expiries and
//    crdt sidecars; retried for up to ~3 s while it reports differences, since a gateway
//    simulator may have had a few writes in flight when it was stopped.
// 3. Counters: every counter key the scenario wrote through Traffic must hold exactly the sum of
//    its acknowledged deltas in every region (kCounterKey is printed).
//
// Threading: the main thread.

#include <chrono>
#include <set>
#include <string>
#include <utility>

#include "core/result.h"
#include "demo/console.h"
#include "demo/system.h"
#include "demo/traffic.h"

namespace walrus::demo {

class Convergence {
 public:
  Convergence(DemoSystem& sys, Traffic& traffic, Console& console)
      : sys_(sys), traffic_(traffic), console_(console) {}

  int Check(std::chrono::seconds settle_timeout);
  // Also print this counter's values (kCounterKey and wrong ones are always printed).
  void Highlight(std::string key) { highlight_.insert(std::move(key)); }
  // One `walrus verify` run: its exit code (0 identical, 1 divergent, 2 error) and output.
  Result<std::pair<int, std::string>> Verify();

 private:
  // The fence key of `region` for `partition`: demo:fence:<region>:<n>, first n that routes there.
  std::string FenceKey(const std::string& region, int partition) const;
  // Waits until every region holds `token` in every fence of `origins`; reports missing ones.
  bool WaitFences(const std::vector<std::string>& origins, const std::string& token,
                  std::chrono::seconds timeout);
  bool CheckCounters();

  DemoSystem& sys_;
  Traffic& traffic_;
  Console& console_;
  std::set<std::string> highlight_;
  int round_ = 0;
  int verify_runs_ = 0;
};

}  // namespace walrus::demo
