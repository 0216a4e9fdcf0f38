// Pins the Kafka header names and the walrus-src value format: records already in Kafka (and
// mirrors/appliers of the previous release) carry these exact bytes.
#include "protocol/headers.h"

#include <gtest/gtest.h>

namespace walrus::protocol {
namespace {

TEST(Headers, Provenance) {
  EXPECT_EQ(kSrcHeader, "walrus-src");
  EXPECT_EQ(kSrcMacHeader, "walrus-src-mac");
  EXPECT_EQ(kOriginHeader, "walrus-origin");
}

TEST(Headers, DeadLetters) {
  EXPECT_EQ(kSrcTopicHeader, "walrus-src-topic");
  EXPECT_EQ(kSrcPartitionHeader, "walrus-src-partition");
  EXPECT_EQ(kSrcOffsetHeader, "walrus-src-offset");
  EXPECT_EQ(kSrcTimestampHeader, "walrus-src-timestamp");
  EXPECT_EQ(kDlqReasonHeader, "walrus-dlq-reason");
  EXPECT_EQ(kDlqCategoryHeader, "walrus-dlq-category");
  EXPECT_EQ(kDlqGroupHeader, "walrus-dlq-group");
  EXPECT_EQ(kDlqRecoveredHeader, "walrus-dlq-recovered");
  EXPECT_EQ(kDlqBodyMissingHeader, "walrus-dlq-body-missing");
  EXPECT_EQ(kDlqValueOmittedHeader, "walrus-dlq-value-omitted");
}

TEST(Headers, SrcValue) {
  EXPECT_EQ(SrcHeaderPrefix("dc", "redis-writes", 3), "dc/redis-writes/3/");
  EXPECT_EQ(SrcHeaderValue("dc", "redis-writes", 3, 42), "dc/redis-writes/3/42");
}

}  // namespace
}  // namespace walrus::protocol
