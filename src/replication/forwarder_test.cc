// Component tests of replication::Forwarder between two in-process mock clusters: what a forwarded
// record keeps (key, value, null value, headers, timestamp, partition) and gains (the provenance
// header), the skip predicate, start offsets, per-route progress in both acknowledgement modes,
// and a sticky delivery failure.

#include "replication/forwarder.h"

#include <gtest/gtest.h>

#include <map>

#include "core/src_mac.h"
#include "kafka/assign_consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "kafka/test_util.h"

namespace walrus::replication {
namespace {

using kafka::testing::WaitFor;
using std::chrono::milliseconds;

class ForwarderTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    src_ = kafka::MockCluster::Create(1).value();
    dst_ = kafka::MockCluster::Create(1).value();
    ASSERT_TRUE(src_->CreateTopic("in", 2).ok());
    ASSERT_TRUE(dst_->CreateTopic("out", 2).ok());
    auto p = kafka::Producer::Create({{"bootstrap.servers", src_->bootstraps()}});
    ASSERT_TRUE(p.ok());
    for (int i = 0; i < 20; ++i) {
      kafka::OutRecord r{.topic = "in",
                         .partition = i % 2,
                         .key = "k" + std::to_string(i),
                         .value = "v" + std::to_string(i),
                         .timestamp_ms = 1700000000000 + i};
      if (i % 5 == 0) r.headers = {{"h", "x" + std::to_string(i)}, {"empty", std::nullopt}};
      if (i == 7) r.headers = {{"skip-me", "1"}};
      if (i == 9) r.value.reset();
      ASSERT_TRUE((*p)->Produce(std::move(r), nullptr).ok());
    }
    ASSERT_TRUE((*p)->Flush(std::chrono::seconds(10)).ok());
  }

  std::unique_ptr<Forwarder> Make(kafka::Properties target = {}, std::optional<SrcKey> key = {}) {
    target.insert(target.begin(), {"bootstrap.servers", dst_->bootstraps()});
    auto f = Forwarder::Create({.source = {{"bootstrap.servers", src_->bootstraps()}},
                                .target = target,
                                .provenance_header = "prov",
                                .src_key = std::move(key),
                                .per_record_acks = GetParam()});
    EXPECT_TRUE(f.ok()) << f.error().message;
    return std::move(*f);
  }

  // Pumps until every route's taken_next reaches `ends` (then flushes).
  void PumpAll(Forwarder& f, std::vector<int64_t> ends) {
    auto skip = [](const Forwarder::View& v) { return v.header("skip-me").has_value(); };
    EXPECT_TRUE(WaitFor([&] {
      auto n = f.Pump(100, milliseconds(50), skip);
      EXPECT_TRUE(n.ok()) << n.error().message;
      for (size_t i = 0; i < ends.size(); ++i) {
        if (f.progress()[i].taken_next < ends[i]) return false;
      }
      return true;
    }, milliseconds(20000)));
    EXPECT_TRUE(f.Flush(std::chrono::seconds(10)).ok());
  }

  struct Copy {
    int32_t partition;
    std::optional<std::string> value;
    int64_t ts;
    std::vector<kafka::Header> headers;
    std::optional<std::string> header(const std::string& name) const {
      for (const auto& h : headers) {
        if (h.name == name) return h.value.value_or("<null>");
      }
      return std::nullopt;
    }
  };

  // The target topic by key (copied out: a Message must not outlive its consumer).
  std::map<std::string, Copy> ReadOut() {
    auto c = kafka::AssignConsumer::Create({{"bootstrap.servers", dst_->bootstraps()}}).value();
    EXPECT_TRUE(
        c->Assign({{"out", 0, kafka::kOffsetBeginning}, {"out", 1, kafka::kOffsetBeginning}}).ok());
    std::map<std::string, Copy> out;
    WaitFor([&] {
      for (auto& m : c->PollBatch(100, milliseconds(100))) {
        if (!m.error().ok()) continue;
        auto v = m.value();
        out[std::string(*m.key())] = {m.partition(),
                                      v ? std::optional<std::string>(*v) : std::nullopt,
                                      m.timestamp_ms(), m.headers()};
      }
      return out.size() >= 19;
    }, milliseconds(10000));
    return out;
  }

