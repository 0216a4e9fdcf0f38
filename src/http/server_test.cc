// http::Server against real sockets: a server on an ephemeral port, raw TCP requests, exact
// status codes. The framing cases are the ones request smuggling lives on (RFC 9112 section 6).

#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace walrus::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A raw TCP client: send bytes, read until the server closes or a deadline.
class Raw {
 public:
  explicit Raw(int port, int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Raw() { close(fd_); }
  bool ok() const { return ok_; }
  bool Send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until `until` appears in what was read, EOF, or the timeout.
  std::string ReadUntil(const std::string& until, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (until.empty() || got_.find(until) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                               Clock::now());
      if (left <= 0ms) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      got_.append(buf, static_cast<size_t>(n));
    }
    return got_;
  }
  std::string ReadAll(std::chrono::milliseconds timeout = 5s) { return ReadUntil("", timeout); }
  bool eof() const { return eof_; }
  void Clear() { got_.clear(); }

 private:
  int fd_ = -1;
  bool ok_ = false;
  bool eof_ = false;
  std::string got_;
};

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return -1;
  return std::stoi(response.substr(9, 3));
}

class Ticker : public StreamSource {
 public:
  explicit Ticker(std::atomic<int>* closed_overflow) : overflow_(closed_overflow) {}
  void Start(std::function<void()> wake) override {
    wake_ = std::move(wake);
    thread_ = std::thread([this] {
      while (!stop_) {
        std::this_thread::sleep_for(1ms);
        wake_();
      }
    });
  }
  void Pump(StreamWriter& w) override { w.Write(std::string(8192, 'x')); }
  void Closed(CloseReason why) override {
    if (why == CloseReason::kOverflow) ++*overflow_;
    stop_ = true;
  }
  ~Ticker() override {
    stop_ = true;
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();
      } else {
        thread_.join();
      }
    }
  }

 private:
  std::atomic<int>* overflow_;
  std::function<void()> wake_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = {}) {
    o.addr = {"127.0.0.1", 0};
    o.registry = &registry_;
    o.default_headers = {{"X-Content-Type-Options", "nosniff"}};
    server_ = std::make_unique<Server>(
        o,
        [this](const Request& r) {
          if (r.path == "/slow") {
            ++slow_started_;
            std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms_));
            return Response::Json(200, "{\"slow\":true}");
          }
          if (r.path == "/stream") {
            Response s;
            s.content_type = "text/plain";
            s.stream = std::make_shared<Ticker>(&overflows_);
            return s;
          }
          return Response::Json(200, "{\"path\":\"" + r.path + "\",\"body\":" +
                                         std::to_string(r.body.size()) + "}");
        },
        [](const Request& r) { return r.path == "/slow" ? Lane::kWorker : Lane::kInline; });
    auto st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    port_ = server_->port();
  }

  // One request on a fresh connection; the status of the answer.
  int Status(const std::string& request) {
    Raw c(port_);
    EXPECT_TRUE(c.ok());
    c.Send(request);
    return StatusOf(c.ReadUntil("\r\n\r\n"));
  }

  metrics::Registry registry_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  int slow_ms_ = 0;
  std::atomic<int> overflows_{0};
  std::atomic<int> slow_started_{0};
};

TEST_F(ServerTest, ServesKeepAliveAndPipelinedRequests) {
  Start();
  Raw c(port_);
  c.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
         "\r\nabcGET /c?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string got = c.ReadAll();
  EXPECT_NE(got.find("{\"path\":\"/a\",\"body\":0}"), std::string::npos) << got;
  EXPECT_NE(got.find("{\"path\":\"/b\",\"body\":3}"), std::string::npos) << got;
  EXPECT_NE(got.find("{\"path\":\"/c\",\"body\":0}"), std::string::npos) << got;
  EXPECT_NE(got.find("X-Content-Type-Options: nosniff"), std::string::npos) << got;
  EXPECT_TRUE(c.eof());
}

