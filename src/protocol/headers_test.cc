// Pins the Kafka header names and the walrus-src value format: records already in Kafka (and
// mirrors/appliers of the previous release) carry these exact bytes.
#include "protocol/headers.h"

#include <gtest/gtest.h>

namespace walrus::protocol {
namespace {

TEST(Headers, Provenance) {
  EXPECT_STREQ(kSrcHeader, "walrus-src");
  EXPECT_STREQ(kSrcMacHeader, "walrus-src-mac");
  EXPECT_STREQ(kOriginHeader, "walrus-origin");
}

TEST(Headers, DeadLetters) {
  EXPECT_STREQ(kSrcTopicHeader, "walrus-src-topic");
  EXPECT_STREQ(kSrcPartitionHeader, "walrus-src-partition");
  EXPECT_STREQ(kSrcOffsetHeader, "walrus-src-offset");
  EXPECT_STREQ(kSrcTimestampHeader, "walrus-src-timestamp");
  EXPECT_STREQ(kDlqReasonHeader, "walrus-dlq-reason");
  EXPECT_STREQ(kDlqCategoryHeader, "walrus-dlq-category");
  EXPECT_STREQ(kDlqGroupHeader, "walrus-dlq-group");
  EXPECT_STREQ(kDlqRecoveredHeader, "walrus-dlq-recovered");
  EXPECT_STREQ(kDlqBodyMissingHeader, "walrus-dlq-body-missing");
  EXPECT_STREQ(kDlqValueOmittedHeader, "walrus-dlq-value-omitted");
}

TEST(Headers, SrcValue) {
  EXPECT_EQ(SrcHeaderPrefix("dc", "redis-writes", 3), "dc/redis-writes/3/");
  EXPECT_EQ(SrcHeaderValue("dc", "redis-writes", 3, 42), "dc/redis-writes/3/42");
}

}  // namespace
}  // namespace walrus::protocol
