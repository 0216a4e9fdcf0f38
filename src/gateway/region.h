#pragma once

// Region: what the gateway holds per region — the region's OpProducer (origin = the region,
// stamping HLCs, optionally with a persisted floor), the StateReader of its Redis, and the
// reachability of its Kafka as last seen by the flows poller.
//
//   auto region = Region::Create(cfg.regions[0], cfg);
//   if (!region) return region.error();
//   (*region)->SetAckHook([&](const Write& w, const client::Ack& a) { events.PublishAcked(w, a); });
//   auto ack = (*region)->SendSync(std::move(write), 10s);   // to the region's own topic
//   auto snap = (*region)->state().Read(500);
//
// Ownership: owns the producer and the reader; borrowed by the HTTP handlers, the region
// consumers (which Observe() remote stamps into the producer), the pollers and the simulator.
// Threading: all members are thread-safe.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "client/op_producer.h"
#include "core/result.h"
#include "gateway/gateway_config.h"
#include "gateway/state_reader.h"

namespace walrus::gateway {

class Region {
 public:
  static Result<std::unique_ptr<Region>> Create(const RegionConfig& rc, const GatewayConfig& gc);

  const RegionConfig& config() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  const std::string& topic() const { return cfg_.topic; }
  client::OpProducer& producer() { return *producer_; }
  StateReader& state() { return state_; }

  // Runs after every write of this Region's Send/SendSync that Kafka acknowledged, with the
  // write as sent (origin/hlc as stamped in the ack): the gateway shows the op arriving in its
  // origin region at that moment. Set once, before any Send.
  using AckHook = std::function<void(const Write&, const client::Ack&)>;
  void SetAckHook(AckHook hook) { ack_hook_ = std::move(hook); }
  // The producer's SendSync / Send to the region's own topic, plus the ack hook.
  Result<client::Ack> SendSync(Write w, std::chrono::milliseconds timeout);
  Status Send(Write w, client::OpProducer::Callback done);

  // Kafka reachability, set by whoever last talked to the cluster (flows poller, consumer).
  void SetKafka(bool ok, std::string detail);
  std::pair<bool, std::string> Kafka() const;

 private:
  Region(const RegionConfig& rc, std::unique_ptr<client::OpProducer> p);

  const RegionConfig cfg_;
  std::unique_ptr<client::OpProducer> producer_;
  StateReader state_;
  AckHook ack_hook_;
  mutable std::mutex mu_;
  bool kafka_ok_ = false;
  std::string kafka_detail_ = "not contacted yet";
};

// librdkafka properties for talking to a region's Kafka: bootstrap servers, a client id, our
// latency defaults, then the user's (security, -X), which win.
kafka::Properties RegionKafkaProperties(const RegionConfig& rc, const GatewayConfig& gc,
                                        const std::string& role,
                                        const kafka::Properties& defaults = {});

}  // namespace walrus::gateway