  std::unique_ptr<kafka::MockCluster> src_, dst_;
};

TEST_P(ForwarderTest, ForwardsRecordsWithProvenanceAndSkips) {
  auto f = Make();
  ASSERT_TRUE(f->WarmUp({"out"}, milliseconds(5000)).ok());
  ASSERT_TRUE(f->Assign({{.topic = "in", .partition = 0, .target_topic = "out", .provenance = "a/in/0/"},
                         {.topic = "in", .partition = 1, .target_topic = "out", .provenance = "a/in/1/"}})
                  .ok());
  PumpAll(*f, {10, 10});
  for (const auto& p : f->progress()) {
    EXPECT_EQ(p.inflight, 0);
    EXPECT_EQ(p.Committable(), 10);
  }
  EXPECT_EQ(f->totals().acked, 19u);
  EXPECT_EQ(f->totals().skipped, 1u);
  EXPECT_TRUE(f->Failure().ok());

  auto out = ReadOut();
  ASSERT_EQ(out.size(), 19u);
  EXPECT_EQ(out.count("k7"), 0u);  // skipped
  const Copy& m5 = out.at("k5");
  EXPECT_EQ(m5.partition, 1);
  EXPECT_EQ(m5.value, "v5");
  EXPECT_EQ(m5.ts, 1700000000005);
  EXPECT_EQ(m5.header("h"), "x5");
  EXPECT_EQ(m5.header("empty"), "<null>");        // a null header value stays null
  EXPECT_EQ(m5.header("prov"), "a/in/1/2");       // partition 1 holds 1, 3, 5: offset 2
  EXPECT_EQ(m5.headers.back().name, "prov");      // appended after the originals
  EXPECT_EQ(m5.headers.size(), 3u);
  EXPECT_FALSE(out.at("k9").value.has_value());   // null value kept
  EXPECT_EQ(out.at("k12").header("prov"), "a/in/0/6");
  EXPECT_EQ(out.at("k12").headers.size(), 1u);
}

// With a source key every copy carries walrus-src-mac right after the provenance header, and it
// verifies over what the target holds (core/src_mac.h); the key itself never travels.
TEST_P(ForwarderTest, SignsTheProvenanceWithTheSourceKey) {
  const std::string secret = "0123456789abcdef0123456789abcdef-test-key";
  const SrcKey key{secret, SrcKeyRing::KeyId(secret)};
  auto f = Make({}, key);
  ASSERT_TRUE(f->Assign({{.topic = "in", .partition = 0, .target_topic = "out", .provenance = "a/in/0/"},
                         {.topic = "in", .partition = 1, .target_topic = "out", .provenance = "a/in/1/"}})
                  .ok());
  PumpAll(*f, {10, 10});
  auto out = ReadOut();
  ASSERT_EQ(out.size(), 19u);
  SrcMac mac(key);
  for (const auto& [k, c] : out) {
    ASSERT_GE(c.headers.size(), 2u) << k;
    const kafka::Header& src = c.headers[c.headers.size() - 2];
    const kafka::Header& tag = c.headers.back();
    ASSERT_EQ(src.name, "prov");
    ASSERT_EQ(tag.name, kSrcMacHeader);
    ASSERT_TRUE(tag.value.has_value());
    auto parsed = ParseSrcMacValue(*tag.value);
    ASSERT_TRUE(parsed) << *tag.value;
    EXPECT_EQ(parsed->key_id, key.id);
    EXPECT_EQ(tag.value->find(secret), std::string::npos);
    const size_t n = c.headers.size() - 2;
    auto view = [](const std::optional<std::string>& s) {
      return s ? std::optional<std::string_view>(*s) : std::nullopt;
    };
    mac.Begin({.target_topic = "out", .target_partition = c.partition, .src = *src.value,
               .timestamp_ms = c.ts, .key = k, .value = view(c.value), .header_count = n});
    for (size_t i = 0; i < n; ++i) mac.Header(c.headers[i].name, view(c.headers[i].value));
    EXPECT_TRUE(mac.Matches(*parsed)) << k;
  }
}

