// Pins the internal topic names and the keys of the mirror's stored state: a mirror must find
// the positions and holds the previous release wrote.
#include "protocol/topics.h"

#include <gtest/gtest.h>

namespace walrus::protocol {
namespace {

TEST(Topics, InternalTopics) {
  EXPECT_STREQ(kMirrorOffsetsTopic, "walrus-mirror.offsets");
  EXPECT_STREQ(kMirrorHeartbeatsTopic, "walrus-heartbeats");
}

TEST(Topics, DeadLetterTopic) {
  EXPECT_EQ(DlqTopic("redis-writes"), "redis-writes.dlq");
  EXPECT_TRUE(IsDlqTopic("redis-writes.dlq"));
  EXPECT_TRUE(IsDlqTopic("a.dlq"));
  EXPECT_FALSE(IsDlqTopic(".dlq"));
  EXPECT_FALSE(IsDlqTopic("redis-writes"));
  EXPECT_FALSE(IsDlqTopic("dlq"));
}

TEST(Topics, MirrorStateKeys) {
  EXPECT_EQ(MirrorPositionKey("dc", "redis-writes", 3), "dc/redis-writes/3");
  EXPECT_EQ(MirrorHoldKey("dc/t/0"), "dc/t/0/hold");
  EXPECT_EQ(MirrorDecisionKey("dc/t/0", 42), "dc/t/0/decision/42");
  EXPECT_EQ(MirrorClusterIdKey("dc"), "dc/cluster-id");
  EXPECT_EQ(MirrorPositionKeyPrefix("dc", "redis-writes"), "dc/redis-writes/");
  EXPECT_EQ(MirrorFlowName("dc", "dr"), "dc:dr");
  EXPECT_EQ(MirrorTransactionalId("dc", "dr", 0), "walrus-mirror.dc.dr");
  EXPECT_EQ(MirrorTransactionalId("dc", "dr", 2), "walrus-mirror.dc.dr.2");
  EXPECT_STREQ(kMirrorHoldSuffix, "/hold");
  EXPECT_STREQ(kMirrorDecisionInfix, "/decision/");
  EXPECT_STREQ(kMirrorClusterIdSuffix, "/cluster-id");
}

}  // namespace
}  // namespace walrus::protocol
