// Component tests of EtcdBackend against a real etcd (Debian's etcd-server) on free ports.

#include "elect/etcd_backend.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>

#include "core/base64.h"
#include "testing/child_process.h"
#include "testing/free_port.h"

namespace walrus::elect {
namespace {

using namespace std::chrono_literals;
using test::Eventually;

// One etcd member in a temporary data dir; stopped and removed by the destructor.
class EtcdServer {
 public:
  EtcdServer() {
    char tmpl[] = "/tmp/walrus-etcd-XXXXXX";
    dir_ = mkdtemp(tmpl);
    port_ = test::FreePort();
    const int peer = test::FreePort();
    const std::string client = "http://127.0.0.1:" + std::to_string(port_);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    test::ChildOptions o;
    o.argv = {"etcd",
              "--data-dir",
              dir_ + "/data",
              "--listen-client-urls",
              client,
              "--advertise-client-urls",
              client,
              "--listen-peer-urls",
              peer_url,
              "--initial-advertise-peer-urls",
              peer_url,
              "--initial-cluster",
              "default=" + peer_url,
              "--log-level",
              "warn"};
    o.stdout_path = dir_ + "/etcd.log";
    auto p = test::ChildProcess::Start(o);
    if (!p) {
      ADD_FAILURE() << p.error().message;
      return;
    }
    proc_ = std::move(*p);
    httplib::Client cli(url());
    cli.set_connection_timeout(1s);
    up_ = Eventually(
        [&] {
          auto r = cli.Get("/health");
          return r && r->status == 200 && r->body.find("true") != std::string::npos;
        },
        20s, 50ms);
    EXPECT_TRUE(up_) << "etcd did not start: " << proc_->ReadStdout();
  }
  ~EtcdServer() {
    proc_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool up() const { return up_; }

 private:
  std::string dir_;
  int port_ = 0;
  bool up_ = false;
  std::unique_ptr<test::ChildProcess> proc_;
};

EtcdOptions Opts(const EtcdServer& etcd, const std::string& name = "t") {
  EtcdOptions o;
  o.endpoints = {etcd.url()};
  o.name = name;
  o.ttl = 2s;
  return o;
}

LeaderRecord Me(const std::string& id) { return LeaderRecord{id, id + ":6379", false, 0}; }

class EtcdBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(etcd.up()); }
  EtcdServer etcd;
};

TEST_F(EtcdBackendTest, CampaignPublishRenewExpireTakeOver) {
  EtcdBackend a(Opts(etcd)), b(Opts(etcd));
  auto obs = b.Observe();
  ASSERT_TRUE(obs) << obs.error().message;
  EXPECT_FALSE(obs->leader);
  EXPECT_EQ(obs->last_epoch, 0);

  auto got = a.TryAcquire(Me("a"));
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->won);
  const int64_t e1 = got->epoch;
  EXPECT_GT(e1, 0);
  auto lost = b.TryAcquire(Me("b"));
  ASSERT_TRUE(lost);
  EXPECT_FALSE(lost->won);

  obs = b.Observe();
  ASSERT_TRUE(obs && obs->leader);
  EXPECT_EQ(obs->leader->id, "a");
  EXPECT_EQ(obs->leader->advertise, "a:6379");
  EXPECT_FALSE(obs->leader->serving);
  EXPECT_EQ(obs->leader->epoch, e1);
  EXPECT_EQ(obs->last_epoch, e1);

  // The watch wakes b when a publishes.
  (void)b.WaitForChange(1s);  // the watch's "created" message
  while (b.WaitForChange(200ms)) {
  }
  auto rec = Me("a");
  rec.serving = true;
  ASSERT_TRUE(a.Publish(rec));
  EXPECT_TRUE(b.WaitForChange(3s)) << "no watch event for the publish";
  obs = b.Observe();
  ASSERT_TRUE(obs && obs->leader);
  EXPECT_TRUE(obs->leader->serving);
  EXPECT_EQ(obs->leader->epoch, e1) << "publishing keeps the epoch";

  // Renewals keep the lease past its TTL.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(a.Renew());
    std::this_thread::sleep_for(500ms);
  }
  obs = b.Observe();
  ASSERT_TRUE(obs && obs->leader);

  // a stops renewing: the lease expires, the epoch is remembered, b takes over with a higher one.
  ASSERT_TRUE(Eventually(
      [&] {
        auto o = b.Observe();
        return o && !o->leader;
      },
      5s, 50ms));
  obs = b.Observe();
  EXPECT_EQ(obs->last_epoch, e1);
  got = b.TryAcquire(Me("b"));
  ASSERT_TRUE(got && got->won);
  EXPECT_GT(got->epoch, e1);
  auto renew = a.Renew();
  ASSERT_FALSE(renew);
  EXPECT_TRUE(renew.error().Is(Errc::kNotFound)) << renew.error().message;

  // Release hands the lease over at once.
  ASSERT_TRUE(b.Release());
  obs = a.Observe();
  ASSERT_TRUE(obs);
  EXPECT_FALSE(obs->leader);
  EXPECT_EQ(obs->last_epoch, got->epoch);
  EXPECT_TRUE(b.Release()) << "releasing twice is a no-op";
}

TEST_F(EtcdBackendTest, KeyDeletedUnderTheLeaseIsAConflict) {
  EtcdBackend a(Opts(etcd, "del"));
  ASSERT_TRUE(a.TryAcquire(Me("a"))->won);
  httplib::Client cli(etcd.url());
  auto r = cli.Post("/v3/kv/deleterange", "{\"key\":\"" + Base64Encode(a.leader_key()) + "\"}",
                    "application/json");
  ASSERT_TRUE(r && r->status == 200);
  auto st = a.Renew();
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kConflict)) << st.error().message;
}

TEST_F(EtcdBackendTest, StaleLeaseOfAnEarlierRunIsReleased) {
  {
    EtcdBackend first_run(Opts(etcd, "stale"));
    ASSERT_TRUE(first_run.TryAcquire(Me("a"))->won);
  }  // the process "crashed" without releasing
  EtcdBackend second_run(Opts(etcd, "stale"));
  auto obs = second_run.Observe();
  ASSERT_TRUE(obs && obs->leader);
  ASSERT_TRUE(second_run.ReleaseStale(*obs->leader));
  obs = second_run.Observe();
  ASSERT_TRUE(obs);
  EXPECT_FALSE(obs->leader);
  EXPECT_TRUE(second_run.TryAcquire(Me("a"))->won);
}

TEST_F(EtcdBackendTest, DeadEndpointIsSkippedAndDownEtcdIsATransientError) {
  auto o = Opts(etcd, "ep");
  o.endpoints = {"http://127.0.0.1:" + std::to_string(test::FreePort()), etcd.url()};
  EtcdBackend multi(o);
  auto got = multi.TryAcquire(Me("a"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(got->won);
  EXPECT_TRUE(multi.Renew());

  auto dead = Opts(etcd, "ep");
  dead.endpoints = {"http://127.0.0.1:" + std::to_string(test::FreePort())};
  dead.watch = false;
  EtcdBackend down(dead);
  auto obs = down.Observe();
  ASSERT_FALSE(obs);
  EXPECT_TRUE(obs.error().Retryable()) << obs.error().message;
}

TEST(EtcdValueTest, LeaderRecordRoundTrip) {
  LeaderRecord r{"n1", "10.0.0.1:6379", true, 0};
  auto back = DecodeLeaderValue(EncodeLeaderValue(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(DecodeLeaderValue("{\"id\":1}"));
  EXPECT_FALSE(DecodeLeaderValue("not json"));
}

}  // namespace
}  // namespace walrus::elect
