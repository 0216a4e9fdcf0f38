// Unit tests of the RESP encoder and parser and of the error-reply mapping (no server).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "redis/reply.h"
#include "redis/resp_parser.h"
#include "redis/resp_writer.h"

namespace walrus::redis {
namespace {

using namespace std::string_literals;

TEST(RespWriter, EncodesBinarySafeBulkStrings) {
  RespWriter w;
  w.Command({"SET", "k\0ey"s, ""});
  EXPECT_EQ(w.view(), "*3\r\n$3\r\nSET\r\n$4\r\nk\0ey\r\n$0\r\n\r\n"s);
}

TEST(RespWriter, PieceByPieceAndIntegers) {
  RespWriter w;
  w.Array(3);
  w.Bulk("PEXPIREAT");
  w.Bulk(std::string(12, 'x'));
  w.Bulk(int64_t{-1234567890123});
  EXPECT_EQ(w.view(), "*3\r\n$9\r\nPEXPIREAT\r\n$12\r\nxxxxxxxxxxxx\r\n$14\r\n-1234567890123\r\n");
  w.Clear();
  EXPECT_TRUE(w.empty());
  w.Command(std::vector<std::string>{"PING"});
  EXPECT_EQ(w.view(), "*1\r\n$4\r\nPING\r\n");
}

bool FeedStr(RespParser& p, std::string_view s) { return p.Feed(s.data(), s.size()).ok(); }

// Parses all replies in `bytes`, fed in chunks of `chunk` bytes.
std::vector<Reply> ParseAll(const std::string& bytes, size_t chunk) {
  RespParser p;
  std::vector<Reply> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    EXPECT_TRUE(p.Feed(bytes.data() + i, std::min(chunk, bytes.size() - i)));
    while (true) {
      auto next = p.Next();
      EXPECT_TRUE(next.ok());
      if (!next.ok() || !*next) break;
      out.push_back(std::move(**next));
    }
  }
  return out;
}

TEST(RespParser, AllTypesInAnyChunking) {
  const std::string bytes =
      "+OK\r\n:42\r\n$-1\r\n$5\r\na\0b\r\n\r\n-WRONGTYPE Operation against a key\r\n"
      "*3\r\n+QUEUED\r\n-ERR x\r\n*1\r\n:-7\r\n"s;
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, bytes.size()}) {
    auto r = ParseAll(bytes, chunk);
    ASSERT_EQ(r.size(), 6u) << "chunk " << chunk;
    EXPECT_TRUE(r[0].IsStatus("OK"));
    EXPECT_EQ(r[1].type(), ReplyType::kInteger);
    EXPECT_EQ(r[1].integer(), 42);
    EXPECT_TRUE(r[2].IsNil());
    EXPECT_EQ(r[3].type(), ReplyType::kString);
    EXPECT_EQ(r[3].str(), "a\0b\r\n"s);
    EXPECT_TRUE(r[4].IsError());
    EXPECT_EQ(r[4].ErrorPrefix(), "WRONGTYPE");
    ASSERT_EQ(r[5].size(), 3u);
    EXPECT_TRUE(r[5].element(0).IsStatus("QUEUED"));
    EXPECT_EQ(r[5].element(1).ErrorPrefix(), "ERR");
    EXPECT_EQ(r[5].element(2).element(0).integer(), -7);
    EXPECT_EQ(r[5].DebugString(), "[QUEUED, (error) ERR x, [(integer) -7]]");
  }
}

// A random reply tree, its RESP encoding and its DebugString-independent rendering.
struct Gen {
  std::mt19937 rng{12345};
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  std::string Bytes() {
    std::string s(static_cast<size_t>(Pick(40)), '\0');
    for (char& c : s) c = static_cast<char>(Pick(256));
    return s;
  }
  // Appends the encoding to *wire and the expected rendering to *want.
  void Value(int depth, std::string* wire, std::string* want) {
    switch (depth > 3 ? Pick(4) : Pick(6)) {
      case 0: {
        const int64_t v = static_cast<int64_t>(rng()) - (int64_t{1} << 31);
        *wire += ":" + std::to_string(v) + "\r\n";
        *want += "i" + std::to_string(v);
        return;
      }
      case 1:
        *wire += "$-1\r\n";
        *want += "nil";
        return;
      case 2: {
        std::string b = Bytes();
        *wire += "$" + std::to_string(b.size()) + "\r\n" + b + "\r\n";
        *want += "s(" + b + ")";
        return;
      }
      case 3: {
        const bool err = Pick(2) == 0;
        std::string t = err ? "ERR x" + std::to_string(Pick(99)) : "OK" + std::to_string(Pick(9));
        *wire += (err ? "-" : "+") + t + "\r\n";
        *want += (err ? "e(" : "t(") + t + ")";
        return;
      }
      case 4:
        *wire += "*-1\r\n";
        *want += "nil";
        return;
      default: {
        const int n = Pick(6);
        *wire += "*" + std::to_string(n) + "\r\n";
        *want += "[";
        for (int i = 0; i < n; ++i) Value(depth + 1, wire, want);
        *want += "]";
      }
    }
  }
};

