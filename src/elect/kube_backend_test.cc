// Tests of KubeBackend against a scripted API server (cpp-httplib) that follows the documented
// coordination.k8s.io/v1 Lease API: GET/POST/PUT, bearer token, resourceVersion optimistic
// concurrency with 409 Conflict (and 409 AlreadyExists on create), 404 for a missing object.
// No real API server can run here.

#include "elect/kube_backend.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <thread>

#include "testing/free_port.h"

namespace walrus::elect {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kItem = "/apis/coordination.k8s.io/v1/namespaces/db/leases/redis";
constexpr const char* kCollection = "/apis/coordination.k8s.io/v1/namespaces/db/leases";

class ScriptedApiServer {
 public:
  ScriptedApiServer() {
    srv_.Get(kItem, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      if (!Authorized(req, res)) return;
      log.push_back("GET");
      if (lease.is_null()) return Status(res, 404, "NotFound");
      res.set_content(lease.dump(), "application/json");
    });
    srv_.Post(kCollection, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      if (!Authorized(req, res)) return;
      if (!lease.is_null()) {
        log.push_back("POST 409");
        return Status(res, 409, "AlreadyExists");
      }
      lease = json::parse(req.body);
      lease["metadata"]["resourceVersion"] = std::to_string(++rv);
      log.push_back("POST 201");
      res.status = 201;
      res.set_content(lease.dump(), "application/json");
    });
    srv_.Put(kItem, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      if (!Authorized(req, res)) return;
      if (lease.is_null()) return Status(res, 404, "NotFound");
      if (inject_conflicts > 0) {  // someone else updated the object just before
        --inject_conflicts;
        lease["metadata"]["labels"]["touched"] = std::to_string(rv);
        lease["metadata"]["resourceVersion"] = std::to_string(++rv);
      }
      auto body = json::parse(req.body);
      if (body["metadata"].value("resourceVersion", "") !=
          lease["metadata"]["resourceVersion"].get<std::string>()) {
        log.push_back("PUT 409");
        return Status(res, 409, "Conflict");
      }
      lease = body;
      lease["metadata"]["resourceVersion"] = std::to_string(++rv);
      log.push_back("PUT 200");
      res.set_content(lease.dump(), "application/json");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~ScriptedApiServer() {
    srv_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The object as another writer would change it.
  void Modify(const std::function<void(json&)>& f) {
    std::lock_guard lock(mu);
    f(lease);
    lease["metadata"]["resourceVersion"] = std::to_string(++rv);
  }

  std::mutex mu;
  json lease;  // null: absent
  int64_t rv = 100;
  int inject_conflicts = 0;
  std::string token = "t0k3n";
  std::vector<std::string> log;

 private:
  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") == "Bearer " + token) return true;
    log.push_back("401");
    Status(res, 401, "Unauthorized");
    return false;
  }
  static void Status(httplib::Response& res, int code, const std::string& reason) {
    res.status = code;
    res.set_content(json{{"kind", "Status"},
                         {"apiVersion", "v1"},
                         {"status", "Failure"},
                         {"reason", reason},
                         {"message", reason},
                         {"code", code}}
                        .dump(),
                    "application/json");
  }

  httplib::Server srv_;
  std::thread thread_;
  int port_ = 0;
};

class KubeBackendTest : public ::testing::Test {
 protected:
  KubeBackendTest() {
    token_file = ::testing::TempDir() + "/walrus-kube-token-" + std::to_string(test::FreePort());
    WriteToken("t0k3n\n");
  }
  ~KubeBackendTest() override { std::remove(token_file.c_str()); }
  void WriteToken(const std::string& t) { std::ofstream(token_file) << t; }
  KubeOptions Opts() {
    KubeOptions o;
    o.api_server = api.url();
    o.name_space = "db";
    o.name = "redis";
    o.token_file = token_file;
    o.ttl = 1s;
    return o;
  }
  std::vector<std::string> Log() {
    std::lock_guard lock(api.mu);
    auto l = api.log;
    api.log.clear();
    return l;
  }

