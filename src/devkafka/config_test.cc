#include "devkafka/config.h"

#include <gtest/gtest.h>

namespace walrus::devkafka {
namespace {

TEST(DevkafkaConfigTest, ParsesTopicSpecs) {
  auto t = ParseTopicSpec("redis-writes:12");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, (TopicSpec{"redis-writes", 12}));
  auto dotted = ParseTopicSpec("us.events:1");
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ(dotted->name, "us.events");
}

TEST(DevkafkaConfigTest, RejectsBadTopicSpecsClearly) {
  for (const char* bad : {"redis-writes", "redis-writes:", ":3", "a:0", "a:-1", "a:x", "a:3x",
                          "a b:3", "a/b:3", "a:100000"}) {
    auto t = ParseTopicSpec(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_TRUE(t.error().Is(Errc::kInvalidArgument));
    EXPECT_NE(t.error().message.find(bad), std::string::npos) << t.error().message;
  }
  EXPECT_NE(ParseTopicSpec("nocolon").error().message.find("NAME:PARTITIONS"), std::string::npos);
}

TEST(DevkafkaConfigTest, ValidatesClustersBrokersTopicsAdmin) {
  Config ok;
  EXPECT_TRUE(Validate(ok).ok());
  ok.clusters = {"us", "eu"};
  ok.topics = {{"a", 1}, {"b", 2}};
  ok.admin = "127.0.0.1:0";
  EXPECT_TRUE(Validate(ok).ok());

  Config c = ok;
  c.clusters = {"us", "us"};
  EXPECT_FALSE(Validate(c).ok());
  c.clusters = {};
  EXPECT_FALSE(Validate(c).ok());
  c.clusters = {"bad name"};
  EXPECT_FALSE(Validate(c).ok());
  c = ok;
  c.brokers = 0;
  EXPECT_FALSE(Validate(c).ok());
  c.brokers = kMaxBrokers + 1;
  EXPECT_FALSE(Validate(c).ok());
  c = ok;
  c.topics = {{"a", 1}, {"a", 3}};
  EXPECT_FALSE(Validate(c).ok());
  c = ok;
  c.admin = "9644";
  EXPECT_FALSE(Validate(c).ok());
  c.admin = "localhost:70000";
  EXPECT_FALSE(Validate(c).ok());
}

}  // namespace
}  // namespace walrus::devkafka
