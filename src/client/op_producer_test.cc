// Component tests of OpProducer against an in-process mock Kafka cluster over real TCP: acks,
// routing, HLC stamping (monotonic, Observe, floor file across restarts), refusals, and the
// records read back with a Kafka consumer and decoded with the applier's decoder.

#include "client/op_producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "core/hlc.h"
#include "core/json_codec.h"
#include "core/routing.h"
#include "kafka/assign_consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/test_util.h"

namespace walrus::client {
namespace {

using namespace std::chrono_literals;

constexpr int32_t kPartitions = 4;

Write Single(std::string cmd, std::string key, std::vector<std::string> args) {
  Write w;
  w.ops.push_back({.cmd = std::move(cmd), .key = std::move(key), .args = std::move(args)});
  return w;
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One mock cluster for the suite; each test writes to its own topic named after the test.
class OpProducerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = kafka::MockCluster::Create(1);
    ASSERT_TRUE(c.ok()) << c.error().message;
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() { delete cluster_; }
  void SetUp() override {
    topic_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(cluster_->CreateTopic(topic_, kPartitions).ok());
    dir_ = std::filesystem::temp_directory_path() /
           ("walrus-client-" + std::to_string(getpid()) + "-" + topic_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<OpProducer> Make(ProducerOptions opts) {
    opts.brokers = cluster_->bootstraps();
    auto p = OpProducer::Create(std::move(opts));
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? std::move(*p) : nullptr;
  }

  // Every record of the test's topic, all partitions, read by an independent consumer (kept in
  // reader_: librdkafka waits for every Message to be gone before a consumer can be destroyed).
  std::vector<kafka::Message> ReadAll(size_t n) {
    auto c = kafka::AssignConsumer::Create({{"bootstrap.servers", cluster_->bootstraps()}});
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return {};
    reader_ = std::move(*c);
    std::vector<kafka::TopicPartition> parts;
    for (int32_t p = 0; p < kPartitions; ++p) parts.push_back({topic_, p, kafka::kOffsetBeginning});
    EXPECT_TRUE(reader_->Assign(parts).ok());
    std::vector<kafka::Message> out;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      for (auto& m : reader_->PollBatch(n, 100ms)) {
        if (m.error().ok()) out.push_back(std::move(m));
      }
    }
    return out;
  }

  static kafka::MockCluster* cluster_;
  std::unique_ptr<kafka::AssignConsumer> reader_;
  std::string topic_;
  std::filesystem::path dir_;
};

kafka::MockCluster* OpProducerTest::cluster_ = nullptr;

TEST_F(OpProducerTest, AcksCarryThePartitionOfTheRoutingKey) {
  auto p = Make({.origin = "us"});
  ASSERT_TRUE(p);
  std::vector<Write> writes;
  for (int i = 0; i < 12; ++i) writes.push_back(Single("SET", "key:" + std::to_string(i), {"v"}));
  Write multi;
  multi.multi = true;
  multi.ops.push_back({.cmd = "DECRBY", .key = "stock:{sku1}", .args = {"1"}});
  multi.ops.push_back({.cmd = "RPUSH", .key = "orders:{sku1}", .args = {"o-77"}});
  writes.push_back(multi);
  std::set<int32_t> used;
  for (const Write& w : writes) {
    auto ack = p->SendSync(topic_, w, 10s);
    ASSERT_TRUE(ack.ok()) << ack.error().message;
    EXPECT_TRUE(ack->status.ok());
    EXPECT_EQ(ack->topic, topic_);
    EXPECT_EQ(ack->partition, PartitionFor(RoutingKey(w), kPartitions));
    EXPECT_GE(ack->offset, 0);
    EXPECT_EQ(ack->origin, "us");
    EXPECT_TRUE(ParseHlc(ack->hlc).ok()) << ack->hlc;
    used.insert(ack->partition);
  }
  EXPECT_GT(used.size(), 1u);  // the keys really spread: the partition check is not vacuous
  EXPECT_EQ(PartitionFor("sku1", kPartitions), PartitionFor(RoutingKey(multi), kPartitions));
}

TEST_F(OpProducerTest, StampsStrictlyIncreaseEvenWhenTheWallClockStandsStill) {
  const int64_t frozen = WallMs();
  auto p = Make({.origin = "us", .now_ms = [frozen] { return frozen; }});
  ASSERT_TRUE(p);
  constexpr int kN = 300;
  std::mutex mu;
  std::map<int, std::string> hlcs;  // by send order
  std::atomic<int> acked{0};
  for (int i = 0; i < kN; ++i) {
    auto st =
        p->Send(topic_, Single("INCR", "c:" + std::to_string(i % 7), {}), [&, i](const Ack& a) {
          EXPECT_TRUE(a.status.ok());
          std::lock_guard lock(mu);
          hlcs[i] = a.hlc;
          ++acked;
        });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  ASSERT_TRUE(p->Flush(20s).ok());
  ASSERT_TRUE(kafka::testing::WaitFor([&] { return acked == kN; }, 10s));
  for (int i = 1; i < kN; ++i) EXPECT_LT(hlcs[i - 1], hlcs[i]) << i;
  EXPECT_EQ(ParseHlc(hlcs[0])->physical_ms, frozen);  // ties broken by the logical counter

  // A stamp from the future (another region's clock ahead by 5 s): the next one sorts after it.
  const std::string future = EncodeHlc({frozen + 5000, 7});
  ASSERT_TRUE(p->Observe(future).ok());
  auto ack = p->SendSync(topic_, Single("SET", "after", {"x"}), 10s);
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_GT(ack->hlc, future);
  EXPECT_GT(ack->hlc, hlcs[kN - 1]);

  // Beyond the drift guard: refused, and the clock is not dragged along.
  auto st = p->Observe(EncodeHlc({frozen + 3600 * 1000, 0}));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(Errc::kRefused));
  auto next = p->SendSync(topic_, Single("SET", "after", {"y"}), 10s);
  ASSERT_TRUE(next.ok());
  EXPECT_LT(ParseHlc(next->hlc)->physical_ms, frozen + 3600 * 1000);
  EXPECT_FALSE(p->Observe("garbage").ok());
}

TEST_F(OpProducerTest, RefusalsNeverRunTheCallback) {
  auto p = Make({.origin = "us"});
  ASSERT_TRUE(p);
  std::atomic<int> calls{0};
  auto cb = [&](const Ack&) { ++calls; };
  auto expect = [&](Status st, Errc code, std::string_view fragment) {
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(st.error().Is(code)) << st.error().message;
    EXPECT_NE(st.error().message.find(fragment), std::string::npos) << st.error().message;
  };
  expect(p->Send(topic_, Single("FLUSHALL", "k", {}), cb), Errc::kInvalidArgument, "FLUSHALL");
  expect(p->Send(topic_, Single("SET", "k", {}), cb), Errc::kInvalidArgument, "SET");
  expect(p->Send(topic_, Single("SET", "", {"v"}), cb), Errc::kInvalidArgument, "empty key");
  expect(p->Send("no-such-topic-" + topic_, Single("SET", "k", {"v"}), cb), Errc::kNotFound,
         "does not exist");
  Write other = Single("SET", "k", {"v"});
  other.origin = "eu";
  expect(p->Send(topic_, other, cb), Errc::kInvalidArgument, "'eu'");
  Write stamped = Single("SET", "k", {"v"});
  stamped.hlc = EncodeHlc({WallMs(), 0});
  expect(p->Send(topic_, stamped, cb), Errc::kInvalidArgument, "hlc");
  auto sync = p->SendSync(topic_, Single("SPOP", "k", {}), 1s);
  ASSERT_FALSE(sync.ok());
  EXPECT_TRUE(sync.error().Is(Errc::kInvalidArgument));

  Write own = Single("set", "k", {"v"});  // its own origin named explicitly, lower-case command
  own.origin = "us";
  auto ok = p->SendSync(topic_, own, 10s);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_TRUE(p->Flush(10s).ok());
  EXPECT_EQ(calls.load(), 0);

  auto bad_origin = OpProducer::Create({.brokers = cluster_->bootstraps(), .origin = "u s"});
  EXPECT_FALSE(bad_origin.ok());
  auto floor_without_origin =
      OpProducer::Create({.brokers = cluster_->bootstraps(), .hlc_floor_file = dir_ / "f"});
  EXPECT_FALSE(floor_without_origin.ok());
}

// The issue-12 reproductions as client calls: every one is refused with an error naming the key,
// its callback never runs, and nothing reaches Kafka (one good op per partition afterwards is
// the first record of its partition, offset 0).
TEST_F(OpProducerTest, WalrusOwnKeysAreRefusedAndNothingIsProduced) {
  auto p = Make({});
  ASSERT_TRUE(p);
  std::atomic<int> calls{0};
  auto cb = [&](const Ack&) { ++calls; };
  std::vector<Write> refused = {Single("DEL", "walrus:pos:" + topic_ + ":0", {}),
                                Single("SET", "walrus:pos:" + topic_ + ":2", {"1000000"}),
                                Single("SET", "walrus:epoch", {"99"}),
                                Single("set", "walrus:epoch", {"1"})};
  Write multi;
  multi.multi = true;
  multi.ops.push_back({.cmd = "INCRBY", .key = "walrus:{c}", .args = {"1"}});
  multi.ops.push_back({.cmd = "INCRBY", .key = "n:{c}", .args = {"1"}});
  refused.push_back(multi);
  for (const Write& w : refused) {
    Status st = p->Send(topic_, w, cb);
    ASSERT_FALSE(st.ok()) << EncodeJson(w);
    EXPECT_TRUE(st.error().Is(Errc::kInvalidArgument)) << st.error().message;
    EXPECT_NE(st.error().message.find("' is reserved: keys beginning with 'walrus:'"),
              std::string::npos)
        << st.error().message;
    EXPECT_NE(st.error().message.find("'walrus:"), std::string::npos) << st.error().message;
    auto sync = p->SendSync(topic_, w, 1s);
    ASSERT_FALSE(sync.ok());
    EXPECT_TRUE(sync.error().Is(Errc::kInvalidArgument));
  }
  ASSERT_TRUE(p->Flush(10s).ok());
  EXPECT_EQ(calls.load(), 0);
  std::map<int32_t, std::string> key_of;  // one user key per partition
  for (int i = 0; key_of.size() < static_cast<size_t>(kPartitions); ++i) {
    const std::string k = "good:" + std::to_string(i);
    key_of.emplace(PartitionFor(k, kPartitions), k);
  }
  for (const auto& [partition, key] : key_of) {
    auto ack = p->SendSync(topic_, Single("INCRBY", key, {"1"}), 10s);
    ASSERT_TRUE(ack.ok()) << ack.error().message;
    EXPECT_EQ(ack->partition, partition);
    EXPECT_EQ(ack->offset, 0) << "partition " << partition << " holds a record before " << key;
  }
}

TEST_F(OpProducerTest, FloorFileKeepsStampsMonotonicAcrossARestart) {
  const std::string floor = dir_ / "hlc-us";
  const int64_t t0 = WallMs();
  std::string last;
  {
    auto p = Make({.origin = "us", .hlc_floor_file = floor, .now_ms = [t0] { return t0; }});
    ASSERT_TRUE(p);
    for (int i = 0; i < 5; ++i) {
      auto ack = p->SendSync(topic_, Single("SET", "k", {std::to_string(i)}), 10s);
      ASSERT_TRUE(ack.ok()) << ack.error().message;
      last = ack->hlc;
    }
  }
  ASSERT_TRUE(std::filesystem::exists(floor));
  // Restarted with a wall clock 30 s behind: the floor still puts its stamps above the old ones.
  auto p = Make({.origin = "us", .hlc_floor_file = floor, .now_ms = [t0] { return t0 - 30000; }});
  ASSERT_TRUE(p);
  auto ack = p->SendSync(topic_, Single("SET", "k", {"after-restart"}), 10s);
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_GT(ack->hlc, last);

  // Without the floor file the same restart would have gone backwards (the test can fail).
  auto bare = Make({.origin = "us", .now_ms = [t0] { return t0 - 30000; }});
  auto back = bare->SendSync(topic_, Single("SET", "k", {"no-floor"}), 10s);
  ASSERT_TRUE(back.ok());
  EXPECT_LT(back->hlc, last);
}

TEST_F(OpProducerTest, SmallFloorStepKeepsQuickRestartsNearTheWallClock) {
  const std::string floor = dir_ / "hlc-us";
  const int64_t t0 = WallMs();
  std::string prev;
  for (int run = 0; run < 5; ++run) {  // five quick runs of a CLI, the wall clock standing still
    auto p = Make({.origin = "us",
                   .hlc_floor_file = floor,
                   .now_ms = [t0] { return t0; },
                   .floor_step_ms = 1});
    ASSERT_TRUE(p);
    auto ack = p->SendSync(topic_, Single("SET", "k", {std::to_string(run)}), 10s);
    ASSERT_TRUE(ack.ok()) << ack.error().message;
    EXPECT_GT(ack->hlc, prev);
    prev = ack->hlc;
  }
  // Each restart costs ~2 ms of lead over the wall clock, not a 10 s step.
  EXPECT_LE(ParseHlc(prev)->physical_ms, t0 + 10);
  EXPECT_FALSE(OpProducer::Create({.brokers = cluster_->bootstraps(), .floor_step_ms = 0}).ok());
}

TEST_F(OpProducerTest, RecordsReadBackDecodeWithTheAppliersDecoder) {
  auto us = Make({.origin = "us"});
  auto plain = Make({});
  ASSERT_TRUE(us && plain);
  std::map<std::string, Ack> by_hlc;
  std::vector<Write> sent;
  for (int i = 0; i < 6; ++i) {
    Write w = Single("HSET", "user:" + std::to_string(i), {"name", "n" + std::to_string(i)});
    auto ack = us->SendSync(topic_, w, 10s);
    ASSERT_TRUE(ack.ok()) << ack.error().message;
    by_hlc[ack->hlc] = *ack;
  }
  auto plain_ack = plain->SendSync(topic_, Single("incrby", "sales:total", {"5"}), 10s);
  ASSERT_TRUE(plain_ack.ok());
  EXPECT_EQ(plain_ack->hlc, "");
  EXPECT_EQ(plain_ack->origin, "");

  auto msgs = ReadAll(7);
  ASSERT_EQ(msgs.size(), 7u);
  JsonDecoder decoder;
  int stamped = 0;
  for (const auto& m : msgs) {
    auto w = decoder.Decode(m.key(), m.value());
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_EQ(w->ops.size(), 1u);
    EXPECT_EQ(m.key(), w->ops[0].key);
    EXPECT_EQ(m.partition(), PartitionFor(RoutingKey(*w), kPartitions));
    if (w->origin.empty()) {
      EXPECT_EQ(w->ops[0].cmd, "INCRBY");
      EXPECT_EQ(w->ops[0].args, std::vector<std::string>{"5"});
      EXPECT_EQ(w->hlc, "");
      EXPECT_FALSE(m.header("walrus-origin").has_value());
      EXPECT_EQ(m.offset(), plain_ack->offset);
      continue;
    }
    ++stamped;
    EXPECT_EQ(w->origin, "us");
    EXPECT_EQ(m.header("walrus-origin"), std::optional<std::string_view>("us"));
    auto it = by_hlc.find(w->hlc);
    ASSERT_NE(it, by_hlc.end()) << w->hlc;
    EXPECT_EQ(it->second.partition, m.partition());
    EXPECT_EQ(it->second.offset, m.offset());
    EXPECT_EQ(w->ops[0].cmd, "HSET");
    EXPECT_EQ(w->ops[0].args[1], "n" + w->ops[0].key.substr(5));
  }
  EXPECT_EQ(stamped, 6);
}

}  // namespace
}  // namespace walrus::client
