#include "gateway/gateway_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace walrus::gateway {
namespace {

GatewayFlags ThreeRegions() {
  GatewayFlags f;
  for (const char* r : {"us", "eu", "ap"}) {
    f.regions.push_back(std::string(r) + "=127.0.0.1:9092,127.0.0.1:9093");
    f.redis.push_back(std::string(r) + "=redis://127.0.0.1:6379/1");
  }
  f.token_env = "tok";
  return f;
}

std::string ErrorOf(const GatewayFlags& f) {
  try {
    BuildConfig(f);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(GatewayConfig, ThreeRegionsKeepOrderAndDeriveTopics) {
  GatewayFlags f = ThreeRegions();
  f.hlc_dir = "/var/lib/walrus";
  GatewayConfig c = BuildConfig(f);
  ASSERT_EQ(c.regions.size(), 3u);
  EXPECT_EQ(c.regions[0].name, "us");
  EXPECT_EQ(c.regions[2].name, "ap");
  EXPECT_EQ(c.regions[1].topic, "eu.events");
  EXPECT_EQ(c.regions[1].brokers, "127.0.0.1:9092,127.0.0.1:9093");
  EXPECT_EQ(c.regions[1].redis.db, 1);
  EXPECT_EQ(c.regions[0].hlc_floor_file, "/var/lib/walrus/hlc-us");
  EXPECT_EQ(c.http.port, 8080);
  EXPECT_EQ(c.token, "tok");
  EXPECT_NE(c.FindRegion("eu"), nullptr);
  EXPECT_EQ(c.FindRegion("xx"), nullptr);
  EXPECT_TRUE(c.validate_crdt);
}

TEST(GatewayConfig, DescribeHidesSecrets) {
  GatewayFlags f = ThreeRegions();
  f.redis[0] = "us=redis://app:hunter2@127.0.0.1:6379";
  f.token_env = "supersecret";
  const std::string d = BuildConfig(f).Describe();
  EXPECT_EQ(d.find("hunter2"), std::string::npos) << d;
  EXPECT_EQ(d.find("supersecret"), std::string::npos) << d;
  EXPECT_NE(d.find("us.events"), std::string::npos) << d;
}

TEST(GatewayConfig, TopicSuffix) {
  GatewayFlags f = ThreeRegions();
  f.topic_suffix = "-ops";
  EXPECT_EQ(BuildConfig(f).regions[0].topic, "us-ops");
  f.topic_suffix = "";
  EXPECT_NE(ErrorOf(f).find("--topic-suffix"), std::string::npos);
}

TEST(GatewayConfig, RegionErrorsNameTheFlag) {
  GatewayFlags f = ThreeRegions();
  f.redis.pop_back();
  EXPECT_NE(ErrorOf(f).find("no Redis for region 'ap'"), std::string::npos) << ErrorOf(f);

  f = ThreeRegions();
  f.regions.push_back("us=other:1");
  EXPECT_NE(ErrorOf(f).find("'us' given twice"), std::string::npos) << ErrorOf(f);

  f = ThreeRegions();
  f.redis.push_back("xx=redis://h:1");
  EXPECT_NE(ErrorOf(f).find("'xx' has no --region"), std::string::npos) << ErrorOf(f);

  f = ThreeRegions();
  f.regions[0] = "u s=h:1";
  EXPECT_NE(ErrorOf(f).find("region name 'u s'"), std::string::npos) << ErrorOf(f);

  f = ThreeRegions();
  f.regions[0] = "us";
  EXPECT_NE(ErrorOf(f).find("--region expects NAME=VALUE"), std::string::npos) << ErrorOf(f);

  f = ThreeRegions();
  f.redis[0] = "us=redis://h:notaport";
  EXPECT_NE(ErrorOf(f).find("--redis us:"), std::string::npos) << ErrorOf(f);

  f = ThreeRegions();
  f.regions.clear();
  EXPECT_NE(ErrorOf(f).find("--region"), std::string::npos) << ErrorOf(f);
}

TEST(GatewayConfig, TokenRequiredUnlessNoAuth) {
  GatewayFlags f = ThreeRegions();
  f.token_env.clear();
  EXPECT_NE(ErrorOf(f).find("no token"), std::string::npos) << ErrorOf(f);
  f.no_auth = true;
  EXPECT_TRUE(BuildConfig(f).no_auth);
  f.token_env = "tok";
  EXPECT_NE(ErrorOf(f).find("--no-auth conflicts"), std::string::npos) << ErrorOf(f);
}

TEST(GatewayConfig, TokenFileWinsAndIsTrimmed) {
  const std::string path = ::testing::TempDir() + "/gateway_token";
  {
    std::ofstream out(path);
    out << "from-file\n";
  }
  GatewayFlags f = ThreeRegions();
  f.token_file = path;
  EXPECT_EQ(BuildConfig(f).token, "from-file");
  {
    std::ofstream out(path);
    out << "\n";
  }
  EXPECT_NE(ErrorOf(f).find("is empty"), std::string::npos) << ErrorOf(f);
  std::remove(path.c_str());
  EXPECT_NE(ErrorOf(f).find("cannot read"), std::string::npos) << ErrorOf(f);
}

TEST(GatewayConfig, NumericBoundsAndProperties) {
  GatewayFlags f = ThreeRegions();
  f.sim_rate = 0;
  EXPECT_NE(ErrorOf(f).find("--sim-rate must be in 1..5000"), std::string::npos) << ErrorOf(f);
  f = ThreeRegions();
  f.max_sse_clients = 47;  // SSE clients no longer hold worker threads
  EXPECT_EQ(BuildConfig(f).max_sse_clients, 47);
  f.max_connections = 47;
  EXPECT_NE(ErrorOf(f).find("--max-sse-clients (47) must be below --max-connections (47)"),
            std::string::npos)
      << ErrorOf(f);
  f = ThreeRegions();
  f.header_timeout_ms = 10;
  EXPECT_NE(ErrorOf(f).find("--header-timeout-ms must be in 100..600000"), std::string::npos)
      << ErrorOf(f);
  f = ThreeRegions();
  f.max_header_bytes = 10;
  EXPECT_NE(ErrorOf(f).find("--max-header-bytes"), std::string::npos) << ErrorOf(f);
  f = ThreeRegions();
  f.sse_buffer_bytes = 0;
  EXPECT_NE(ErrorOf(f).find("--sse-buffer-bytes"), std::string::npos) << ErrorOf(f);
  f = ThreeRegions();
  f.http = "nohost";
  EXPECT_NE(ErrorOf(f).find("--http"), std::string::npos) << ErrorOf(f);
  f = ThreeRegions();
  f.validate = "loose";
  EXPECT_NE(ErrorOf(f).find("--validate"), std::string::npos) << ErrorOf(f);
  f = ThreeRegions();
  f.x_props = {"=v"};
  EXPECT_NE(ErrorOf(f).find("-X"), std::string::npos) << ErrorOf(f);
  f.x_props = {"linger.ms=1"};
  GatewayConfig c = BuildConfig(f, {{"security.protocol", "SSL"}});
  ASSERT_EQ(c.kafka_props.size(), 2u);
  EXPECT_EQ(c.kafka_props[0].first, "security.protocol");
  EXPECT_EQ(c.kafka_props[1].second, "1");
}

}  // namespace
}  // namespace walrus::gateway