TEST_P(ForwarderTest, StartsAtTheGivenOffsets) {
  auto f = Make();
  ASSERT_TRUE(f->Assign({{.topic = "in", .partition = 0, .start = 8, .target_topic = "out", .provenance = "p/"},
                         {.topic = "in", .partition = 1, .start = 10, .target_topic = "out", .provenance = "p/"}})
                  .ok());
  EXPECT_EQ(f->progress()[0].Committable(), 8);
  PumpAll(*f, {10, 10});
  EXPECT_EQ(f->totals().acked, 2u);  // in[0] offsets 8 and 9 only
  EXPECT_EQ(f->progress()[1].Committable(), 10);
}

TEST_P(ForwarderTest, DeliveryFailureIsSticky) {
  // The target is down and records time out: the run must end with that error, and the route's
  // resume position must not pass the failed records.
  ASSERT_TRUE(dst_->SetBrokerDown(1).ok());
  auto f = Make({{"message.timeout.ms", "1000"}});
  ASSERT_TRUE(f->Assign({{.topic = "in", .partition = 0, .start = 4, .target_topic = "out", .provenance = "p/"}})
                  .ok());
  Status last;
  bool failed = WaitFor([&] {
    auto n = f->Pump(100, milliseconds(50), nullptr);
    if (!n.ok()) last = n.error();
    return !n.ok();
  }, milliseconds(15000));
  ASSERT_TRUE(failed);
  EXPECT_NE(last.error().message.find("copy of in[0]@"), std::string::npos) << last.error().message;
  EXPECT_FALSE(f->Failure().ok());
  EXPECT_FALSE(f->Pump(100, milliseconds(10), nullptr).ok());  // sticky
  EXPECT_EQ(f->progress()[0].Committable(), 4);
}

// A start beyond the source log end (a replaced or truncated source log) is reported, never
// reset: nothing is forwarded (librdkafka's auto.offset.reset=earliest copied from 0 silently).
TEST_P(ForwarderTest, PositionOutOfTheSourceLogIsReportedNotReset) {
  auto f = Make();
  ASSERT_TRUE(f->Assign({{.topic = "in", .partition = 0, .start = 50, .target_topic = "out", .provenance = "p/"},
                         {.topic = "in", .partition = 1, .start = 4, .target_topic = "out", .provenance = "p/"}})
                  .ok());
  ASSERT_TRUE(WaitFor([&] {
    auto n = f->Pump(100, milliseconds(50), nullptr);
    EXPECT_TRUE(n.ok());
    return !f->out_of_range().empty() && f->progress()[1].taken_next >= 10;
  }, milliseconds(20000)));
  ASSERT_EQ(f->out_of_range().size(), 1u);
  EXPECT_EQ(f->out_of_range()[0].route, 0u);
  EXPECT_EQ(f->out_of_range()[0].offset, 50);
  // Not moved anywhere: nothing of in[0] arrives, even when waiting.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(f->Pump(100, milliseconds(50), nullptr).ok());
  EXPECT_EQ(f->progress()[0].taken_next, 50);
  ASSERT_TRUE(f->Flush(std::chrono::seconds(10)).ok());
  EXPECT_EQ(f->totals().acked, 6u);  // in[1] offsets 4..9 only
}

TEST_P(ForwarderTest, RefusesAnAutoOffsetResetForTheSource) {
  auto f = Forwarder::Create({.source = {{"bootstrap.servers", src_->bootstraps()},
                                         {"auto.offset.reset", "earliest"}},
                              .target = {{"bootstrap.servers", dst_->bootstraps()}},
                              .provenance_header = "prov"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("auto.offset.reset"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Acks, ForwarderTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "PerRecord" : "OnFlush"; });

}  // namespace
}  // namespace walrus::replication
