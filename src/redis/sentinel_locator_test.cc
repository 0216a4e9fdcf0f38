// Component tests of SentinelLocator against real redis-server and redis-sentinel processes.
#include "redis/sentinel_locator.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "redis/connection.h"
#include "testing/child_process.h"
#include "testing/free_port.h"
#include "testing/redis_server.h"

namespace walrus::redis {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::ChildProcess;
using test::Eventually;
using test::RedisServer;

// One redis-sentinel process monitoring "mymaster" (quorum 1, down-after 1000 ms).
class Sentinel {
 public:
  static std::unique_ptr<Sentinel> Start(int master_port, const std::string& password = "") {
    auto s = std::unique_ptr<Sentinel>(new Sentinel);
    std::string tmpl = (std::filesystem::temp_directory_path() / "walrus-sent-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return nullptr;
    s->dir_ = tmpl;
    s->port_ = test::FreePort();
    std::ofstream(s->dir_ + "/sentinel.conf")
        << "port " << s->port_ << "\nbind 127.0.0.1\ndir " << s->dir_
        << "\nsentinel monitor mymaster 127.0.0.1 " << master_port << " 1\n"
        << "sentinel down-after-milliseconds mymaster 1000\n"
        << "sentinel failover-timeout mymaster 3000\n"
        << (password.empty() ? "" : "requirepass " + password + "\n");
    auto child = ChildProcess::Start({.argv = {"/usr/bin/redis-sentinel", s->dir_ + "/sentinel.conf"},
                                      .stdout_path = s->dir_ + "/sentinel.log"});
    if (!child) return nullptr;
    s->child_ = std::move(*child);
    const bool up = Eventually(
        [&] {
          Endpoint ep = s->endpoint();
          ep.password = password;
          auto c = Connection::Connect(ep);
          return c.ok() && (*c)->Command({"PING"}).ok();
        },
        seconds(10), milliseconds(50));
    return up ? std::move(s) : nullptr;
  }
  ~Sentinel() {
    child_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Endpoint endpoint() const {
    Endpoint ep;
    ep.port = port_;
    return ep;
  }
  void Kill9() {
    child_->Kill(SIGKILL);
    (void)child_->Wait(seconds(5));
  }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

std::string Role(int port) {
  Endpoint ep;
  ep.port = port;
  auto c = Connection::Connect(ep);
  if (!c) return "down";
  auto r = (*c)->Command({"ROLE"});
  return r && r->size() > 0 ? std::string(r->element(0).str()) : "unknown";
}

struct Topology {
  std::unique_ptr<RedisServer> primary, replica;
  std::vector<std::unique_ptr<Sentinel>> sentinels;
};

Topology StartTopology(int n_sentinels) {
  Topology t;
  auto p = RedisServer::Start();
  EXPECT_TRUE(p.ok()) << p.error().message;
  if (!p) return t;
  t.primary = std::move(*p);
  auto r = RedisServer::Start(
      {.args = {"--replicaof", "127.0.0.1", std::to_string(t.primary->port())}});
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r) return t;
  t.replica = std::move(*r);
  for (int i = 0; i < n_sentinels; ++i) {
    t.sentinels.push_back(Sentinel::Start(t.primary->port()));
    EXPECT_TRUE(t.sentinels.back()) << "sentinel " << i << " did not start";
  }
  return t;
}

TEST(SentinelList, Parses) {
  Endpoint auth;
  auth.password = "pw";
  auto l = ParseSentinelList("10.0.0.1:26380, sentinel-b ,[::1]:5", auth);
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0].port, 26380);
  EXPECT_EQ((*l)[1].host, "sentinel-b");
  EXPECT_EQ((*l)[1].port, kDefaultSentinelPort);
  EXPECT_EQ((*l)[2].host, "::1");
  EXPECT_EQ((*l)[2].password, "pw");
  EXPECT_FALSE(ParseSentinelList("", auth).ok());
  EXPECT_FALSE(ParseSentinelList("h:notaport", auth).ok());
  EXPECT_FALSE(ParseSentinelList("redis://h:1", auth).ok());
}

TEST(SentinelLocator, LocatesSkippingDownSentinelsAndFollowsFailover) {
  auto t = StartTopology(2);
  ASSERT_TRUE(t.replica && t.sentinels.size() == 2 && t.sentinels[0] && t.sentinels[1]);
  SentinelOptions o;
  Endpoint dead;
  dead.port = test::FreePort();  // nothing listens there
  o.sentinels = {dead, t.sentinels[0]->endpoint(), t.sentinels[1]->endpoint()};
  o.master_name = "mymaster";
  o.data.password = "";
  o.data.db = 2;
  SentinelLocator loc(o);
  loc.Start();
  auto ep = loc.Locate();
  ASSERT_TRUE(ep.ok()) << ep.error().message;
  EXPECT_EQ(ep->port, t.primary->port());
  EXPECT_EQ(ep->db, 2);  // data-plane settings are kept
  EXPECT_FALSE(loc.Changed());
  ASSERT_TRUE(Eventually([&] { return loc.subscribed(); }, seconds(10)));

  // A manual failover (retried until the sentinel has discovered the replica).
  auto s = Connection::Connect(t.sentinels[0]->endpoint());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = (*s)->Command({"SENTINEL", "FAILOVER", "mymaster"});
        return r.ok() && r->IsStatus("OK");
      },
      seconds(20), milliseconds(200)));
  ASSERT_TRUE(Eventually([&] { return loc.Changed(); }, seconds(20)))
      << "no +switch-master noticed";
  EXPECT_GE(loc.switches_seen(), 1u);
  ep = loc.Locate();
  ASSERT_TRUE(ep.ok()) << ep.error().message;
  EXPECT_EQ(ep->port, t.replica->port());
  EXPECT_TRUE(Eventually([&] { return Role(t.replica->port()) == "master"; }, seconds(10)));
}

