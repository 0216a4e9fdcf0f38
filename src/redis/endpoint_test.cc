#include "redis/endpoint.h"

#include <gtest/gtest.h>

namespace walrus::redis {
namespace {

Endpoint Parse(std::string_view url) {
  auto ep = ParseRedisUrl(url);
  EXPECT_TRUE(ep.ok()) << url << ": " << (ep.ok() ? "" : ep.error().message);
  return ep.ok() ? *ep : Endpoint{};
}

std::string ParseError(std::string_view url) {
  auto ep = ParseRedisUrl(url);
  EXPECT_FALSE(ep.ok()) << url << " parsed as " << (ep.ok() ? Redacted(*ep) : "");
  if (ep.ok()) return "";
  EXPECT_TRUE(ep.error().Is(Errc::kInvalidArgument));
  return ep.error().message;
}

TEST(ParseRedisUrl, HostOnlyUsesDefaults) {
  Endpoint ep = Parse("redis://cache.internal");
  EXPECT_EQ(ep.host, "cache.internal");
  EXPECT_EQ(ep.port, 6379);
  EXPECT_EQ(ep.db, 0);
  EXPECT_TRUE(ep.user.empty());
  EXPECT_TRUE(ep.password.empty());
  EXPECT_FALSE(ep.tls);
}

TEST(ParseRedisUrl, FullForm) {
  Endpoint ep = Parse("redis://app:s3cret@10.0.0.5:6380/2");
  EXPECT_EQ(ep.host, "10.0.0.5");
  EXPECT_EQ(ep.port, 6380);
  EXPECT_EQ(ep.user, "app");
  EXPECT_EQ(ep.password, "s3cret");
  EXPECT_EQ(ep.db, 2);
}

TEST(ParseRedisUrl, PasswordOnlyForms) {
  Endpoint a = Parse("redis://:pw@h:1");
  EXPECT_EQ(a.user, "");
  EXPECT_EQ(a.password, "pw");
  Endpoint b = Parse("redis://pw@h:1");  // as redis-cli reads it
  EXPECT_EQ(b.user, "");
  EXPECT_EQ(b.password, "pw");
}

TEST(ParseRedisUrl, PercentDecodesUserAndPassword) {
  Endpoint ep = Parse("redis://us%65r:p%40ss%3Aw%2Fo%25rd@h:7000");
  EXPECT_EQ(ep.user, "user");
  EXPECT_EQ(ep.password, "p@ss:w/o%rd");
  EXPECT_EQ(ep.port, 7000);
  // A raw '@' in the password: the last '@' ends the userinfo.
  Endpoint raw = Parse("redis://u:a@b@h");
  EXPECT_EQ(raw.password, "a@b");
  EXPECT_EQ(raw.host, "h");
}

TEST(ParseRedisUrl, TlsSchemeSetsFlag) {
  Endpoint ep = Parse("rediss://u:p@secure:6390");
  EXPECT_TRUE(ep.tls);
  EXPECT_EQ(ep.port, 6390);
}

TEST(ParseRedisUrl, Ipv6AndBareForms) {
  Endpoint v6 = Parse("redis://[::1]:7001/3");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 7001);
  EXPECT_EQ(v6.db, 3);
  Endpoint bare = Parse("localhost:6400");
  EXPECT_EQ(bare.host, "localhost");
  EXPECT_EQ(bare.port, 6400);
  Endpoint slash = Parse("redis://h:1/");
  EXPECT_EQ(slash.db, 0);
}

TEST(ParseRedisUrl, ErrorsNameTheProblem) {
  EXPECT_NE(ParseError("http://h:1").find("unsupported scheme 'http'"), std::string::npos);
  EXPECT_NE(ParseError("redis://h:0").find("port '0'"), std::string::npos);
  EXPECT_NE(ParseError("redis://h:65536").find("port '65536'"), std::string::npos);
  EXPECT_NE(ParseError("redis://h:abc").find("port 'abc'"), std::string::npos);
  EXPECT_NE(ParseError("redis://h:").find("empty port"), std::string::npos);
  EXPECT_NE(ParseError("redis://:6379").find("missing host"), std::string::npos);
  EXPECT_NE(ParseError("redis://").find("missing host"), std::string::npos);
  EXPECT_NE(ParseError("redis://h/x").find("database 'x'"), std::string::npos);
  EXPECT_NE(ParseError("redis://h/-1").find("database '-1'"), std::string::npos);
  EXPECT_NE(ParseError("redis://h?db=1").find("query"), std::string::npos);
  EXPECT_NE(ParseError("redis://[::1").find("IPv6"), std::string::npos);
  EXPECT_NE(ParseError("redis://::1:6379").find("brackets"), std::string::npos);
  EXPECT_NE(ParseError("redis://u:%zz@h").find("percent-escape in password"), std::string::npos);
  EXPECT_NE(ParseError("redis://u:%4@h").find("percent-escape in password"), std::string::npos);
  EXPECT_NE(ParseError("redis://u:@h").find("user 'u' given without a password"),
            std::string::npos);
}

TEST(ParseRedisUrl, ErrorsNeverContainThePassword) {
  const std::string msg = ParseError("redis://u:hunter2%zz@h:99999");
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
}

TEST(Redacted, HidesPasswordKeepsTheRest) {
  EXPECT_EQ(Redacted(Parse("redis://app:s3cret@10.0.0.5:6380/2")),
            "redis://app:***@10.0.0.5:6380/2");
  EXPECT_EQ(Redacted(Parse("redis://:pw@h")), "redis://:***@h:6379");
  EXPECT_EQ(Redacted(Parse("rediss://[::1]:7000")), "rediss://[::1]:7000");
  EXPECT_EQ(Redacted(Parse("redis://h:1/0")), "redis://h:1");
}

TEST(Redacted, RoundTripsWithoutSecrets) {
  for (const char* url : {"redis://h:1", "redis://h:1/5", "rediss://[::1]:2/3"}) {
    EXPECT_EQ(Parse(Redacted(Parse(url))), Parse(url)) << url;
  }
}

}  // namespace
}  // namespace walrus::redis
