#pragma once

// Metrics of `walrus apply`, exported on the admin port's /metrics. Created once by the applier;
// counters are updated from the applier thread, read by the HTTP thread (prometheus-cpp types
// are thread-safe).

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <memory>
#include <string>

#include "metrics/registry.h"

namespace walrus::apply {

struct ApplyProbe {
  explicit ApplyProbe(metrics::Registry& reg);

  prometheus::Counter& applied;       // records whose effects landed
  prometheus::Counter& duplicates;    // records skipped: already in Redis
  prometheus::Counter& discarded;     // records dropped while a partition was resyncing
  prometheus::Family<prometheus::Counter>& dlq;  // by reason: decode, refused, rejected
  prometheus::Counter& dlq_failures;  // DLQ produce failures (retried)
  prometheus::Histogram& batch_ops;
  prometheus::Histogram& batch_seconds;
  prometheus::Counter& transactions;
  prometheus::Counter& conflicts;     // position fence fired: another writer or an older dataset
  prometheus::Counter& retries;       // transient Redis refusals
  prometheus::Counter& redis_reconnects;
  prometheus::Gauge& redis_up;
  prometheus::Gauge& assigned_partitions;
  prometheus::Family<prometheus::Gauge>& lag;       // {topic, partition}
  prometheus::Family<prometheus::Gauge>& position;  // {topic, partition}
  prometheus::Gauge& last_apply_timestamp;  // unix seconds of the last committed transaction

  prometheus::Counter& Dlq(const std::string& reason) { return dlq.Add({{"reason", reason}}); }
};

}  // namespace walrus::apply
