#include "http/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

namespace walrus::http {
namespace {

constexpr int kWorkersForTest = AdminServer::kWorkers;

// A raw TCP connection to 127.0.0.1:port; -1 on failure.
int ConnectRaw(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

using nlohmann::json;

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<metrics::Registry>();
    server_ = std::make_unique<AdminServer>(HostPort{"127.0.0.1", 0}, registry_);
  }

  void StartServer() {
    auto st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_GT(server_->port(), 0);
  }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_connection_timeout(2);
    c.set_read_timeout(5);
    return c;
  }

  // GET returning the response; fails the test if the request itself fails.
  httplib::Response Get(const std::string& path) {
    auto res = Client().Get(path.c_str());
    EXPECT_TRUE(res) << "GET " << path << ": " << httplib::to_string(res.error());
    return res ? res.value() : httplib::Response{};
  }

  std::shared_ptr<metrics::Registry> registry_;
  std::unique_ptr<AdminServer> server_;
};

TEST_F(AdminServerTest, HealthzIsOkByDefaultAndReportsAFailingCheck) {
  StartServer();
  auto res = Get("/healthz");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(res.body)["status"], "ok");

  server_->SetLiveness([] { return std::pair{false, std::string("event loop stuck for 31s")}; });
  res = Get("/healthz");
  EXPECT_EQ(res.status, 503);
  auto body = json::parse(res.body);
  EXPECT_EQ(body["status"], "unavailable");
  EXPECT_EQ(body["detail"], "event loop stuck for 31s");
}

TEST_F(AdminServerTest, ReadyzFlipsWithTheCheck) {
  std::atomic<bool> ready{false};
  server_->SetReadiness([&] {
    return ready ? std::pair{true, std::string("assigned 3 partitions")}
                 : std::pair{false, std::string("waiting for assignment")};
  });
  StartServer();
  auto res = Get("/readyz");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(json::parse(res.body)["detail"], "waiting for assignment");

  ready = true;
  res = Get("/readyz");
  EXPECT_EQ(res.status, 200);
  auto body = json::parse(res.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["detail"], "assigned 3 partitions");
  // Liveness is independent of readiness.
  ready = false;
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 503);
}

TEST_F(AdminServerTest, ThrowingCheckIsUnavailable) {
  server_->SetReadiness(
      []() -> std::pair<bool, std::string> { throw std::runtime_error("redis unreachable"); });
  StartServer();
  auto res = Get("/readyz");
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(json::parse(res.body)["detail"].get<std::string>().find("redis unreachable"),
            std::string::npos);
}

TEST_F(AdminServerTest, MetricsServesTheRegistry) {
  auto& c = registry_->Counter("walrus_test_admin_hits_total", "hits").Add({{"k", "v"}});
  c.Increment(41);
  StartServer();
  c.Increment();
  auto res = Get("/metrics");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
      << res.get_header_value("Content-Type");
  EXPECT_NE(res.body.find("walrus_test_admin_hits_total{k=\"v\"} 42\n"), std::string::npos)
      << res.body;
  EXPECT_NE(res.body.find("\nprocess_resident_memory_bytes "), std::string::npos) << res.body;
}

