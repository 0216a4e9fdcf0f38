// Unit tests of the RESP encoder and parser and of the error-reply mapping (no server).
#include <gtest/gtest.h>

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

TEST(RespParser, GarbageIsAnIoError) {
  RespParser p;
  ASSERT_TRUE(p.Feed("HTTP/1.1 400 Bad Request\r\n", 26));
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
  for (const char* p : {"LOADING Redis is loading the dataset in memory",
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
