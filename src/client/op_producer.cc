#include "client/op_producer.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "client/write_check.h"
#include "core/hlc.h"
#include "core/routing.h"
#include "core/strings.h"
#include "kafka/producer.h"
#include "protocol/headers.h"

namespace walrus::client {

inline constexpr std::string_view kOriginHeader = protocol::kOriginHeader;

// Owned by OpProducer. `send_mu_` serializes stamping, the applier-rules check (the decoder
// is single-threaded) and the enqueue, so per partition the log order is the stamp order.
// Partition counts are cached per topic under their own lock (metadata lookups are slow and
// run outside the send lock).
struct OpProducer::Impl {
  ProducerOptions opts;
  std::unique_ptr<HybridClock> clock;  // null in plain mode
  std::unique_ptr<kafka::Producer> producer;

  std::mutex send_mu;
  WriteCheck check;  // guarded by send_mu

  std::mutex partitions_mu;
  std::map<std::string, int32_t, std::less<>> partitions;  // guarded by partitions_mu

  // Partition count of `topic`, from the cache or from cluster metadata (kNotFound if missing).
  Result<int32_t> Partitions(std::string_view topic) {
    {
      std::lock_guard lock(partitions_mu);
      if (auto it = partitions.find(topic); it != partitions.end()) return it->second;
    }
    const std::string name(topic);
    auto n = producer->PartitionCount(name, opts.metadata_timeout);
    if (!n) return n.error();
    if (*n <= 0) return Error(Errc::kNotFound, "topic " + name + " has no partitions");
    std::lock_guard lock(partitions_mu);
    partitions[name] = *n;
    return *n;
  }

  // Own-origin rules: a Write may name the producer's origin but never another one, and the
  // producer alone stamps the hlc.
  Status CheckStampFields(const Write& w) const {
    if (!clock) return {};
    if (!w.origin.empty() && w.origin != opts.origin) {
      return Error(Errc::kInvalidArgument, "write has origin " + QuoteForMessage(w.origin, 40) +
                                               " but this producer stamps origin '" + opts.origin +
                                               "'");
    }
    if (!w.hlc.empty()) {
      return Error(Errc::kInvalidArgument,
                   "write already has an hlc: the producer stamps it when an origin is set");
    }
    return {};
  }
};

Result<std::unique_ptr<OpProducer>> OpProducer::Create(ProducerOptions opts) {
  if (opts.brokers.empty()) return Error(Errc::kInvalidArgument, "no Kafka brokers given");
  if (opts.floor_step_ms < 1) return Error(Errc::kInvalidArgument, "floor_step_ms must be >= 1");
  auto impl = std::make_unique<Impl>();
  if (!opts.origin.empty()) {
    impl->clock = std::make_unique<HybridClock>(HybridClockOptions{
        .origin = opts.origin,
        .floor_file = opts.hlc_floor_file,
        .floor_step_ms = opts.floor_step_ms,
        .max_drift_ms = opts.max_drift_ms,
        .now_ms = opts.now_ms,
    });
    if (auto st = impl->clock->Init(); !st) return st.error();
  } else if (!opts.hlc_floor_file.empty()) {
    return Error(Errc::kInvalidArgument, "an hlc floor file needs an origin");
  }
  kafka::Properties props = {{"bootstrap.servers", opts.brokers}, {"client.id", "walrus-client"}};
  props.insert(props.end(), opts.properties.begin(), opts.properties.end());  // caller's win
  auto producer = kafka::Producer::Create(props);
  if (!producer) return producer.error();
  impl->producer = std::move(*producer);
  impl->opts = std::move(opts);
  return std::unique_ptr<OpProducer>(new OpProducer(std::move(impl)));
}

OpProducer::OpProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OpProducer::~OpProducer() = default;

const std::string& OpProducer::origin() const { return impl_->opts.origin; }

Status OpProducer::Send(std::string_view topic, Write write, Callback done) {
  Impl& im = *impl_;
  NormalizeCommands(write);
  if (auto st = CheckShape(write); !st) return st;
  if (auto st = im.CheckStampFields(write); !st) return st;
  auto partitions = im.Partitions(topic);
  if (!partitions) return partitions.error();

  std::lock_guard lock(im.send_mu);
  if (im.clock) {
    auto hlc = im.clock->Tick();
    if (!hlc) return hlc.error();
    write.origin = im.opts.origin;
    write.hlc = std::move(*hlc);
  }
  auto json = im.check.Encode(write);
  if (!json) return json.error();
  kafka::OutRecord rec;
  rec.topic = std::string(topic);
  rec.key = std::string(RecordKey(write));
  rec.partition = PartitionFor(RoutingKey(write), *partitions);
  rec.value = std::move(*json);
  if (!write.origin.empty()) rec.headers.push_back({std::string(kOriginHeader), write.origin});
  return im.producer->Produce(
      std::move(rec),
      [done = std::move(done), name = std::string(topic), origin = std::move(write.origin),
       hlc = std::move(write.hlc)](const kafka::DeliveryReport& r) {
        if (!done) return;
        Ack ack;
        ack.status = r.status;
        ack.topic = r.topic.empty() ? name : r.topic;
        ack.partition = r.partition;
        ack.offset = r.offset;
        ack.origin = origin;
        ack.hlc = hlc;
        done(ack);
      });
}

Result<Ack> OpProducer::SendSync(std::string_view topic, Write write,
                                 std::chrono::milliseconds timeout) {
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Ack> ack;
  };
  auto waiter = std::make_shared<Waiter>();
  Status st = Send(topic, std::move(write), [waiter](const Ack& ack) {
    std::lock_guard lock(waiter->mu);
    waiter->ack = ack;
    waiter->cv.notify_all();
  });
  if (!st) return st.error();
  std::unique_lock lock(waiter->mu);
  if (!waiter->cv.wait_for(lock, timeout, [&] { return waiter->ack.has_value(); })) {
    return Error(Errc::kTimeout,
                 "no acknowledgement from Kafka within " + std::to_string(timeout.count()) + " ms");
  }
  if (!waiter->ack->status) return waiter->ack->status.error();
  return std::move(*waiter->ack);
}

Status OpProducer::Observe(std::string_view hlc) {
  if (!impl_->clock) return {};
  return impl_->clock->Observe(hlc);
}

Status OpProducer::Flush(std::chrono::milliseconds timeout) {
  return impl_->producer->Flush(timeout);
}

}  // namespace walrus::client
