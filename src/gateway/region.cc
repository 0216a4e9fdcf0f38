#include "gateway/region.h"

#include <filesystem>
#include <system_error>

namespace walrus::gateway {

kafka::Properties RegionKafkaProperties(const RegionConfig& rc, const GatewayConfig& gc,
                                        const std::string& role,
                                        const kafka::Properties& defaults) {
  kafka::Properties p = {{"bootstrap.servers", rc.brokers},
                         {"client.id", "walrus-gateway-" + role + "-" + rc.name},
                         {"reconnect.backoff.max.ms", "1000"}};
  p.insert(p.end(), defaults.begin(), defaults.end());
  p.insert(p.end(), gc.kafka_props.begin(), gc.kafka_props.end());
  return p;
}

Result<std::unique_ptr<Region>> Region::Create(const RegionConfig& rc, const GatewayConfig& gc) {
  if (!rc.hlc_floor_file.empty()) {
    std::error_code ec;
    const auto dir = std::filesystem::path(rc.hlc_floor_file).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return Error(Errc::kIo, "--hlc-dir: cannot create " + dir.string() + ": " + ec.message());
  }
  // An interactive API: a record leaves within ~1 ms instead of librdkafka's 5 ms linger, and a
  // produce request fails within the produce timeout instead of waiting for Kafka forever.
  const auto timeout_ms = std::to_string(gc.produce_timeout.count());
  client::ProducerOptions opts{
      .brokers = rc.brokers,
      .origin = rc.name,
      .hlc_floor_file = rc.hlc_floor_file,
      .properties = RegionKafkaProperties(
          rc, gc, "producer", {{"linger.ms", "1"}, {"message.timeout.ms", timeout_ms}}),
  };
  auto p = client::OpProducer::Create(std::move(opts));
  if (!p) {
    return Error(p.error().code, "region " + rc.name + ": producer: " + p.error().message);
  }
  return std::unique_ptr<Region>(new Region(rc, std::move(*p)));
}

Region::Region(const RegionConfig& rc, std::unique_ptr<client::OpProducer> p)
    : cfg_(rc), producer_(std::move(p)), state_(rc.redis) {}

Result<client::Ack> Region::SendSync(Write w, std::chrono::milliseconds timeout) {
  if (!ack_hook_) return producer_->SendSync(cfg_.topic, std::move(w), timeout);
  Write sent = w;
  auto ack = producer_->SendSync(cfg_.topic, std::move(w), timeout);
  if (ack && ack->status) ack_hook_(sent, *ack);
  return ack;
}

Status Region::Send(Write w, client::OpProducer::Callback done) {
  if (!ack_hook_) return producer_->Send(cfg_.topic, std::move(w), std::move(done));
  auto sent = std::make_shared<const Write>(w);
  return producer_->Send(cfg_.topic, std::move(w),
                         [hook = &ack_hook_, sent, done = std::move(done)](const client::Ack& a) {
                           if (a.status) (*hook)(*sent, a);
                           if (done) done(a);
                         });
}

void Region::SetKafka(bool ok, std::string detail) {
  std::lock_guard lock(mu_);
  kafka_ok_ = ok;
  kafka_detail_ = std::move(detail);
}

std::pair<bool, std::string> Region::Kafka() const {
  std::lock_guard lock(mu_);
  return {kafka_ok_, kafka_detail_};
}

}  // namespace walrus::gateway
