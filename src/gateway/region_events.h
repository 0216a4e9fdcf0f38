#pragma once

// RegionEvents: the gateway's one consumer per region cluster. It reads every region's origin
// topic (`<r>.events`) as it exists in this region's Kafka — the region's own writes and what
// the mirrors brought in — and publishes each record as an SSE `op` event tagged with this
// region, so the dashboard sees an op arrive in its origin region, then in the others.
// Every stamp it sees is also Observe()d into this region's producer (causality: a write the
// gateway makes in this region after an op arrived here sorts after that op).
//
//   RegionEvents ev(cfg, *regions[i], all_topics, hub, probe, stop_flag);
//   std::thread t([&] { ev.Run(); });          // returns once stop_flag is set
//   ev.Ready();                                 // the region's own topic is assigned
//
// No consumer group: partitions are assigned explicitly (kafka::AssignConsumer) at the end
// offsets minus `events_lookback` records, read once with a watermark query, so a restart
// leaves nothing behind in the cluster and never replays old history by surprise. Topics that
// do not exist yet (not mirrored yet) are looked for again every few seconds and, being new, read
// from their beginning.
//
// Threading: Run() on one thread owns the consumer; Ready()/Detail() from any thread.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "client/op_producer.h"
#include "core/json_codec.h"
#include "gateway/arrival_dedup.h"
#include "gateway/event_hub.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_probe.h"
#include "gateway/region.h"
#include "kafka/assign_consumer.h"
#include "kafka/message.h"

namespace walrus::gateway {

class RegionEvents {
 public:
  // `origins`: every region's name (the topic of origin o is o + topic suffix).
  RegionEvents(const GatewayConfig& cfg, Region& region, std::vector<std::string> origins,
               EventHub& hub, GatewayProbe& probe, const std::atomic<bool>& stop);

  void Run();
  // A write of this region's own producer that Kafka acknowledged: shown at once as arriving
  // in this region (its origin), unless the consumer already read it back; the consumer then
  // skips it (ArrivalDedup). Any thread (the producer's delivery thread, HTTP workers).
  void PublishAcked(const Write& w, const client::Ack& ack);
  bool Ready() const { return ready_.load(); }
  std::string Detail() const;

  // The `op` event of one record seen in `region` (pure; exposed for tests). `origin_fallback`
  // is used when the record carries no origin. Long args are cut (see kMaxEventArgBytes).
  static std::string EventJson(const Write& w, std::string_view region, std::string_view topic,
                               int32_t partition, int64_t offset, int64_t ts_ms, int64_t seen_ms,
                               std::string_view origin_fallback);

  static constexpr size_t kMaxEventArgBytes = 256;
  static constexpr size_t kMaxEventArgs = 32;

 private:
  // Assigns topics that appeared since the last call; true when nothing is missing.
  bool AssignNewTopics(kafka::AssignConsumer& c);
  void Handle(const kafka::Message& m);
  void SetDetail(std::string d);

  const GatewayConfig& cfg_;
  Region& region_;
  const std::vector<std::string> origins_;
  EventHub& hub_;
  GatewayProbe& probe_;
  const std::atomic<bool>& stop_;
  JsonDecoder decoder_;  // Run()'s thread only
  std::map<std::string, std::string> origin_of_topic_;
  // Assigned partitions and the next offset to read (updated per record), for re-assignment.
  std::map<std::pair<std::string, int32_t>, int64_t> next_;
  ArrivalDedup dedup_{100000};
  std::atomic<bool> ready_{false};
  mutable std::mutex mu_;
  std::string detail_ = "starting";
};

}  // namespace walrus::gateway
