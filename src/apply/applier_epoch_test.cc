// Component test of the applier's leader-epoch fence (docs/ha.md, "Epoch fencing"): a real
// Applier consuming from an in-process mock Kafka cluster, two real redis-servers behind a
// locator the test switches, as `walrus elect` would move the primary.
//
// A (epoch 5) is the primary and takes 100 INCRs; the primary moves to B, which holds epoch 3
// and the data of position 60 (an old primary): the applier refuses to write there however long
// it waits, and more records keep arriving. Once B is elected (epoch 6) the applier continues
// from B's own position: the counter is exactly 150. Back to A (epoch 5 < 6): refused again.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "apply/applier.h"
#include "core/write_planner.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "kafka/test_util.h"
#include "metrics/registry.h"
#include "testing/redis_server.h"

namespace walrus::apply {
namespace {

using kafka::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A primary the test moves by hand. Thread-safe: the test thread calls Set, the applier thread
// the rest.
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
  mutable std::mutex mu_;
  redis::Endpoint ep_;
  bool changed_ = false;
};

class ApplierEpochTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = kafka::MockCluster::Create(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_ = std::move(*cluster);
    ASSERT_TRUE(cluster_->CreateTopic("t", 1));
    auto producer = kafka::Producer::Create({{"bootstrap.servers", cluster_->bootstraps()}});
    ASSERT_TRUE(producer) << producer.error().message;
    producer_ = std::move(*producer);
    for (auto* srv : {&a_, &b_}) {
      auto s = test::RedisServer::Start();
      ASSERT_TRUE(s) << s.error().message;
      *srv = std::move(*s);
    }
  }

  void TearDown() override {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  void Produce(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(producer_->Produce(
          {.topic = "t", .partition = 0, .key = "c", .value = R"({"cmd":"INCR","key":"c"})"},
          [](const kafka::DeliveryReport&) {}));
    }
    ASSERT_TRUE(producer_->Flush(seconds(10)));
  }

  void StartApplier() {
    ApplyConfig cfg;
    cfg.brokers = cluster_->bootstraps();
    cfg.topics = {"t"};
    cfg.group = "g";
    cfg.batch_max_ops = 16;  // several transactions
    cfg.backoff_max = milliseconds(300);
    cfg.kafka_props = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    auto locator = std::make_unique<SwitchLocator>(a_->endpoint());
    locator_ = locator.get();
    applier_ = std::make_unique<Applier>(cfg, std::move(locator),
                                         std::make_unique<PlainPlanner>(), probe_, stop_);
    applier_->Init();
    thread_ = std::thread([this] { applier_->Run(); });
  }

  static std::string Get(test::RedisServer& srv, std::string_view key) {
    auto c = srv.Connect();
    if (!c) return "connect: " + c.error().message;
    auto r = (*c)->Command({"GET", key});
    if (!r) return "error: " + r.error().message;
    return r->IsNil() ? "<nil>" : std::string(r->str());
  }
  static void Set(test::RedisServer& srv, std::string_view key, std::string_view value) {
    auto c = srv.Connect();
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->CommandOk({"SET", key, value}));
  }
  // Waits until `srv` holds `pos` as the position of t[0].
  static bool WaitPosition(test::RedisServer& srv, std::string_view pos) {
    return WaitFor([&] { return Get(srv, "walrus:pos:t:0") == pos; }, seconds(30));
  }
  bool WaitRefusals(double n) {
    return WaitFor([&] { return probe_.epoch_refusals.Value() >= n; }, seconds(30));
  }

  std::unique_ptr<kafka::MockCluster> cluster_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<test::RedisServer> a_, b_;
  metrics::Registry registry_;
  ApplyProbe probe_{registry_};
  std::atomic<bool> stop_{false};
  SwitchLocator* locator_ = nullptr;
  std::unique_ptr<Applier> applier_;
  std::thread thread_;
};

TEST_F(ApplierEpochTest, OlderEpochIsNeverWrittenAndANewerOneContinuesExactly) {
  Set(*a_, "walrus:epoch", "5");
  // B: an old primary of epoch 3 holding the data of position 60.
  Set(*b_, "walrus:epoch", "3");
  Set(*b_, "c", "60");
  Set(*b_, "walrus:pos:t:0", "60");
  Produce(100);
  StartApplier();
  ASSERT_TRUE(WaitPosition(*a_, "100"));
  EXPECT_EQ(Get(*a_, "c"), "100");
  EXPECT_EQ(probe_.epoch.Value(), 5);
  EXPECT_EQ(probe_.epoch_refusals.Value(), 0);

  locator_->Set(b_->endpoint());
  ASSERT_TRUE(WaitRefusals(1));
  Produce(50);
  ASSERT_TRUE(WaitRefusals(probe_.epoch_refusals.Value() + 3));  // kept refusing, with backoff
  EXPECT_EQ(Get(*b_, "c"), "60");
  EXPECT_EQ(Get(*b_, "walrus:pos:t:0"), "60");
  auto ready = applier_->Ready();
  EXPECT_FALSE(ready.first) << ready.second;

  Set(*b_, "walrus:epoch", "6");  // B is elected
  ASSERT_TRUE(WaitPosition(*b_, "150"));
  EXPECT_EQ(Get(*b_, "c"), "150");  // records 60..149 applied once each, none skipped
  EXPECT_EQ(probe_.epoch.Value(), 6);

  // The deposed A (epoch 5) comes back as "primary": refused, A keeps what it had.
  const double before = probe_.epoch_refusals.Value();
  locator_->Set(a_->endpoint());
  Produce(10);
  ASSERT_TRUE(WaitRefusals(before + 2));
  EXPECT_EQ(Get(*a_, "walrus:pos:t:0"), "100");
  EXPECT_EQ(Get(*a_, "c"), "100");
}

TEST_F(ApplierEpochTest, NoEpochAnywhereIsFine) {
  Produce(40);
  StartApplier();
  ASSERT_TRUE(WaitPosition(*a_, "40"));
  EXPECT_EQ(Get(*a_, "c"), "40");
  EXPECT_EQ(probe_.epoch_refusals.Value(), 0);
}

}  // namespace
}  // namespace walrus::apply
