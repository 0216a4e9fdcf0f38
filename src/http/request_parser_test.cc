#include "http/request_parser.h"

#include <gtest/gtest.h>

namespace walrus::http {
namespace {

HeadResult Parse(const std::string& head) { return ParseHead(head, ParseLimits{}); }

TEST(RequestParser, ParsesAHead) {
  auto r = Parse("GET /api/regions/us/key/a%2Fb?backlog=5&x=a+b HTTP/1.1\r\nHost: h\r\n"
                 "Last-Event-ID:  42 \r\nConnection: close\r\n\r\n");
  ASSERT_EQ(r.status, 0) << r.error;
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.path, "/api/regions/us/key/a/b");
  EXPECT_EQ(r.head.params.at("backlog"), "5");
  EXPECT_EQ(r.head.params.at("x"), "a b");
  EXPECT_EQ(r.head.headers.at("last-event-id"), "42");
  EXPECT_FALSE(r.head.keep_alive);
  EXPECT_EQ(r.head.framing, Framing::kNone);
}

TEST(RequestParser, Framing) {
  auto r = Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n");
  EXPECT_EQ(r.head.framing, Framing::kLength);
  EXPECT_EQ(r.head.content_length, 12u);
  r = Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
  EXPECT_EQ(r.head.framing, Framing::kChunked);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n")
                .status,
            400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\n").status, 413);
  r = Parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  EXPECT_TRUE(r.head.expect_continue);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n").status, 417);
  r = Parse("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.head.keep_alive);
  r = Parse("GET http://h:1/p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.head.path, "/p");
}

TEST(ChunkedDecoder, IncrementalFeed) {
  const std::string wire = "4\r\nwiki\r\n5;a=b\r\npedia\r\n0\r\nX: y\r\n\r\nNEXT";
  ChunkedDecoder d(100);
  std::string body, in;
  ChunkedDecoder::State st = ChunkedDecoder::State::kNeedMore;
  for (char c : wire) {  // one byte at a time
    in += c;
    size_t used = 0;
    st = d.Feed(in, &used, body);
    in.erase(0, used);
    if (st != ChunkedDecoder::State::kNeedMore) break;
  }
  EXPECT_EQ(st, ChunkedDecoder::State::kDone);
  EXPECT_EQ(body, "wikipedia");
}

TEST(ChunkedDecoder, Limits) {
  ChunkedDecoder d(5);
  std::string body;
  size_t used = 0;
  EXPECT_EQ(d.Feed("6\r\n", &used, body), ChunkedDecoder::State::kError);
  EXPECT_EQ(d.status(), 413);
  ChunkedDecoder e(5);
  EXPECT_EQ(e.Feed("fffffffffffffffff\r\n", &used, body), ChunkedDecoder::State::kError);
}

}  // namespace
}  // namespace walrus::http
