// Verifier against real redis-servers: identical data in different insertion orders compares
// equal; each kind of difference is reported.

#include "verify/verifier.h"

#include <gtest/gtest.h>

#include "testing/redis_server.h"

namespace walrus::verify {
namespace {

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      auto s = test::RedisServer::Start();
      ASSERT_TRUE(s) << s.error().message;
      auto c = (*s)->Connect();
      ASSERT_TRUE(c) << c.error().message;
      servers_.push_back(std::move(*s));
      conns_.push_back(std::move(*c));
    }
  }
  void Both(std::initializer_list<std::string_view> argv) {
    for (auto& c : conns_) ASSERT_TRUE(c->CommandOk(argv));
  }
  void On(size_t i, std::initializer_list<std::string_view> argv) {
    ASSERT_TRUE(conns_[i]->CommandOk(argv));
  }
  VerifyReport Run(size_t chunk = 500) {
    VerifyOptions o{.urls = {servers_[0]->url(), servers_[1]->url()}, .chunk = chunk};
    auto r = Verify(o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : VerifyReport{};
  }

  std::vector<std::unique_ptr<test::RedisServer>> servers_;
  std::vector<std::unique_ptr<redis::Connection>> conns_;
};

TEST_F(VerifierTest, SameContentInDifferentOrderIsIdentical) {
  On(0, {"HSET", "h", "a", "1", "b", "2"});
  On(1, {"HSET", "h", "b", "2", "a", "1"});
  On(0, {"SADD", "s", "x", "y", "z"});
  On(1, {"SADD", "s", "z", "x", "y"});
  Both({"ZADD", "z", "1", "a", "2", "b"});
  Both({"RPUSH", "l", "1", "2"});
  Both({"XADD", "x", "1-1", "f", "v"});
  Both({"SET", "str", "v", "PXAT", "4000000000000"});
  Both({"PFADD", "hll", "a", "b"});
  Both({"HSET", "walrus:m:{h}:h", "t", "h"});
  // Each region's GC sweep records its own horizon as the floor `g`: not a divergence.
  On(0, {"HSET", "walrus:m:{h}:h", "g", "01a2241053cf-0000.0000-"});
  On(1, {"HSET", "walrus:m:{h}:h", "g", "01a2241053e6-0000.0000-"});
  Both({"HSET", "g", "g", "1"});  // a user hash's field `g` is data
  On(0, {"SET", "walrus:pos:t:0", "10"});  // positions differ between regions: skipped
  On(1, {"SET", "walrus:pos:t:0", "99"});
  for (int i = 0; i < 1200; ++i) Both({"SET", "k" + std::to_string(i), "v"});
  VerifyReport r = Run(/*chunk=*/100);
  EXPECT_EQ(r.differing, 0u) << (r.diffs.empty() ? "" : r.diffs[0]);
  EXPECT_EQ(r.keys, 1200u + 9u);
  EXPECT_EQ(r.sidecars, 1u);
}

TEST_F(VerifierTest, ReportsValueTypeMissingTtlAndSidecarDifferences) {
  On(0, {"SET", "v", "a"});
  On(1, {"SET", "v", "b"});
  On(0, {"SET", "t", "x"});
  On(1, {"SADD", "t", "x"});
  On(1, {"SET", "only1", "x"});
  Both({"SET", "ttl", "x"});
  On(0, {"PEXPIREAT", "ttl", "4000000000000"});
  Both({"SET", "near", "x"});
  On(0, {"PEXPIREAT", "near", "4000000000000"});
  On(1, {"PEXPIREAT", "near", "4000000000500"});  // within the default tolerance
  On(0, {"HSET", "walrus:m:{k}:k", "x", "1"});
  On(1, {"HSET", "walrus:m:{k}:k", "x", "2"});
  On(0, {"HSET", "user", "g", "1"});  // field `g` of a user hash is compared
  On(1, {"HSET", "user", "g", "2"});
  VerifyReport r = Run();
  EXPECT_EQ(r.differing, 6u);
  std::string all;
  for (auto& d : r.diffs) all += d + "\n";
  for (const char* k : {"'v'", "'t'", "'only1'", "'ttl'", "'walrus:m:{k}:k'", "'user'"}) {
    EXPECT_NE(all.find(k), std::string::npos) << k << " in\n" << all;
  }
  EXPECT_EQ(all.find("'near'"), std::string::npos) << all;
}

TEST_F(VerifierTest, ConnectionErrorsAreErrors) {
  VerifyOptions o{.urls = {servers_[0]->url(), "redis://127.0.0.1:1"}};
  EXPECT_FALSE(Verify(o));
  o.urls = {servers_[0]->url()};
  EXPECT_FALSE(Verify(o));
}

}  // namespace
}  // namespace walrus::verify
