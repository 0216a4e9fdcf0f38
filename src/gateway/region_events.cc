#include "gateway/region_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/log.h"
#include "core/routing.h"
#include "gateway/api_request.h"
#include "kafka/admin.h"

namespace walrus::gateway {
namespace {

using namespace std::chrono_literals;

constexpr auto kRelistInterval = 3s;
constexpr auto kQueryTimeout = 3s;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json ArgsJson(const std::vector<std::string>& args, bool& cut) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < args.size(); ++i) {
    if (i == RegionEvents::kMaxEventArgs) {
      cut = true;
      break;
    }
    if (args[i].size() > RegionEvents::kMaxEventArgBytes) {
      cut = true;
      a.push_back(args[i].substr(0, RegionEvents::kMaxEventArgBytes) + "...");
    } else {
      a.push_back(args[i]);
    }
  }
  return a;
}

}  // namespace

RegionEvents::RegionEvents(const GatewayConfig& cfg, Region& region,
                           std::vector<std::string> origins, EventHub& hub, GatewayProbe& probe,
                           const std::atomic<bool>& stop)
    : cfg_(cfg), region_(region), origins_(std::move(origins)), hub_(hub), probe_(probe),
      stop_(stop) {
  for (const auto& o : origins_) origin_of_topic_[o + cfg_.topic_suffix] = o;
}

std::string RegionEvents::EventJson(const Write& w, std::string_view region,
                                    std::string_view topic, int32_t partition, int64_t offset,
                                    int64_t ts_ms, int64_t seen_ms,
                                    std::string_view origin_fallback) {
  nlohmann::json j = {{"origin", w.origin.empty() ? origin_fallback : w.origin},
                      {"hlc", w.hlc},
                      {"region", region},
                      {"topic", topic},
                      {"partition", partition},
                      {"offset", offset}};
  bool cut = false;
  if (w.multi || w.ops.size() != 1) {
    j["cmd"] = "MULTI";
    j["key"] = w.ops.empty() ? std::string() : std::string(RecordKey(w));
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : w.ops) {
      ops.push_back({{"cmd", op.cmd}, {"key", op.key}, {"args", ArgsJson(op.args, cut)}});
    }
    j["ops"] = std::move(ops);
  } else {
    j["cmd"] = w.ops[0].cmd;
    j["key"] = w.ops[0].key;
    j["args"] = ArgsJson(w.ops[0].args, cut);
    if (w.ops[0].ttl_ms) j["ttl_ms"] = *w.ops[0].ttl_ms;
  }
  if (cut) j["truncated"] = true;
  j["ts_ms"] = ts_ms;
  j["seen_ms"] = seen_ms;
  return DumpJson(j);
}

std::string RegionEvents::Detail() const {
  std::lock_guard lock(mu_);
  return detail_;
}

void RegionEvents::SetDetail(std::string d) {
  std::lock_guard lock(mu_);
  detail_ = std::move(d);
}

bool RegionEvents::AssignNewTopics(kafka::AssignConsumer& c) {
  auto log = Logger("gateway");
  const bool first = next_.empty();
  auto props = RegionKafkaProperties(region_.config(), cfg_, "admin");
  auto topics = kafka::ListTopics(props, kQueryTimeout);
  if (!topics) {
    SetDetail("listing topics: " + topics.error().message);
    return false;
  }
  std::vector<std::string> missing;
  bool added = false;
  for (const auto& [topic, origin] : origin_of_topic_) {
    if (next_.count({topic, 0})) continue;
    auto it = std::find_if(topics->begin(), topics->end(),
                           [&](const kafka::TopicInfo& t) { return t.name == topic; });
    if (it == topics->end() || it->partitions <= 0) {
      missing.push_back(topic);
      continue;
    }
    std::map<std::pair<std::string, int32_t>, int64_t> starts;
    for (int32_t p = 0; p < it->partitions; ++p) {
      auto wm = c.QueryWatermarks(topic, p, kQueryTimeout);
      if (!wm) {
        SetDetail(fmt::format("watermarks of {}[{}]: {}", topic, p, wm.error().message));
        return false;
      }
      const auto [lo, hi] = *wm;
      // At start: the end minus the lookback; a topic that appears later is new: from its start.
      starts[{topic, p}] = first ? std::max(lo, hi - cfg_.events_lookback) : lo;
    }
    next_.insert(starts.begin(), starts.end());
    added = true;
    log->info("region {}: reading {} ({} partitions)", region_.name(), topic, it->partitions);
  }
  if (added) {
    std::vector<kafka::TopicPartition> parts;
    for (const auto& [tp, off] : next_) parts.push_back({tp.first, tp.second, off});
    if (auto st = c.Assign(parts); !st) {
      SetDetail("assign: " + st.error().message);
      return false;
    }
  }
  if (next_.count({region_.topic(), 0})) ready_ = true;
  SetDetail(missing.empty() ? fmt::format("reading {} topics", origin_of_topic_.size())
                            : fmt::format("waiting for topics {}", fmt::join(missing, ",")));
  return missing.empty();
}

