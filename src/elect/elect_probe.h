#pragma once

// ElectProbe: the metrics of `walrus elect`, exported on the admin port's /metrics.
//
//   walrus_elect_is_leader                     1 while this node holds the lease and leads
//   walrus_elect_epoch                         epoch of the leader this node knows (its own if
//   leader) walrus_elect_campaigns_total               attempts to take a free lease
//   walrus_elect_elections_total               campaigns won (this node became leader)
//   walrus_elect_leader_changes_total          changes of the leader observed
//   walrus_elect_stepdowns_total{reason}       leadership given up: lease_lost, renew_timeout,
//                                              redis_down, redis_restarted, redis_demoted, guard,
//                                              promote_failed, shutdown
//   walrus_elect_lease_renew_seconds           latency of successful renewals (histogram)
//   walrus_elect_lease_renew_failures_total    renewals that failed (transient or lost)
//   walrus_elect_replicaof_total               REPLICAOF issued to re-point the local Redis
//   walrus_elect_fenced_total                  times the local Redis was demoted by the sidecar
//   walrus_elect_redis_up                      local Redis answered the last probe
//   walrus_elect_replication_lag_bytes         follower: leader offset - local replica offset
//   walrus_elect_proxy_connections             client connections open through the proxy
//   walrus_elect_proxy_accepted_total          client connections accepted
//   walrus_elect_proxy_dropped_total           connections closed because the leader changed
//   walrus_elect_proxy_bytes_total             bytes forwarded (both directions)
//
// Thread-safe (prometheus-cpp metrics are atomic): the elector and proxy threads update it, the
// admin server reads it.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <string>

#include "metrics/registry.h"

namespace walrus::elect {

struct ElectProbe {
  explicit ElectProbe(metrics::Registry& r);

  prometheus::Counter& StepDown(const std::string& reason) {
    return stepdowns.Add({{"reason", reason}});
  }

  prometheus::Gauge& is_leader;
  prometheus::Gauge& epoch;
  prometheus::Counter& campaigns;
  prometheus::Counter& elections;
  prometheus::Counter& leader_changes;
  prometheus::Family<prometheus::Counter>& stepdowns;
  prometheus::Histogram& renew_seconds;
  prometheus::Counter& renew_failures;
  prometheus::Counter& replicaof;
  prometheus::Counter& fenced;
  prometheus::Gauge& redis_up;
  prometheus::Gauge& lag_bytes;
  prometheus::Gauge& proxy_connections;
  prometheus::Counter& proxy_accepted;
  prometheus::Counter& proxy_dropped;
  prometheus::Counter& proxy_bytes;
};

}  // namespace walrus::elect
