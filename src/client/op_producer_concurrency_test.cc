// OpProducer used by several threads at once (the gateway's case): every send is acknowledged
// once, stamps are unique, and within each partition the log order is the stamp order.
// In-process mock Kafka cluster.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/op_producer.h"
#include "core/routing.h"
#include "kafka/mock_cluster.h"
#include "kafka/test_util.h"

namespace walrus::client {
namespace {

using namespace std::chrono_literals;

TEST(OpProducerConcurrencyTest, ThreadsSendingTogether) {
  auto cluster = kafka::MockCluster::Create(1);
  ASSERT_TRUE(cluster.ok()) << cluster.error().message;
  ASSERT_TRUE((*cluster)->CreateTopic("us.events", 3).ok());
  auto created = OpProducer::Create({.brokers = (*cluster)->bootstraps(), .origin = "us"});
  ASSERT_TRUE(created.ok()) << created.error().message;
  OpProducer& producer = **created;

  constexpr int kThreads = 6;
  constexpr int kPerThread = 400;
  std::mutex mu;
  std::vector<Ack> acks;
  std::atomic<int> errors{0};
  std::atomic<int> sync_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Write w;
        w.ops.push_back({.cmd = "INCRBY", .key = "ctr:" + std::to_string(i % 13), .args = {"1"}});
        if (i % 50 == 0) {  // some synchronous sends in the mix
          auto ack = producer.SendSync("us.events", std::move(w), 10s);
          if (!ack.ok()) {
            ++errors;
            continue;
          }
          ++sync_ok;
          std::lock_guard lock(mu);
          acks.push_back(*ack);
          continue;
        }
        auto st = producer.Send("us.events", std::move(w), [&](const Ack& a) {
          if (!a.status.ok()) ++errors;
          std::lock_guard lock(mu);
          acks.push_back(a);
        });
        if (!st.ok()) ++errors;
      }
      (void)t;
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(producer.Flush(30s).ok());
  const size_t total = static_cast<size_t>(kThreads) * kPerThread;
  ASSERT_TRUE(kafka::testing::WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return acks.size() >= total;
      },
      10s));
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(sync_ok.load(), kThreads * (kPerThread / 50));

  std::lock_guard lock(mu);
  ASSERT_EQ(acks.size(), total);  // each callback exactly once
  std::set<std::string> stamps;
  std::map<int32_t, std::map<int64_t, std::string>> by_partition;  // partition -> offset -> hlc
  for (const Ack& a : acks) {
    EXPECT_EQ(a.origin, "us");
    stamps.insert(a.hlc);
    EXPECT_TRUE(by_partition[a.partition].emplace(a.offset, a.hlc).second) << "duplicate offset";
  }
  EXPECT_EQ(stamps.size(), total);  // unique stamps
  for (const auto& [partition, log] : by_partition) {
    std::string prev;
    for (const auto& [offset, hlc] : log) {
      EXPECT_LT(prev, hlc) << "partition " << partition << " offset " << offset;
      prev = hlc;
    }
  }
}

}  // namespace
}  // namespace walrus::client