TEST_F(AdminServerTest, UnknownPathIs404JsonAndWrongMethodIs405) {
  StartServer();
  auto res = Get("/nope?x=1");
  EXPECT_EQ(res.status, 404);
  auto body = json::parse(res.body);
  EXPECT_EQ(body["error"], "not found");
  EXPECT_EQ(body["path"], "/nope");

  auto post = Client().Post("/healthz", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET");
  EXPECT_EQ(json::parse(post->body)["error"], "method not allowed");
}

TEST_F(AdminServerTest, HeadIsAnsweredLikeGetWithoutBody) {
  StartServer();
  auto res = Client().Head("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
}

TEST_F(AdminServerTest, ExtraRoutesSeeTheRequestAndExceptionsBecome500) {
  server_->Handle("POST", "/echo", [](const Request& req) {
    json j{{"body", req.body},
           {"who", req.params.count("who") ? req.params.at("who") : ""},
           {"hdr", req.headers.count("x-test") ? req.headers.at("x-test") : ""}};
    Response r = Response::Json(201, j.dump());
    r.headers.emplace_back("X-Reply", "yes");
    return r;
  });
  server_->Handle("GET", "/boom",
                  [](const Request&) -> Response { throw std::runtime_error("kaboom"); });
  StartServer();

  httplib::Headers headers{{"X-Test", "h1"}};
  auto res = Client().Post("/echo?who=alice", headers, "payload", "text/plain");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->get_header_value("X-Reply"), "yes");
  auto body = json::parse(res->body);
  EXPECT_EQ(body["body"], "payload");
  EXPECT_EQ(body["who"], "alice");
  EXPECT_EQ(body["hdr"], "h1");

  auto boom = Get("/boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(json::parse(boom.body)["detail"], "kaboom");
  // The server survives a throwing handler.
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(AdminServerTest, BindConflictNamesTheAddress) {
  StartServer();
  const int port = server_->port();
  AdminServer second(HostPort{"127.0.0.1", port}, registry_);
  auto st = second.Start();
  ASSERT_FALSE(st.ok()) << "second server bound a port already in use";
  EXPECT_TRUE(st.error().Is(Errc::kIo));
  const auto& msg = st.error().message;
  EXPECT_NE(msg.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << msg;
  EXPECT_NE(msg.find("in use"), std::string::npos) << msg;
  EXPECT_EQ(second.port(), 0);
  // The first server is unaffected.
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(AdminServerTest, BindConflictWithAForeignListener) {
  // A plain socket (no SO_REUSEPORT games) holding a port.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const int port = ntohs(sa.sin_port);

  AdminServer s(HostPort{"127.0.0.1", port}, registry_);
  auto st = s.Start();
  close(fd);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("in use"), std::string::npos) << st.error().message;
}

TEST_F(AdminServerTest, UnresolvableHostIsAnError) {
  AdminServer s(HostPort{"no-such-host.invalid", 0}, registry_);
  auto st = s.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no-such-host.invalid:0"), std::string::npos)
      << st.error().message;
}

TEST_F(AdminServerTest, StopClosesThePortAndRestartWorks) {
  server_->Stop();  // before Start: no-op
  StartServer();
  const int port = server_->port();
  EXPECT_FALSE(server_->Start().ok());  // already started
  server_->Stop();
  server_->Stop();  // idempotent
  EXPECT_EQ(server_->port(), 0);
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  EXPECT_FALSE(c.Get("/healthz"));

  StartServer();
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(AdminServerTest, StartThenImmediateStopDoesNotHang) {
  for (int i = 0; i < 20; ++i) {
    AdminServer s(HostPort{"127.0.0.1", 0}, registry_);
    ASSERT_TRUE(s.Start().ok());
    s.Stop();
  }
}

TEST_F(AdminServerTest, ConcurrentScrapesAllSucceed) {
  auto& c = registry_->Counter("walrus_test_busy_total", "busy").Add({});
  StartServer();
  std::atomic<int> ok{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) c.Increment();
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&] {
      auto cli = Client();
      for (int i = 0; i < 25; ++i) {
        auto res = cli.Get(i % 2 ? "/metrics" : "/readyz");
        if (res && res->status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  stop = true;
  writer.join();
  EXPECT_EQ(ok, 6 * 25);
}

// More slow-header clients than the old server had workers (4) must not starve /healthz: they
// hold connections, not threads.
TEST_F(AdminServerTest, SlowHeaderClientsDoNotStarveHealthz) {
  StartServer();
  std::vector<int> slow;
  for (int i = 0; i < 3 * kWorkersForTest; ++i) {
    const int fd = ConnectRaw(server_->port());
    ASSERT_GE(fd, 0);
    const std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";  // no blank line
    ASSERT_EQ(send(fd, partial.data(), partial.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(partial.size()));
    slow.push_back(fd);
  }
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(Get("/healthz").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  }
  for (int fd : slow) close(fd);
}

// Ambiguous framing is refused, not guessed at.
TEST_F(AdminServerTest, ConflictingContentLengthIs400) {
  StartServer();
  const int fd = ConnectRaw(server_->port());
  ASSERT_GE(fd, 0);
  const std::string req =
      "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
  ASSERT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  char buf[512] = {};
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
  close(fd);
  ASSERT_GT(n, 12);
  EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 400");
}

}  // namespace
}  // namespace walrus::http
