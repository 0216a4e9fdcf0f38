// The dataset reader against a real redis-server: every type, binary keys and values, both
// expiry forms, keys that vanish, error replies.

#include "dataset/reader.h"

#include <gtest/gtest.h>

#include "dataset/digest.h"
#include "testing/redis_server.h"

namespace walrus::dataset {
namespace {

using namespace std::string_literals;

// One real redis-server and a connection to it; Run() asserts a command succeeds.
class DatasetReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = test::RedisServer::Start();
    ASSERT_TRUE(started) << started.error().message;
    srv_ = std::move(*started);
    auto connected = srv_->Connect();
    ASSERT_TRUE(connected) << connected.error().message;
    conn_ = std::move(*connected);
  }
  void Run(std::initializer_list<std::string_view> argv) { ASSERT_TRUE(conn_->CommandOk(argv)); }

  std::unique_ptr<test::RedisServer> srv_;
  std::unique_ptr<redis::Connection> conn_;
};

TEST_F(DatasetReaderTest, ScansSortedFilteredAndReadsEveryTypeBinarySafe) {
  const std::string bkey = "bin\0key\r\n"s, bval = "\0\xff\r\nv"s;
  Run({"SET", bkey, bval});
  Run({"PEXPIRE", bkey, "100000"});
  Run({"HSET", "h", "b", "2", "a", bval});
  Run({"SADD", "set", "y", "x"});
  Run({"ZADD", "z", "2", "b", "1.5", "a"});
  Run({"RPUSH", "l", "z", "a"});
  Run({"XADD", "x", "1-1", "f", "v"});
  Run({"SET", "walrus:pos:t:0", "7"});
  for (int i = 0; i < 1500; ++i) Run({"SET", "k" + std::to_string(10000 + i), "v"});

  auto keys = ScanKeys(*conn_, IsUserKey);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 1506u);
  EXPECT_TRUE(std::is_sorted(keys->begin(), keys->end()));
  EXPECT_EQ((*keys)[0], bkey);
  EXPECT_EQ(std::count(keys->begin(), keys->end(), "walrus:pos:t:0"), 0);

  std::vector<std::string> want = {bkey, "h", "l", "set", "x", "z", "missing"};
  auto kvs = ReadKeys(*conn_, want, {});
  ASSERT_TRUE(kvs) << kvs.error().message;
  ASSERT_EQ(kvs->size(), want.size());
  const auto& v = *kvs;
  EXPECT_EQ(v[0].key, bkey);
  EXPECT_EQ(v[0].type, "string");
  EXPECT_EQ(v[0].str, bval);
  EXPECT_GT(v[0].ttl_ms, 90000);
  EXPECT_EQ(v[0].expire_at_ms, -1);  // not asked
  EXPECT_EQ(v[1].pairs, (std::vector<std::pair<std::string, std::string>>{{"a", bval}, {"b", "2"}}));
  EXPECT_EQ(v[1].ttl_ms, -1);
  EXPECT_EQ(v[2].items, (std::vector<std::string>{"z", "a"}));
  EXPECT_EQ(v[3].items, (std::vector<std::string>{"x", "y"}));  // canonicalized
  ASSERT_EQ(v[4].entries.size(), 1u);
  EXPECT_EQ(v[4].entries[0], (StreamEntry{"1-1", {{"f", "v"}}}));
  EXPECT_EQ(v[5].pairs[0], (std::pair<std::string, std::string>{"a", "1.5"}));
  EXPECT_EQ(v[6].type, "none");
  EXPECT_EQ(v[6].ttl_ms, -1);
}

TEST_F(DatasetReaderTest, AbsoluteExpiriesAndTheSameDigestOnTwoInstances) {
  auto other = test::RedisServer::Start();
  ASSERT_TRUE(other) << other.error().message;
  auto oc = (*other)->Connect();
  ASSERT_TRUE(oc) << oc.error().message;
  Run({"SADD", "s", "a", "b", "c"});
  Run({"SET", "t", "v", "PXAT", "4000000000000"});
  ASSERT_TRUE((*oc)->CommandOk({"SADD", "s", "c", "a", "b"}));
  ASSERT_TRUE((*oc)->CommandOk({"SET", "t", "v", "PXAT", "4000000000000"}));
  const ReadOptions opts{.expiry = Expiry::kExpireTime};
  auto a = ReadKeys(*conn_, {"s", "t"}, opts);
  auto b = ReadKeys(**oc, {"s", "t"}, opts);
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)[1].expire_at_ms, 4000000000000);
  EXPECT_EQ((*a)[0].expire_at_ms, -1);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(DigestOf(*a), DigestOf(*b));
  EXPECT_EQ(KeyDigest((*a)[0]), KeyDigest((*b)[0]));
}

TEST_F(DatasetReaderTest, AnErrorReplyToAValueReadFailsOrReadsAsMissing) {
  // A user that may see types and expiries but not read hashes: HGETALL answers -NOPERM.
  Run({"ACL", "SETUSER", "r", "on", ">pw", "~*", "+@all", "-hgetall"});
  Run({"HSET", "h", "f", "v"});
  Run({"SET", "s", "v"});
  auto ep = srv_->endpoint();
  ep.user = "r";
  ep.password = "pw";
  auto c = redis::Connection::Connect(ep);
  ASSERT_TRUE(c) << c.error().message;
  auto failed = ReadKeys(**c, {"s", "h"}, {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message.rfind(redis::HostPort(srv_->endpoint()) + ": ", 0), 0u)
      << failed.error().message;
  EXPECT_NE(failed.error().message.find("NOPERM"), std::string::npos) << failed.error().message;
  auto skipped = ReadKeys(**c, {"s", "h"}, {.error_reads_as_missing = true});
  ASSERT_TRUE(skipped) << skipped.error().message;
  EXPECT_EQ((*skipped)[0].str, "v");
  EXPECT_EQ((*skipped)[1].type, "none");
  // The connection is usable afterwards: nothing left pending.
  EXPECT_TRUE((*c)->CommandOk({"PING"}));
}

TEST_F(DatasetReaderTest, NoKeysNoRoundTrip) {
  auto kvs = ReadKeys(*conn_, {}, {});
  ASSERT_TRUE(kvs);
  EXPECT_TRUE(kvs->empty());
}

}  // namespace
}  // namespace walrus::dataset
