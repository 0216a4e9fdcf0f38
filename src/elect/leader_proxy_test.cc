// Component tests of LeaderProxy with real redis-servers behind it.

#include "elect/leader_proxy.h"

#include <gtest/gtest.h>

#include <thread>

#include "redis/connection.h"
#include "testing/free_port.h"
#include "testing/redis_server.h"

namespace walrus::elect {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;

class LeaderProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sa = RedisServer::Start();
    auto sb = RedisServer::Start();
    ASSERT_TRUE(sa && sb);
    a = std::move(*sa);
    b = std::move(*sb);
  }
  std::unique_ptr<LeaderProxy> StartProxy(std::chrono::milliseconds wait = 5000ms) {
    ProxyOptions o;
    o.listen = {"127.0.0.1", 0};
    o.wait_for_leader = wait;
    auto p = std::make_unique<LeaderProxy>(o, probe);
    EXPECT_TRUE(p->Start());
    return p;
  }
  Result<std::unique_ptr<redis::Connection>> Through(const LeaderProxy& p) {
    redis::Endpoint ep;
    ep.host = "127.0.0.1";
    ep.port = p.port();
    return redis::Connection::Connect(ep);
  }
  static std::string Addr(const RedisServer& s) { return "127.0.0.1:" + std::to_string(s.port()); }
  static std::string Get(RedisServer& s, const std::string& key) {
    auto c = s.Connect();
    auto r = (*c)->Command({"GET", key});
    return r && !r->IsNil() ? std::string(r->str()) : "(nil)";
  }

  metrics::Registry registry;
  ElectProbe probe{registry};
  std::unique_ptr<RedisServer> a, b;
};

TEST_F(LeaderProxyTest, ForwardsToTheTargetAndDropsConnectionsOnChange) {
  auto proxy = StartProxy();
  proxy->SetTarget(Addr(*a));
  auto c = Through(*proxy);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE((*c)->CommandOk({"SET", "k", "on-a"}));
  EXPECT_EQ(Get(*a, "k"), "on-a");
  EXPECT_EQ(Get(*b, "k"), "(nil)");

  proxy->SetTarget(Addr(*b));
  // The connection to the deposed target is closed by the proxy.
  auto r = (*c)->Command({"SET", "k", "late"});
  EXPECT_FALSE(r) << "a connection to the old leader survived the change";
  EXPECT_EQ(Get(*a, "k"), "on-a");
  auto c2 = Through(*proxy);
  ASSERT_TRUE(c2);
  ASSERT_TRUE((*c2)->CommandOk({"SET", "k", "on-b"}));
  EXPECT_EQ(Get(*b, "k"), "on-b");
  EXPECT_GE(probe.proxy_dropped.Value(), 1);
  EXPECT_GE(probe.proxy_accepted.Value(), 2);
}

TEST_F(LeaderProxyTest, HoldsClientsUntilALeaderServes) {
  auto proxy = StartProxy();
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    proxy->SetTarget(Addr(*a));
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto c = Through(*proxy);  // the handshake waits for the leader
  later.join();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  auto r = (*c)->Command({"PING"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->IsStatus("PONG"));
}

TEST_F(LeaderProxyTest, ARefusingTargetHoldsTheClientForTheNextOne) {
  auto proxy = StartProxy();
  proxy->SetTarget("127.0.0.1:" + std::to_string(test::FreePort()));  // a dead leader
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    proxy->SetTarget(Addr(*b));
  });
  auto c = Through(*proxy);
  later.join();
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE((*c)->CommandOk({"SET", "x", "1"}));
  EXPECT_EQ(Get(*b, "x"), "1");
}

TEST_F(LeaderProxyTest, GivesUpAfterWaitForLeader) {
  auto proxy = StartProxy(300ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto c = Through(*proxy);
  EXPECT_FALSE(c);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(LeaderProxyTest, LargeValuesAndPipelinesArriveIntact) {
  auto proxy = StartProxy();
  proxy->SetTarget(Addr(*a));
  auto c = Through(*proxy);
  ASSERT_TRUE(c);
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  for (int i = 0; i < 2000; ++i) (*c)->AppendArgs("RPUSH", "list", i);
  (*c)->Append({"SET", "big", big});
  (*c)->Append({"GET", "big"});
  auto replies = (*c)->ReadReplies(2002);
  ASSERT_TRUE(replies) << replies.error().message;
  EXPECT_EQ((*replies)[1999].integer(), 2000);
  EXPECT_EQ((*replies)[2001].str(), big);
  EXPECT_EQ(Get(*a, "big"), big);
}

TEST_F(LeaderProxyTest, UpstreamDeathClosesTheClient) {
  auto proxy = StartProxy();
  proxy->SetTarget(Addr(*a));
  auto c = Through(*proxy);
  ASSERT_TRUE(c);
  a->Kill9();
  auto r = (*c)->Command({"PING"});
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace walrus::elect
