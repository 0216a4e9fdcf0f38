#include "core/host_port.h"

#include <gtest/gtest.h>

namespace walrus {
namespace {

HostPort MustParse(std::string_view s) {
  auto r = ParseHostPort(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : HostPort{};
}

TEST(ParseHostPortTest, AcceptsTheDocumentedForms) {
  EXPECT_EQ(MustParse("127.0.0.1:9000"), (HostPort{"127.0.0.1", 9000}));
  EXPECT_EQ(MustParse(":9000"), (HostPort{"0.0.0.0", 9000}));
  EXPECT_EQ(MustParse("localhost:0"), (HostPort{"localhost", 0}));
  EXPECT_EQ(MustParse("[::1]:65535"), (HostPort{"::1", 65535}));
  EXPECT_EQ(MustParse("admin.example.com:00080"), (HostPort{"admin.example.com", 80}));
}

TEST(ParseHostPortTest, RejectsWithAClearMessage) {
  struct Case {
    const char* input;
    const char* why;
  };
  for (const Case& c :
       {Case{"", "empty"}, Case{"localhost", "missing ':PORT'"}, Case{"localhost:", "missing port"},
        Case{"host:http", "not a number"}, Case{"host:-1", "not a number"},
        Case{"host:65536", "out of range"}, Case{"host:123456", "out of range"},
        Case{"::1:80", "brackets"}, Case{"[::1:80", "missing ']'"}, Case{"[::1]80", "after ']'"},
        Case{"[]:80", "empty IPv6"}, Case{"my host:80", "space"}}) {
    auto r = ParseHostPort(c.input);
    ASSERT_FALSE(r.ok()) << "accepted '" << c.input << "'";
    EXPECT_TRUE(r.error().Is(Errc::kInvalidArgument));
    EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("'" + std::string(c.input) + "'"), std::string::npos)
        << r.error().message;
  }
}

TEST(ParseHostPortTest, ToStringRoundTrips) {
  for (const char* s : {"127.0.0.1:9000", "0.0.0.0:0", "[::1]:80", "localhost:6379"}) {
    EXPECT_EQ(MustParse(s).ToString(), s);
    EXPECT_EQ(MustParse(MustParse(s).ToString()), MustParse(s));
  }
}

TEST(SplitHostPortTest, SplitsWithoutJudgingThePort) {
  auto a = SplitHostPort("cache.internal");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "cache.internal");
  EXPECT_FALSE(a->has_port);
  auto b = SplitHostPort("h:");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->has_port);
  EXPECT_EQ(b->port, "");
  auto c = SplitHostPort("[fe80::1]:abc");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "fe80::1");
  EXPECT_EQ(c->port, "abc");
  auto d = SplitHostPort("[::1]");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->host, "::1");
  EXPECT_FALSE(d->has_port);
  auto e = SplitHostPort(":6379");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "");
  EXPECT_EQ(e->port, "6379");
  EXPECT_NE(SplitHostPort("[::1").error().message.find("missing ']'"), std::string::npos);
  EXPECT_NE(SplitHostPort("::1:6379").error().message.find("brackets"), std::string::npos);
  EXPECT_NE(SplitHostPort("[::1]x").error().message.find("after ']'"), std::string::npos);
}

TEST(FormatHostPortTest, BracketsIpv6) {
  EXPECT_EQ(FormatHostPort("127.0.0.1", 6379), "127.0.0.1:6379");
  EXPECT_EQ(FormatHostPort("::1", 80), "[::1]:80");
}

}  // namespace
}  // namespace walrus
