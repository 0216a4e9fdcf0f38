#include "http/server_probe.h"

namespace walrus::http {

ServerProbe::ServerProbe(metrics::Registry& r, const std::string& p)
    : connections(r.Gauge(p + "_connections", "Open HTTP connections").Add({})),
      refused(r.Counter(p + "_connections_refused_total",
                        "Connections over the connection cap: answered 503 and closed")
                  .Add({})),
      evicted(r.Counter(p + "_connections_evicted_total",
                        "Connections closed at the cap to make room: the one that waited longest "
                        "for a request")
                  .Add({})),
      streams(r.Gauge(p + "_streams", "Open streaming responses (SSE)").Add({})),
      stream_overflows(r.Counter(p + "_stream_overflows_total",
                                 "Streams dropped because the client stopped reading")
                           .Add({})) {
  auto& rej = r.Counter(p + "_rejected_total", "Requests refused by the HTTP server itself");
  for (int s : {400, 408, 413, 414, 417, 431, 505}) {
    rejected_[s] = &rej.Add({{"status", std::to_string(s)}});
  }
  auto& to = r.Counter(p + "_timeouts_total", "Connections closed by a deadline, by phase");
  for (const char* ph : {"header", "body", "write"}) timeouts_[ph] = &to.Add({{"phase", ph}});
  auto& busy = r.Counter(p + "_busy_total", "Requests answered 503: the lane's queue was full");
  for (const char* l : {"worker", "reserved"}) busy_[l] = &busy.Add({{"lane", l}});
}

void ServerProbe::Rejected(int status) {
  if (auto it = rejected_.find(status); it != rejected_.end()) it->second->Increment();
}

void ServerProbe::Timeout(const std::string& phase) {
  if (auto it = timeouts_.find(phase); it != timeouts_.end()) it->second->Increment();
}

void ServerProbe::Busy(const std::string& lane) {
  if (auto it = busy_.find(lane); it != busy_.end()) it->second->Increment();
}

}  // namespace walrus::http