TEST(SentinelLocator, ResubscribesWhenItsSentinelDies) {
  auto t = StartTopology(2);
  ASSERT_TRUE(t.replica && t.sentinels.size() == 2 && t.sentinels[0] && t.sentinels[1]);
  SentinelOptions o;
  o.sentinels = {t.sentinels[0]->endpoint(), t.sentinels[1]->endpoint()};
  o.master_name = "mymaster";
  SentinelLocator loc(o);
  loc.Start();
  ASSERT_TRUE(loc.Locate().ok());
  ASSERT_TRUE(Eventually([&] { return loc.subscribed(); }, seconds(10)));
  t.sentinels[0]->Kill9();  // the subscription was on the first sentinel
  ASSERT_TRUE(Eventually([&] { return !loc.subscribed(); }, seconds(10)));
  ASSERT_TRUE(Eventually([&] { return loc.subscribed(); }, seconds(10)));
  // Locate still works through the remaining sentinel; a failover it runs is noticed.
  ASSERT_TRUE(loc.Locate().ok());
  auto s = Connection::Connect(t.sentinels[1]->endpoint());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = (*s)->Command({"SENTINEL", "FAILOVER", "mymaster"});
        return r.ok() && r->IsStatus("OK");
      },
      seconds(20), milliseconds(200)));
  ASSERT_TRUE(Eventually([&] { return loc.Changed(); }, seconds(20)));
  auto ep = loc.Locate();
  ASSERT_TRUE(ep.ok()) << ep.error().message;
  EXPECT_EQ(ep->port, t.replica->port());
}

TEST(SentinelLocator, UnknownMasterNameIsUnavailable) {
  auto t = StartTopology(1);
  ASSERT_TRUE(t.sentinels.size() == 1 && t.sentinels[0]);
  SentinelOptions o;
  o.sentinels = {t.sentinels[0]->endpoint()};
  o.master_name = "nosuch";
  SentinelLocator loc(o);
  auto ep = loc.Locate();
  ASSERT_FALSE(ep.ok());
  EXPECT_TRUE(ep.error().Is(Errc::kUnavailable));
  EXPECT_NE(ep.error().message.find("does not know master 'nosuch'"), std::string::npos)
      << ep.error().message;
}

TEST(SentinelLocator, SentinelAuth) {
  auto primary = RedisServer::Start();
  ASSERT_TRUE(primary.ok()) << primary.error().message;
  auto sentinel = Sentinel::Start((*primary)->port(), "sent-pw");
  ASSERT_TRUE(sentinel);
  Endpoint auth;
  auth.password = "sent-pw";
  auto list = ParseSentinelList("127.0.0.1:" + std::to_string(sentinel->endpoint().port), auth);
  ASSERT_TRUE(list.ok());
  SentinelOptions o;
  o.sentinels = *list;
  o.master_name = "mymaster";
  o.data.password = "data-pw";  // the primary's credentials are not the sentinels'
  SentinelLocator loc(o);
  auto ep = loc.Locate();
  ASSERT_TRUE(ep.ok()) << ep.error().message;
  EXPECT_EQ(ep->port, (*primary)->port());
  EXPECT_EQ(ep->password, "data-pw");

  o.sentinels[0].password = "wrong";
  SentinelLocator bad(o);
  auto err = bad.Locate();
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("AUTH"), std::string::npos) << err.error().message;
  EXPECT_EQ(err.error().message.find("wrong"), std::string::npos) << "password leaked";
}

}  // namespace
}  // namespace walrus::redis
