#pragma once

// ServerProbe: http::Server's metrics, under a prefix chosen by the service (the gateway uses
// "walrus_gateway_http"):
//
//   <prefix>_connections                        open connections
//   <prefix>_connections_refused_total          accepted over --max-connections: 503 and closed
//   <prefix>_connections_evicted_total          closed at the cap to make room: the connection
//                                               that waited longest for a request
//   <prefix>_timeouts_total{phase}              closed by a deadline: header, body, write
//   <prefix>_rejected_total{status}             requests refused by the server itself
//                                               (400 framing, 408, 413, 414, 417, 431, 505)
//   <prefix>_busy_total{lane}                   503: the lane's worker queue was full
//   <prefix>_streams                            open streams (SSE)
//   <prefix>_stream_overflows_total             streams dropped: the client stopped reading and
//                                               the bytes waiting for it passed the bound
//
// Thread-safe (atomic metrics; the per-status map is filled at construction).

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <map>
#include <string>

#include "metrics/registry.h"

namespace walrus::http {

class ServerProbe {
 public:
  ServerProbe(metrics::Registry& r, const std::string& prefix);

  void Rejected(int status);
  void Timeout(const std::string& phase);
  void Busy(const std::string& lane);

  prometheus::Gauge& connections;
  prometheus::Counter& refused;
  prometheus::Counter& evicted;
  prometheus::Gauge& streams;
  prometheus::Counter& stream_overflows;

 private:
  std::map<int, prometheus::Counter*> rejected_;
  std::map<std::string, prometheus::Counter*> timeouts_;
  std::map<std::string, prometheus::Counter*> busy_;
};

}  // namespace walrus::http
