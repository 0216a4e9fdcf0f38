#include "http/host_port.h"

#include <gtest/gtest.h>

namespace walrus::http {
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

}  // namespace
}  // namespace walrus::http
