#pragma once

// Test harness for the applier component tests: a real Applier running on its own thread,
// consuming from an in-process mock Kafka cluster (one topic "t", one partition) and writing to
// real redis-servers through a locator the test can move. Tests only.
//
//   ApplierHarness h;
//   ASSERT_TRUE(h.Init());
//   h.Produce({R"({"cmd":"INCR","key":"c"})"});
//   h.Start(h.Config(), h.redis(0).endpoint());
//   ASSERT_TRUE(h.WaitPosition(h.redis(0), "1"));
//
// Threading: the test thread calls everything; the applier runs on the harness' thread, which
// the destructor stops and joins.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apply/applier.h"
#include "core/write_planner.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "kafka/test_util.h"
#include "metrics/registry.h"
#include "testing/redis_server.h"

namespace walrus::apply::test {

using kafka::testing::WaitFor;

// A primary the test moves by hand (as Sentinel or `walrus elect` would). Thread-safe: the test
// thread calls Set, the applier thread the rest.
class SwitchLocator final : public redis::PrimaryLocator {
 public:
  explicit SwitchLocator(redis::Endpoint ep) : ep_(std::move(ep)) {}
  void Set(redis::Endpoint ep) {
    std::lock_guard lock(mu_);
    ep_ = std::move(ep);
    changed_ = true;
  }
  Result<redis::Endpoint> Locate() override {
    std::lock_guard lock(mu_);
    changed_ = false;
    return ep_;
  }
  bool Changed() override {
    std::lock_guard lock(mu_);
    return changed_;
  }
  std::string Describe() const override { return "test switch"; }

 private:
  std::mutex mu_;
  redis::Endpoint ep_;
  bool changed_ = false;
};

class ApplierHarness {
 public:
  ~ApplierHarness() { Stop(); }

  // Starts the mock cluster, the producer and `n_redis` redis-servers.
  ::testing::AssertionResult Init(int n_redis = 1) {
    auto cluster = kafka::MockCluster::Create(1);
    if (!cluster) return ::testing::AssertionFailure() << cluster.error().message;
    cluster_ = std::move(*cluster);
    if (auto st = cluster_->CreateTopic("t", 1); !st) {
      return ::testing::AssertionFailure() << st.error().message;
    }
    auto producer = kafka::Producer::Create({{"bootstrap.servers", cluster_->bootstraps()}});
    if (!producer) return ::testing::AssertionFailure() << producer.error().message;
    producer_ = std::move(*producer);
    for (int i = 0; i < n_redis; ++i) {
      auto s = walrus::test::RedisServer::Start();
      if (!s) return ::testing::AssertionFailure() << s.error().message;
      redis_.push_back(std::move(*s));
    }
    return ::testing::AssertionSuccess();
  }

  // A config for topic "t" on the mock, small batches and a short backoff.
  ApplyConfig Config() const {
    ApplyConfig cfg;
    cfg.brokers = cluster_->bootstraps();
    cfg.topics = {"t"};
    cfg.group = "g";
    cfg.batch_max_ops = 16;  // several transactions
    cfg.backoff_max = std::chrono::milliseconds(300);
    cfg.kafka_props = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    return cfg;
  }

  void Start(const ApplyConfig& cfg, redis::Endpoint primary,
             std::unique_ptr<WritePlanner> planner = std::make_unique<PlainPlanner>()) {
    auto locator = std::make_unique<SwitchLocator>(std::move(primary));
    locator_ = locator.get();
    applier_ = std::make_unique<Applier>(cfg, std::move(locator), std::move(planner), probe_,
                                         stop_);
    applier_->Init();
    thread_ = std::thread([this] { applier_->Run(); });
  }

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  // Produces record values keyed `key` to t[0] with timestamp `ts_ms` (0: now) and waits for
  // the acks.
  void Produce(const std::vector<std::string>& values, const std::string& key = "k",
               int64_t ts_ms = 0) {
    for (const auto& v : values) {
      ASSERT_TRUE(producer_->Produce(
          {.topic = "t", .partition = 0, .key = key, .value = v, .timestamp_ms = ts_ms},
          [](const kafka::DeliveryReport&) {}));
    }
    ASSERT_TRUE(producer_->Flush(std::chrono::seconds(10)));
  }

  // One command on a fresh connection, rendered: bulk text, integer text, "<nil>" or the error.
  static std::string Cmd(walrus::test::RedisServer& srv,
                         std::initializer_list<std::string_view> argv) {
    auto c = srv.Connect();
    if (!c) return "connect: " + c.error().message;
    auto r = (*c)->Command(argv);
    if (!r) return "error: " + r.error().message;
    if (r->IsNil()) return "<nil>";
    if (r->type() == redis::ReplyType::kInteger) return std::to_string(r->integer());
    if (r->type() == redis::ReplyType::kArray) return r->DebugString();
    return std::string(r->str());
  }
  static std::string Get(walrus::test::RedisServer& srv, std::string_view key) {
    return Cmd(srv, {"GET", key});
  }
  // Waits until `srv` stores `pos` as the position of t[0].
  static bool WaitPosition(walrus::test::RedisServer& srv, std::string_view pos) {
    return WaitFor([&] { return Get(srv, "walrus:pos:t:0") == pos; }, std::chrono::seconds(30));
  }

  walrus::test::RedisServer& redis(size_t i) { return *redis_.at(i); }
  SwitchLocator& locator() { return *locator_; }
  Applier& applier() { return *applier_; }
  ApplyProbe& probe() { return probe_; }
  kafka::MockCluster& cluster() { return *cluster_; }

 private:
  std::unique_ptr<kafka::MockCluster> cluster_;
  std::unique_ptr<kafka::Producer> producer_;
  std::vector<std::unique_ptr<walrus::test::RedisServer>> redis_;
  metrics::Registry registry_;
  ApplyProbe probe_{registry_};
  std::atomic<bool> stop_{false};
  SwitchLocator* locator_ = nullptr;
  std::unique_ptr<Applier> applier_;
  std::thread thread_;
};

}  // namespace walrus::apply::test
