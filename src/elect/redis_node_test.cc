// Component tests of RedisNode and GuardProcess against real redis-servers.

#include "elect/redis_node.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "elect/guard_process.h"
#include "testing/free_port.h"
#include "testing/redis_server.h"

namespace walrus::elect {
namespace {

using namespace std::chrono_literals;
using test::Eventually;
using test::RedisServer;

RedisNodeOptions Opts(const RedisServer& srv) {
  RedisNodeOptions o;
  o.local = srv.endpoint();
  o.fence_host = "127.0.0.1";
  o.fence_port = test::FreePort();  // nothing listens there
  return o;
}

// True if the server accepts a write now; false if it answers -READONLY.
bool Writable(RedisServer& srv) {
  auto c = srv.Connect();
  EXPECT_TRUE(c) << c.error().message;
  auto r = (*c)->Command({"SET", "walrus:probe", "x"});
  EXPECT_TRUE(r) << r.error().message;
  if (r->IsError()) {
    EXPECT_EQ(r->ErrorPrefix(), "READONLY");
    return false;
  }
  return true;
}

TEST(RedisNodeTest, ProbePromoteFollowFence) {
  auto a = RedisServer::Start();
  auto b = RedisServer::Start();
  ASSERT_TRUE(a && b);
  RedisNode na(Opts(**a)), nb(Opts(**b));
  auto s = na.Probe();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->master);
  EXPECT_EQ(s->epoch, 0);
  EXPECT_EQ(s->run_id.size(), 40u);

  ASSERT_TRUE(na.Promote(7));
  ASSERT_TRUE(nb.Follow("127.0.0.1", (*a)->port()));
  ASSERT_TRUE(Eventually(
      [&] {
        auto p = nb.Probe();
        return p && !p->master && p->link_up && !p->syncing && p->epoch == 7;
      },
      10s));
  auto pb = nb.Probe();
  EXPECT_EQ(pb->master_host, "127.0.0.1");
  EXPECT_EQ(pb->master_port, (*a)->port());
  auto off = nb.LeaderOffset("127.0.0.1", (*a)->port());
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_GE(*off, pb->repl_offset);
  EXPECT_FALSE(nb.LeaderOffset("127.0.0.1", (*b)->port())) << "a replica is not a leader";

  EXPECT_TRUE(Writable(**a));
  ASSERT_TRUE(na.Fence());
  EXPECT_FALSE(Writable(**a));
  auto pa = na.Probe();
  EXPECT_FALSE(pa->master);
  EXPECT_FALSE(pa->link_up);
  EXPECT_EQ(pa->epoch, 7) << "fencing keeps the data";

  // A restart is seen as a new run id, and the connection is re-established by itself.
  const std::string run_id = pa->run_id;
  (*a)->Kill9();
  EXPECT_FALSE(na.Probe());
  ASSERT_TRUE((*a)->Restart());
  auto again = na.Probe();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_NE(again->run_id, run_id);
  EXPECT_TRUE(again->master);
  EXPECT_EQ(again->epoch, 0) << "restarted empty";
}

TEST(RedisNodeTest, InfoField) {
  const std::string info =
      "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6380\r\n";
  EXPECT_EQ(InfoField(info, "role"), "slave");
  EXPECT_EQ(InfoField(info, "master_port"), "6380");
  EXPECT_EQ(InfoField(info, "master"), "");
  EXPECT_EQ(InfoField(info, "missing"), "");
}

TEST(GuardProcessTest, FencesAtTheDeadlineNotBefore) {
  auto srv = RedisServer::Start();
  ASSERT_TRUE(srv);
  auto guard = GuardProcess::Start(Opts(**srv));
  ASSERT_TRUE(guard) << guard.error().message;
  const auto armed_at = std::chrono::steady_clock::now();
  (*guard)->Arm(armed_at + 400ms);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(Writable(**srv)) << "fenced before the deadline";
  ASSERT_TRUE(Eventually([&] { return !Writable(**srv); }, 3s));
  EXPECT_GE(std::chrono::steady_clock::now() - armed_at, 400ms);
  EXPECT_TRUE((*guard)->Alive());
}

TEST(GuardProcessTest, RearmingAndDisarmingKeepTheLeaderWritable) {
  auto srv = RedisServer::Start();
  ASSERT_TRUE(srv);
  auto guard = GuardProcess::Start(Opts(**srv));
  ASSERT_TRUE(guard);
  for (int i = 0; i < 10; ++i) {
    (*guard)->Arm(std::chrono::steady_clock::now() + 300ms);
    std::this_thread::sleep_for(100ms);
  }
  (*guard)->Disarm();
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(Writable(**srv));
  guard->reset();  // a disarmed guard exits without fencing
  EXPECT_TRUE(Writable(**srv));
}

TEST(GuardProcessTest, SidecarGoneWhileArmedFencesAtOnce) {
  auto srv = RedisServer::Start();
  ASSERT_TRUE(srv);
  auto guard = GuardProcess::Start(Opts(**srv));
  ASSERT_TRUE(guard);
  (*guard)->Arm(std::chrono::steady_clock::now() + 60s);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(Writable(**srv));
  guard->reset();  // the socket closes as when the sidecar is killed
  EXPECT_FALSE(Writable(**srv));
}

TEST(GuardProcessTest, AliveTurnsFalseWhenTheGuardDies) {
  auto srv = RedisServer::Start();
  ASSERT_TRUE(srv);
  auto guard = GuardProcess::Start(Opts(**srv));
  ASSERT_TRUE(guard);
  EXPECT_TRUE((*guard)->Alive());
  kill((*guard)->pid(), SIGKILL);
  ASSERT_TRUE(Eventually([&] { return !(*guard)->Alive(); }, 2s));
  (*guard)->Arm(std::chrono::steady_clock::now() + 1s);  // harmless on a dead guard
}

}  // namespace
}  // namespace walrus::elect