TEST_F(ServerTest, DecodesChunkedBodies) {
  Start();
  Raw c(port_);
  c.Send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n");
  const std::string got = c.ReadUntil("}");
  EXPECT_EQ(StatusOf(got), 200) << got;
  EXPECT_NE(got.find("\"body\":5"), std::string::npos) << got;
}

TEST_F(ServerTest, RefusesAmbiguousFramingWith400) {
  Start();
  const std::string h = "POST /x HTTP/1.1\r\nHost: x\r\n";
  // Two Content-Lengths, conflicting and equal.
  EXPECT_EQ(Status(h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), 400);
  EXPECT_EQ(Status(h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"), 400);
  EXPECT_EQ(Status(h + "Content-Length: 3, 4\r\n\r\nabcd"), 400);
  // Content-Length with Transfer-Encoding, either order.
  EXPECT_EQ(Status(h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"), 400);
  // Codings other than exactly chunked.
  EXPECT_EQ(Status(h + "Transfer-Encoding: gzip\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "Transfer-Encoding: xchunked\r\n\r\n"), 400);
  EXPECT_EQ(Status("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
  // obs-fold, whitespace before the colon, bad bytes, bare LF / CR.
  EXPECT_EQ(Status(h + "X-A: 1\r\n  folded\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "Content-Length : 0\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "X-A: a\x01" "b\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "X-A: a\nX-B: b\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "X-A: a\rb\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "Content-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(Status(h + "Content-Length: +3\r\n\r\nabc"), 400);
  // Bad chunk framing.
  EXPECT_EQ(Status(h + "Transfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);
  EXPECT_EQ(Status(h + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n"), 400);
  // Request line and Host.
  EXPECT_EQ(Status("GET /x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(Status("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(Status("GET  /x HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(Status("GET /x HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
  EXPECT_EQ(Status("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  // The connection is closed after a framing error (its later bytes cannot be trusted).
  Raw c(port_);
  c.Send(h + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nGET /y HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string got = c.ReadAll();
  EXPECT_EQ(StatusOf(got), 400) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos);
  EXPECT_NE(got.find("{\"error\":\"more than one Content-Length\"}"), std::string::npos) << got;
  EXPECT_EQ(got.find("/y"), std::string::npos) << got;
  EXPECT_TRUE(c.eof());
}

TEST_F(ServerTest, HeaderAndBodyLimits) {
  ServerOptions o;
  o.max_header_bytes = 4096;
  o.max_headers = 10;
  o.max_body_bytes = 100;
  Start(o);
  std::string many = "GET /x HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 11; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Status(many + "\r\n"), 431);
  EXPECT_EQ(Status("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n"),
            431);
  EXPECT_EQ(Status("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"), 413);
  EXPECT_EQ(Status("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" +
                   std::string(101, 'a') + "\r\n0\r\n\r\n"),
            413);
  EXPECT_EQ(Status("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                   std::string(100, 'a')),
            200);
}

TEST_F(ServerTest, SlowHeadersAndBodiesAreCutOffWith408) {
  ServerOptions o;
  o.header_timeout = 300ms;
  o.body_timeout = 300ms;
  Start(o);
  Raw head(port_);
  head.Send("GET /x HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  const auto t0 = Clock::now();
  std::string got = head.ReadAll(3s);
  EXPECT_EQ(StatusOf(got), 408) << got;
  EXPECT_TRUE(head.eof());
  EXPECT_LT(Clock::now() - t0, 2s);
  Raw body(port_);
  body.Send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  got = body.ReadAll(3s);
  EXPECT_EQ(StatusOf(got), 408) << got;
  Raw silent(port_);  // a connection that never sends a byte is closed too
  silent.ReadAll(3s);
  EXPECT_TRUE(silent.eof());
}

TEST_F(ServerTest, InlineLaneAnswersWhileEveryWorkerIsBusy) {
  ServerOptions o;
  o.workers = 2;
  o.worker_queue = 2;
  slow_ms_ = 1500;
  Start(o);
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < 4; ++i) {  // 2 running + 2 queued
    slow.push_back(std::make_unique<Raw>(port_));
    slow.back()->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  // Both workers run one (for 1.5 s); the other two were sent before and wait in the queue.
  const auto until = Clock::now() + 5s;
  while (slow_started_.load() < 2 && Clock::now() < until) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(slow_started_.load(), 2);
  EXPECT_EQ(Status("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"), 503);  // queue full: at once
  const auto t0 = Clock::now();
  EXPECT_EQ(Status("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
  EXPECT_LT(Clock::now() - t0, 200ms);
  for (auto& s : slow) EXPECT_EQ(StatusOf(s->ReadUntil("}", 10s)), 200);
}

TEST_F(ServerTest, AtTheCapBusyConnectionsMeanA503) {
  ServerOptions o;
  o.max_connections = 5;
  o.workers = 5;
  slow_ms_ = 1500;
  Start(o);
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 5; ++i) {  // each in a request: not evictable
    held.push_back(std::make_unique<Raw>(port_));
    held.back()->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  const auto until = Clock::now() + 5s;
  while (slow_started_.load() < 5 && Clock::now() < until) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(slow_started_.load(), 5);
  Raw extra(port_);
  const std::string got = extra.ReadAll(2s);
  EXPECT_EQ(StatusOf(got), 503) << got;
  EXPECT_NE(got.find("too many connections"), std::string::npos) << got;
  EXPECT_TRUE(extra.eof());
  for (auto& h : held) EXPECT_EQ(StatusOf(h->ReadUntil("}", 10s)), 200);
}

TEST_F(ServerTest, AtTheCapTheLongestWaitingConnectionMakesRoom) {
  ServerOptions o;
  o.max_connections = 5;
  Start(o);
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < 5; ++i) {  // slowloris: heads that never end
    slow.push_back(std::make_unique<Raw>(port_));
    slow.back()->Send("GET /x HTTP/1.1\r\nHost: x\r\n");
  }
  const auto until = Clock::now() + 5s;  // all five accepted and counted
  while (registry_.Serialize().find("walrus_http_connections 5") == std::string::npos &&
         Clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  // A client that sends its request at once is served; one slow connection (the one that
  // waited longest) was closed for it, the others are untouched.
  const auto t0 = Clock::now();
  EXPECT_EQ(Status("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
  EXPECT_LT(Clock::now() - t0, 500ms);
  int closed = 0;
  for (auto& c : slow) {
    c->ReadAll(300ms);
    closed += c->eof();
  }
  EXPECT_EQ(closed, 1);
  EXPECT_NE(registry_.Serialize().find("walrus_http_connections_evicted_total 1"),
            std::string::npos);
}

TEST_F(ServerTest, NonReadingStreamClientIsDroppedAtTheBound) {
  ServerOptions o;
  o.stream_buffer_bytes = 64 * 1024;
  Start(o);
  Raw c(port_, /*rcvbuf=*/4096);
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  // Never read: 8 KiB per ms goes out until the kernel buffers are full, then the server's
  // bound trips and it drops the stream.
  const auto deadline = Clock::now() + 20s;
  while (overflows_.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(overflows_.load(), 1);
  EXPECT_NE(registry_.Serialize().find("walrus_http_stream_overflows_total 1"), std::string::npos);
}

TEST_F(ServerTest, StopEndsStreamsAndIsIdempotent) {
  Start();
  Raw c(port_);
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadUntil("\r\n\r\n")), 200);
  server_->Stop();
  server_->Stop();
  EXPECT_EQ(server_->port(), 0);
}

TEST_F(ServerTest, BindConflictNamesTheAddress) {
  Start();
  ServerOptions o;
  o.addr = {"127.0.0.1", port_};
  Server second(o, [](const Request&) { return Response::Json(200, "{}"); }, nullptr);
  auto st = second.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(port_)),
            std::string::npos)
      << st.error().message;
}

}  // namespace
}  // namespace walrus::http