  ScriptedApiServer api;
  std::string token_file;
};

LeaderRecord Me(const std::string& id) { return LeaderRecord{id, id + ":6379", false, 0}; }

TEST_F(KubeBackendTest, CreateThenFollowersSeeALiveHolder) {
  KubeBackend a(Opts()), b(Opts());
  auto obs = a.Observe();
  ASSERT_TRUE(obs) << obs.error().message;
  EXPECT_FALSE(obs->leader);
  auto got = a.TryAcquire(Me("a"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(got->won);
  EXPECT_EQ(got->epoch, 1);
  EXPECT_EQ(Log(), (std::vector<std::string>{"GET", "POST 201"}));
  {
    std::lock_guard lock(api.mu);
    EXPECT_EQ(api.lease["spec"]["holderIdentity"], "a");
    EXPECT_EQ(api.lease["spec"]["leaseDurationSeconds"], 1);
    EXPECT_EQ(api.lease["spec"]["leaseTransitions"], 1);
    EXPECT_EQ(api.lease["metadata"]["annotations"]["walrus.io/advertise"], "a:6379");
    EXPECT_EQ(api.lease["spec"]["renewTime"].get<std::string>().size(), 27u);
  }
  obs = b.Observe();
  ASSERT_TRUE(obs && obs->leader);
  EXPECT_EQ(obs->leader->id, "a");
  EXPECT_EQ(obs->leader->epoch, 1);
  EXPECT_FALSE(obs->leader->serving);
  auto lost = b.TryAcquire(Me("b"));
  ASSERT_TRUE(lost);
  EXPECT_FALSE(lost->won) << "a live holder's lease is not taken";

  auto rec = Me("a");
  rec.serving = true;
  ASSERT_TRUE(a.Publish(rec));
  obs = b.Observe();
  ASSERT_TRUE(obs && obs->leader);
  EXPECT_TRUE(obs->leader->serving);
}

TEST_F(KubeBackendTest, RenewRetriesAfter409WhenStillTheHolder) {
  KubeBackend a(Opts());
  ASSERT_TRUE(a.Observe());
  ASSERT_TRUE(a.TryAcquire(Me("a"))->won);
  Log();
  api.inject_conflicts = 1;  // e.g. an operator added a label
  ASSERT_TRUE(a.Renew());
  EXPECT_EQ(Log(), (std::vector<std::string>{"PUT 409", "GET", "PUT 200"}));
  std::lock_guard lock(api.mu);
  EXPECT_EQ(api.lease["metadata"]["labels"]["touched"], "101") << "the other change is kept";
}

TEST_F(KubeBackendTest, RenewAfterTakeoverIsLost) {
  KubeBackend a(Opts());
  ASSERT_TRUE(a.Observe());
  ASSERT_TRUE(a.TryAcquire(Me("a"))->won);
  api.Modify([](json& l) {
    l["spec"]["holderIdentity"] = "b";
    l["spec"]["leaseTransitions"] = 2;
  });
  auto st = a.Renew();
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kConflict)) << st.error().message;
  EXPECT_TRUE(a.Release()) << "releasing a lease taken over is a no-op";
  std::lock_guard lock(api.mu);
  EXPECT_EQ(api.lease["spec"]["holderIdentity"], "b");
}

TEST_F(KubeBackendTest, ExpiryIsJudgedOnTheObserversClockThenTakeoverBumpsTheEpoch) {
  KubeBackend a(Opts()), b(Opts());
  ASSERT_TRUE(a.Observe());
  ASSERT_TRUE(a.TryAcquire(Me("a"))->won);
  const auto first_seen = std::chrono::steady_clock::now();
  ASSERT_TRUE(b.Observe()->leader);
  // a stops renewing. b sees no change of resourceVersion for the lease duration.
  while (true) {
    auto obs = b.Observe();
    ASSERT_TRUE(obs);
    if (!obs->leader) break;
    ASSERT_LT(std::chrono::steady_clock::now() - first_seen, 3s);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - first_seen, 1s);
  auto got = b.TryAcquire(Me("b"));
  ASSERT_TRUE(got && got->won);
  EXPECT_EQ(got->epoch, 2);
  auto st = a.Renew();
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kConflict));
}

TEST_F(KubeBackendTest, TwoCandidatesRaceOneWinsTheOtherGets409) {
  KubeBackend a(Opts()), b(Opts()), c(Opts());
  ASSERT_TRUE(c.Observe());
  ASSERT_TRUE(c.TryAcquire(Me("c"))->won);
  ASSERT_TRUE(c.Release());
  ASSERT_FALSE(a.Observe()->leader);
  ASSERT_FALSE(b.Observe()->leader);
  Log();
  auto ga = a.TryAcquire(Me("a"));
  auto gb = b.TryAcquire(Me("b"));
  ASSERT_TRUE(ga && gb);
  EXPECT_TRUE(ga->won);
  EXPECT_FALSE(gb->won);
  EXPECT_EQ(Log(), (std::vector<std::string>{"PUT 200", "PUT 409"}));
  EXPECT_EQ(ga->epoch, 2);
  auto obs = b.Observe();
  ASSERT_TRUE(obs && obs->leader);
  EXPECT_EQ(obs->leader->id, "a");
}

TEST_F(KubeBackendTest, ReleaseFreesAtOnceAndStaleLeasesAreReleased) {
  KubeBackend a(Opts()), b(Opts());
  ASSERT_TRUE(a.Observe());
  ASSERT_TRUE(a.TryAcquire(Me("a"))->won);
  ASSERT_TRUE(b.Observe()->leader);
  ASSERT_TRUE(a.Release());
  EXPECT_FALSE(b.Observe()->leader);
  EXPECT_EQ(b.Observe()->last_epoch, 1);
  ASSERT_TRUE(b.TryAcquire(Me("b"))->won);
  // b "crashes"; its next run finds its own stale lease and releases it.
  KubeBackend b2(Opts());
  auto obs = b2.Observe();
  ASSERT_TRUE(obs && obs->leader);
  ASSERT_TRUE(b2.ReleaseStale(*obs->leader));
  EXPECT_FALSE(b2.Observe()->leader);
}

TEST_F(KubeBackendTest, TokenIsSentAndReReadAndBadTokensAreAuthErrors) {
  KubeBackend a(Opts());
  ASSERT_TRUE(a.Observe());
  {
    std::lock_guard lock(api.mu);
    api.token = "rotated";
  }
  auto obs = a.Observe();
  ASSERT_FALSE(obs);
  EXPECT_TRUE(obs.error().Is(Errc::kAuth)) << obs.error().message;
  WriteToken("rotated");
  EXPECT_TRUE(a.Observe()) << "the token file is read again";
}

TEST_F(KubeBackendTest, ApiServerDownIsTransient) {
  auto o = Opts();
  o.api_server = "http://127.0.0.1:" + std::to_string(test::FreePort());
  KubeBackend a(o);
  auto obs = a.Observe();
  ASSERT_FALSE(obs);
  EXPECT_TRUE(obs.error().Retryable());
}

TEST(KubeMicroTimeTest, Format) {
  const std::string t = KubeMicroTime();
  ASSERT_EQ(t.size(), 27u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace walrus::elect
