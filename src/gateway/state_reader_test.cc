#include "gateway/state_reader.h"

#include <gtest/gtest.h>

#include "redis/connection.h"
#include "testing/redis_server.h"

namespace walrus::gateway {
namespace {

class StateReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto srv = test::RedisServer::Start();
    ASSERT_TRUE(srv) << srv.error().message;
    srv_ = std::move(*srv);
    auto c = redis::Connection::Connect(srv_->endpoint());
    ASSERT_TRUE(c) << c.error().message;
    conn_ = std::move(*c);
  }
  void Run(std::initializer_list<std::string_view> argv) {
    auto r = conn_->CommandOk(argv);
    ASSERT_TRUE(r) << r.error().message;
  }

  std::unique_ptr<test::RedisServer> srv_;
  std::unique_ptr<redis::Connection> conn_;
};

TEST_F(StateReaderTest, ReadsEveryTypeSortedWithoutSidecars) {
  Run({"SET", "s", "v"});
  Run({"PEXPIRE", "s", "100000"});
  Run({"HSET", "h", "b", "2", "a", "1"});
  Run({"SADD", "set", "y", "x"});
  Run({"ZADD", "z", "2", "b", "1.5", "a"});
  Run({"RPUSH", "l", "z", "a"});
  Run({"XADD", "x", "1-1", "f", "v"});
  Run({"SET", "walrus:pos:us.events:0", "7"});
  Run({"HSET", "walrus:m:{s}:s", "t", "r"});
  StateReader reader(srv_->endpoint());
  auto snap = reader.Read(100);
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->keys, 6u);
  EXPECT_FALSE(snap->truncated);
  ASSERT_EQ(snap->data.size(), 6u);
  std::vector<std::string> keys;
  for (const auto& kv : snap->data) keys.push_back(kv.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"h", "l", "s", "set", "x", "z"}));
  const KeyValue& h = snap->data[0];
  EXPECT_EQ(h.type, "hash");
  EXPECT_EQ(h.pairs, (std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}}));
  const KeyValue& s = snap->data[2];
  EXPECT_EQ(s.str, "v");
  EXPECT_GT(s.ttl_ms, 90000);
  EXPECT_EQ(snap->data[1].items, (std::vector<std::string>{"z", "a"}));
  EXPECT_EQ(snap->data[3].items, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(snap->data[4].entries.size(), 1u);
  EXPECT_EQ(snap->data[5].pairs[0], (std::pair<std::string, std::string>{"a", "1.5"}));
  EXPECT_EQ(snap->data[5].ttl_ms, -1);
  // The digest is the pure function of what was read.
  EXPECT_EQ(snap->digest, DigestOf(snap->data));
}

TEST_F(StateReaderTest, TruncatesTheListingNotTheDigest) {
  for (int i = 0; i < 1200; ++i) Run({"SET", "k" + std::to_string(10000 + i), "v"});
  StateReader reader(srv_->endpoint());
  auto full = reader.Read(5000);
  auto part = reader.Read(10);
  ASSERT_TRUE(full && part);
  EXPECT_EQ(part->keys, 1200u);
  EXPECT_TRUE(part->truncated);
  EXPECT_EQ(part->data.size(), 10u);
  EXPECT_EQ(part->data[9].key, "k10009");
  EXPECT_EQ(part->digest, full->digest);
  Run({"SET", "k10500", "changed"});
  auto after = reader.Read(10);
  ASSERT_TRUE(after);
  EXPECT_NE(after->digest, full->digest);
}

TEST_F(StateReaderTest, ReadKeyAndPing) {
  Run({"SADD", "cart:alice", "sku2", "sku1"});
  StateReader reader(srv_->endpoint());
  EXPECT_TRUE(reader.Ping());
  auto kv = reader.ReadKey("cart:alice");
  ASSERT_TRUE(kv) << kv.error().message;
  ASSERT_TRUE(kv->has_value());
  EXPECT_EQ((*kv)->type, "set");
  EXPECT_EQ((*kv)->items, (std::vector<std::string>{"sku1", "sku2"}));
  auto missing = reader.ReadKey("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(StateReaderTest, UnreachableRedisIsAnErrorThenRecovers) {
  StateReader reader(srv_->endpoint());
  ASSERT_TRUE(reader.Ping());
  srv_->Kill9();
  EXPECT_FALSE(reader.Ping());
  EXPECT_FALSE(reader.Read(10));
  ASSERT_TRUE(srv_->Restart());
  EXPECT_TRUE(reader.Ping());
  EXPECT_TRUE(reader.Read(10));
}

}  // namespace
}  // namespace walrus::gateway
