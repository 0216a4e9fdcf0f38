// Component tests of Connection against a real redis-server (started per test).
#include "redis/connection.h"

#include <gtest/gtest.h>

#include "testing/free_port.h"
#include "testing/redis_server.h"

namespace walrus::redis {
namespace {

using namespace std::string_literals;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test::RedisServer;
using test::RedisServerOptions;

std::unique_ptr<RedisServer> StartServer(RedisServerOptions o = {}) {
  auto srv = RedisServer::Start(std::move(o));
  EXPECT_TRUE(srv.ok()) << srv.error().message;
  return srv.ok() ? std::move(*srv) : nullptr;
}

std::unique_ptr<Connection> MustConnect(const Endpoint& ep, const ConnectOptions& o = {}) {
  auto c = Connection::Connect(ep, o);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(Connection, CommandsAndHandshake) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  auto ep = *ParseRedisUrl(srv->url() + "/3");
  auto c = MustConnect(ep);
  ASSERT_TRUE(c);
  auto name = c->Command({"CLIENT", "GETNAME"});
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->str(), "walrus");
  ASSERT_TRUE(c->CommandOk({"SET", "in-db-3", "v"}).ok());
  // Visible in db 3 only.
  auto other = MustConnect(srv->endpoint());
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->Command({"GET", "in-db-3"})->IsNil());
  ASSERT_TRUE(other->CommandOk({"SELECT", "3"}).ok());
  EXPECT_EQ(other->Command({"GET", "in-db-3"})->str(), "v");
  // Integer, vector and error replies.
  EXPECT_EQ(c->Command(std::vector<std::string>{"INCRBY", "n", "5"})->integer(), 5);
  auto bad = c->Command({"NOSUCHCOMMAND"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->ErrorPrefix(), "ERR");
  EXPECT_TRUE(bad->ToError().Is(Errc::kRejected));
  auto bad_ok = c->CommandOk({"NOSUCHCOMMAND"});
  ASSERT_FALSE(bad_ok.ok());
  EXPECT_NE(bad_ok.error().message.find("unknown command"), std::string::npos);
  EXPECT_FALSE(c->broken());
}

TEST(Connection, ResolvesHostNames) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  Endpoint ep = srv->endpoint();
  ep.host = "localhost";  // may resolve to ::1 first, where nothing listens: the next address wins
  auto c = MustConnect(ep);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->Command({"PING"})->IsStatus("PONG"));
  ep.host = "no-such-host.invalid";
  auto bad = Connection::Connect(ep);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().Is(Errc::kIo));
  EXPECT_NE(bad.error().message.find("cannot resolve"), std::string::npos) << bad.error().message;
}

TEST(Connection, BinarySafeArguments) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  auto c = MustConnect(srv->endpoint());
  ASSERT_TRUE(c);
  const std::string key = "k\0ey\r\n"s;
  const std::string value = "\0\0$3\r\nSET\r\n\xff"s;
  const std::string_view argv[] = {"SET", key, value};
  ASSERT_TRUE(c->Command(std::span<const std::string_view>(argv)).ok());
  auto got = c->Command({"GET", key});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->str(), value);
  EXPECT_EQ(c->Command({"STRLEN", key})->integer(), static_cast<int64_t>(value.size()));
  EXPECT_TRUE(c->Command({"GET", "k"})->IsNil());  // not truncated at the NUL
  EXPECT_EQ(c->Command({"DBSIZE"})->integer(), 1);
}

TEST(Connection, PipelinedMultiExecWithWrongTypeInside) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  auto c = MustConnect(srv->endpoint());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->CommandOk({"SET", "str", "x"}).ok());
  c->Append({"MULTI"});
  c->AppendArgs("SET", "a", 1);
  c->Append({"LPUSH", "str", "y"});  // WRONGTYPE, only known at EXEC
  c->AppendArgs("INCRBY", std::string("a"), int64_t{41});
  c->Append({"EXEC"});
  EXPECT_EQ(c->pending(), 5u);
  auto r = c->ReadReplies(5);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(c->pending(), 0u);
  ASSERT_EQ(r->size(), 5u);
  EXPECT_TRUE((*r)[0].IsStatus("OK"));
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE((*r)[i].IsStatus("QUEUED")) << i;
  const Reply& exec = (*r)[4];
  ASSERT_EQ(exec.type(), ReplyType::kArray) << exec.DebugString();
  ASSERT_EQ(exec.size(), 3u);
  EXPECT_TRUE(exec.element(0).IsStatus("OK"));
  EXPECT_EQ(exec.element(1).ErrorPrefix(), "WRONGTYPE");
  EXPECT_TRUE(exec.element(1).ToError().Is(Errc::kRejected));
  EXPECT_EQ(exec.element(2).integer(), 42);
}