std::string Render(ReplyView v) {
  switch (v.type()) {
    case ReplyType::kInteger:
      return "i" + std::to_string(v.integer());
    case ReplyType::kNil:
      return "nil";
    case ReplyType::kString:
      return "s(" + std::string(v.str()) + ")";
    case ReplyType::kStatus:
      return "t(" + std::string(v.str()) + ")";
    case ReplyType::kError:
      return "e(" + std::string(v.str()) + ")";
    case ReplyType::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += Render(v.element(i));
      return out + "]";
    }
  }
  return "?";
}

TEST(RespParser, RandomTreesRoundTripInRandomChunks) {
  Gen g;
  for (int round = 0; round < 200; ++round) {
    std::string wire;
    std::vector<std::string> want(static_cast<size_t>(1 + g.Pick(20)));
    for (std::string& w : want) g.Value(0, &wire, &w);
    const size_t chunk = 1 + static_cast<size_t>(g.Pick(64));
    auto got = ParseAll(wire, chunk);
    ASSERT_EQ(got.size(), want.size()) << "round " << round;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(Render(got[i]), want[i]) << "round " << round << " reply " << i;
    }
  }
}

TEST(RespParser, RecycleKeepsHeldRepliesIntact) {
  RespParser p;
  ASSERT_TRUE(FeedStr(p, "$5\r\nfirst\r\n*2\r\n:1\r\n$3\r\nabc\r\n"));
  auto a = p.Next();
  ASSERT_TRUE(a.ok() && a->has_value());
  Reply held = std::move(**a);
  p.Recycle();  // `held` still refers to the arena: a new one must be started
  auto b = p.Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  for (int i = 0; i < 1000; ++i) {  // grow the new arena a lot
    ASSERT_TRUE(FeedStr(p, "+QUEUED\r\n"));
    auto q = p.Next();
    ASSERT_TRUE(q.ok() && q->has_value());
  }
  EXPECT_EQ(held.str(), "first");
  EXPECT_EQ(Render(**b), "[i1s(abc)]");
  // Once nothing refers to it, the arena is reused and still parses correctly.
  b->reset();
  p.Recycle();
  ASSERT_TRUE(FeedStr(p, ":7\r\n"));
  auto c = p.Next();
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->integer(), 7);
}

TEST(RespParser, GarbageIsAnIoError) {
  RespParser p;
  ASSERT_TRUE(FeedStr(p, "HTTP/1.1 400 Bad Request\r\n"));
  auto next = p.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_TRUE(next.error().Is(Errc::kIo));
  EXPECT_NE(next.error().message.find("protocol error"), std::string::npos);
}

Error ErrorOf(const std::string& line) {
  auto r = ParseAll("-" + line + "\r\n", 64);
  EXPECT_EQ(r.size(), 1u);
  return r.empty() ? Error() : r[0].ToError();
}

TEST(Reply, ErrorPrefixMapping) {
  for (const char* p :
       {"LOADING Redis is loading the dataset in memory",
        "READONLY You can't write against a read only replica.",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "MASTERDOWN Link with MASTER is down", "BUSY Redis is busy running a script",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down", "NOREPLICAS Not enough good replicas",
        "MISCONF Redis is configured to save RDB snapshots"}) {
    Error e = ErrorOf(p);
    EXPECT_TRUE(e.Is(Errc::kUnavailable)) << p;
    EXPECT_TRUE(e.Retryable()) << p;
    EXPECT_EQ(e.message, p);
  }
  for (const char* p : {"NOAUTH Authentication required.",
                        "WRONGPASS invalid username-password pair or user is disabled.",
                        "NOPERM this user has no permissions to run the 'set' command"}) {
    EXPECT_TRUE(ErrorOf(p).Is(Errc::kAuth)) << p;
  }
  for (const char* p : {"WRONGTYPE Operation against a key holding the wrong kind of value",
                        "ERR syntax error", "EXECABORT Transaction discarded", "NOSCRIPT No script",
                        "BUSYKEY Target key name already exists.", "LOADINGX odd", "plain"}) {
    EXPECT_TRUE(ErrorOf(p).Is(Errc::kRejected)) << p;
  }
}

TEST(Reply, ToErrorOnNonErrorIsInternal) {
  auto r = ParseAll(":1\r\n", 64);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].IsError());
  EXPECT_EQ(r[0].ErrorPrefix(), "");
  EXPECT_TRUE(r[0].ToError().Is(Errc::kInternal));
}

}  // namespace
}  // namespace walrus::redis
