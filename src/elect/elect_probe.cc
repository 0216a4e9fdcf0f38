#include "elect/elect_probe.h"

namespace walrus::elect {

ElectProbe::ElectProbe(metrics::Registry& r)
    : is_leader(r.Gauge("walrus_elect_is_leader", "1 while this node leads").Add({})),
      epoch(r.Gauge("walrus_elect_epoch", "Epoch of the leader this node knows").Add({})),
      campaigns(r.Counter("walrus_elect_campaigns_total", "Attempts to take a free lease").Add({})),
      elections(r.Counter("walrus_elect_elections_total", "Campaigns won").Add({})),
      leader_changes(
          r.Counter("walrus_elect_leader_changes_total", "Leader changes observed").Add({})),
      stepdowns(r.Counter("walrus_elect_stepdowns_total", "Leadership given up, by reason")),
      renew_seconds(r.Histogram("walrus_elect_lease_renew_seconds", "Lease renewal latency")
                        .Add({}, metrics::LatencyBucketsSeconds())),
      renew_failures(
          r.Counter("walrus_elect_lease_renew_failures_total", "Failed lease renewals").Add({})),
      replicaof(
          r.Counter("walrus_elect_replicaof_total", "REPLICAOF issued to the local Redis").Add({})),
      fenced(r.Counter("walrus_elect_fenced_total", "Local Redis demoted by the sidecar").Add({})),
      redis_up(r.Gauge("walrus_elect_redis_up", "Local Redis answered the last probe").Add({})),
      lag_bytes(r.Gauge("walrus_elect_replication_lag_bytes",
                        "Follower: leader offset minus local replica offset")
                    .Add({})),
      proxy_connections(
          r.Gauge("walrus_elect_proxy_connections", "Client connections through the proxy")
              .Add({})),
      proxy_accepted(
          r.Counter("walrus_elect_proxy_accepted_total", "Proxy connections accepted").Add({})),
      proxy_dropped(r.Counter("walrus_elect_proxy_dropped_total",
                              "Proxy connections closed because the leader changed")
                        .Add({})),
      proxy_bytes(
          r.Counter("walrus_elect_proxy_bytes_total", "Bytes forwarded by the proxy").Add({})) {}

}  // namespace walrus::elect