TEST(Connection, ExecAbortOnQueueTimeError) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  auto c = MustConnect(srv->endpoint());
  ASSERT_TRUE(c);
  c->Append({"MULTI"});
  c->Append({"SET", "a", "1"});
  c->Append({"SET", "only-key"});  // wrong arity: refused while queueing
  c->Append({"EXEC"});
  auto r = c->ReadReplies(4);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE((*r)[1].IsStatus("QUEUED"));
  EXPECT_EQ((*r)[2].ErrorPrefix(), "ERR");
  EXPECT_EQ((*r)[3].ErrorPrefix(), "EXECABORT");
  EXPECT_TRUE((*r)[3].ToError().Is(Errc::kRejected));
  EXPECT_TRUE(c->Command({"GET", "a"})->IsNil());  // nothing applied
}

TEST(Connection, LargeBatchAndPartialReads) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  auto c = MustConnect(srv->endpoint());
  ASSERT_TRUE(c);
  // ~3 MB of commands: far more than the socket buffers, so sending and reading interleave.
  constexpr int kN = 20000;
  const std::string value(128, 'v');
  c->Append({"MULTI"});
  for (int i = 0; i < kN; ++i) c->AppendArgs("SET", "key:" + std::to_string(i), value);
  c->Append({"EXEC"});
  std::vector<Reply> replies;
  ASSERT_TRUE(c->ReadReplies(c->pending(), &replies).ok());
  ASSERT_EQ(replies.size(), static_cast<size_t>(kN + 2));
  EXPECT_EQ(replies.back().size(), static_cast<size_t>(kN));
  EXPECT_EQ(c->Command({"DBSIZE"})->integer(), kN);

  for (int i = 0; i < 10; ++i) c->AppendArgs("INCR", "ctr");
  ASSERT_TRUE(c->ReadReplies(4, &replies).ok());
  EXPECT_EQ(replies.back().integer(), 4);
  EXPECT_EQ(c->pending(), 6u);
  auto bad = c->Command({"PING"});  // replies still pending
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().Is(Errc::kInvalidArgument));
  auto too_many = c->ReadReplies(7);
  ASSERT_FALSE(too_many.ok());
  EXPECT_TRUE(too_many.error().Is(Errc::kInvalidArgument));
  EXPECT_FALSE(c->broken());
  ASSERT_TRUE(c->ReadReplies(6, &replies).ok());
  EXPECT_EQ(replies.back().integer(), 10);
}

TEST(Connection, AuthWithAclUser) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  auto admin = MustConnect(srv->endpoint());
  ASSERT_TRUE(admin);
  ASSERT_TRUE(
      admin->CommandOk({"ACL", "SETUSER", "applier", "on", ">p@ss w:rd", "~*", "+@all"}).ok());

  auto ep =
      ParseRedisUrl("redis://applier:p%40ss%20w%3Ard@127.0.0.1:" + std::to_string(srv->port()));
  ASSERT_TRUE(ep.ok());
  auto c = MustConnect(*ep);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Command({"ACL", "WHOAMI"})->str(), "applier");

  Endpoint wrong = *ep;
  wrong.password = "not-the-password";
  auto bad = Connection::Connect(wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().Is(Errc::kAuth)) << bad.error().message;
  EXPECT_FALSE(bad.error().Retryable());
  EXPECT_NE(bad.error().message.find("AUTH as user 'applier'"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("WRONGPASS"), std::string::npos) << bad.error().message;
  EXPECT_EQ(bad.error().message.find("not-the-password"), std::string::npos);
}

TEST(Connection, RequirePassDefaultUser) {
  RedisServerOptions o;
  o.args = {"--requirepass", "topsecret"};
  auto srv = StartServer(o);
  ASSERT_TRUE(srv);
  auto none = Connection::Connect(srv->endpoint());  // CLIENT SETNAME gets NOAUTH
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.error().Is(Errc::kAuth)) << none.error().message;
  EXPECT_NE(none.error().message.find("requires authentication"), std::string::npos)
      << none.error().message;

  auto c =
      MustConnect(*ParseRedisUrl("redis://:topsecret@127.0.0.1:" + std::to_string(srv->port())));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->Command({"PING"})->IsStatus("PONG"));
}