void RegionEvents::Handle(const kafka::Message& m) {
  auto log = Logger("gateway");
  if (auto st = m.error(); !st) {
    WALRUS_LOG_EVERY_MS(log, warn, 5000, "region {}: consumer: {}", region_.name(),
                        st.error().message);
    return;
  }
  const std::string topic(m.topic());
  next_[{topic, m.partition()}] = m.offset() + 1;
  auto w = decoder_.Decode(m.key(), m.value());
  if (!w) {
    WALRUS_LOG_EVERY_MS(log, warn, 5000, "region {}: {}[{}]@{} not shown: {}", region_.name(),
                        topic, m.partition(), m.offset(), w.error().message);
    return;
  }
  if (!w->hlc.empty()) {
    if (auto st = region_.producer().Observe(w->hlc); !st) {
      WALRUS_LOG_EVERY_MS(log, warn, 5000, "region {}: not observing hlc {}: {}", region_.name(),
                          w->hlc, st.error().message);
    }
  }
  if (topic == region_.topic() && !dedup_.FirstFromConsumer(m.partition(), m.offset())) {
    return;  // shown when Kafka acknowledged it (PublishAcked)
  }
  auto origin = origin_of_topic_.find(topic);
  hub_.Publish("op", EventJson(*w, region_.name(), topic, m.partition(), m.offset(),
                               m.timestamp_ms(), NowMs(),
                               origin == origin_of_topic_.end() ? "" : origin->second));
  probe_.Events(region_.name()).Increment();
}

void RegionEvents::PublishAcked(const Write& w, const client::Ack& ack) {
  if (!dedup_.FirstFromAck(ack.partition, ack.offset)) return;  // the consumer was first
  Write stamped = w;
  stamped.origin = ack.origin;
  stamped.hlc = ack.hlc;
  const int64_t now = NowMs();
  hub_.Publish("op", EventJson(stamped, region_.name(), ack.topic, ack.partition, ack.offset, now,
                               now, region_.name()));
  probe_.Events(region_.name()).Increment();
}

void RegionEvents::Run() {
  auto log = Logger("gateway");
  // The mock cluster holds an empty fetch for the whole fetch.wait.max.ms: keep it short, it is
  // the arrival latency the dashboard shows.
  auto props = RegionKafkaProperties(region_.config(), cfg_, "events",
                                     {{"fetch.wait.max.ms", "20"},
                                      {"fetch.error.backoff.ms", "50"}});
  auto c = kafka::AssignConsumer::Create(props);
  if (!c) {
    SetDetail("consumer: " + c.error().message);
    log->error("region {}: event consumer: {}", region_.name(), c.error().message);
    return;
  }
  bool complete = false;
  auto last_list = std::chrono::steady_clock::now() - kRelistInterval;
  while (!stop_.load()) {
    if (!complete && std::chrono::steady_clock::now() - last_list >= kRelistInterval) {
      last_list = std::chrono::steady_clock::now();
      complete = AssignNewTopics(**c);
    }
    if (next_.empty()) {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    for (kafka::Message& m : (*c)->PollBatch(1000, 100ms)) Handle(m);
  }
}

}  // namespace walrus::gateway