TEST(Connection, ConnectFailures) {
  Endpoint ep;
  ep.port = test::FreePort();  // nothing listens there
  auto refused = Connection::Connect(ep);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().Is(Errc::kIo)) << refused.error().message;
  EXPECT_NE(refused.error().message.find("Connection refused"), std::string::npos);

  // TLS is supported (see tls_test.cc): a refused TLS connection is an ordinary kIo.
  ep.tls = true;
  auto tls = Connection::Connect(ep);
  ASSERT_FALSE(tls.ok());
  EXPECT_TRUE(tls.error().Is(Errc::kIo)) << tls.error().message;
  EXPECT_NE(tls.error().message.find("Connection refused"), std::string::npos);
}

TEST(Connection, Kill9GivesIoAndBrokenThenReconnectAfterRestart) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  auto c = MustConnect(srv->endpoint());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->CommandOk({"SET", "k", "v"}).ok());
  srv->Kill9();

  c->Append({"SET", "k", "w"});
  auto r = c->ReadReplies(1);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(Errc::kIo)) << r.error().message;
  EXPECT_TRUE(r.error().Retryable());
  EXPECT_TRUE(c->broken());
  for (int i = 0; i < 2; ++i) {  // stays broken, and says so
    auto again = c->Command({"PING"});
    ASSERT_FALSE(again.ok());
    EXPECT_TRUE(again.error().Is(Errc::kIo));
    EXPECT_NE(again.error().message.find("broken"), std::string::npos) << again.error().message;
  }
  EXPECT_EQ(c->pending(), 0u);

  auto down = Connection::Connect(srv->endpoint());
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.error().Is(Errc::kIo));

  ASSERT_TRUE(srv->Restart().ok());
  auto fresh = MustConnect(srv->endpoint());
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(fresh->Command({"PING"})->IsStatus("PONG"));
}

TEST(Connection, NoReplyWithinIoTimeoutIsTimeout) {
  auto srv = StartServer();
  ASSERT_TRUE(srv);
  ConnectOptions o;
  o.io_timeout = milliseconds(200);
  auto c = MustConnect(srv->endpoint(), o);
  ASSERT_TRUE(c);
  const auto start = std::chrono::steady_clock::now();
  auto r = c->Command({"BLPOP", "empty-list", "5"});  // the server answers after 5 s
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(Errc::kTimeout)) << r.error().message;
  EXPECT_TRUE(c->broken());
  EXPECT_LT(took, seconds(3));
}

TEST(Connection, ReadOnlyReplicaMapsToUnavailable) {
  auto primary = StartServer();
  ASSERT_TRUE(primary);
  RedisServerOptions o;
  o.args = {"--replicaof", "127.0.0.1", std::to_string(primary->port())};
  auto replica = StartServer(o);
  ASSERT_TRUE(replica);
  auto c = MustConnect(replica->endpoint());
  ASSERT_TRUE(c);
  auto r = c->Command({"SET", "k", "v"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ErrorPrefix(), "READONLY") << r->DebugString();
  Error e = r->ToError();
  EXPECT_TRUE(e.Is(Errc::kUnavailable));
  EXPECT_TRUE(e.Retryable());
  EXPECT_NE(e.message.find("read only replica"), std::string::npos) << e.message;
  EXPECT_FALSE(c->broken());
}

TEST(Connection, LoadingMapsToUnavailable) {
  // key-load-delay (µs per key) stretches RDB loading; answering clients during the load needs
  // a small events interval.
  RedisServerOptions o;
  o.args = {"--key-load-delay", "500", "--loading-process-events-interval-bytes", "1024"};
  o.wait_until_loaded = false;
  auto srv = StartServer(o);
  ASSERT_TRUE(srv);
  constexpr int kKeys = 3000;  // ~1.5 s of loading
  {
    auto c = MustConnect(srv->endpoint());
    ASSERT_TRUE(c);
    for (int i = 0; i < kKeys; ++i) c->AppendArgs("SET", "key:" + std::to_string(i), i);
    ASSERT_TRUE(c->ReadReplies(kKeys).ok());
    ASSERT_TRUE(c->CommandOk({"SAVE"}).ok());
  }
  ASSERT_TRUE(srv->Restart().ok());

  ConnectOptions co;
  co.client_name.clear();
  auto c = MustConnect(srv->endpoint(), co);
  ASSERT_TRUE(c);
  auto r = c->Command({"SET", "during-load", "1"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ErrorPrefix(), "LOADING") << r->DebugString();
  EXPECT_TRUE(r->ToError().Is(Errc::kUnavailable));
  // The same connection works once loading is done.
  EXPECT_TRUE(test::Eventually(
      [&] {
        auto n = c->Command({"DBSIZE"});
        return n.ok() && n->integer() == kKeys;
      },
      seconds(20), milliseconds(50)));
}

}  // namespace
}  // namespace walrus::redis
