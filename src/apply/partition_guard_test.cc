// PartitionGuard alone, with a real redis-server and a consumer whose broker is unreachable
// (every watermark query fails).

#include "apply/partition_guard.h"

#include <gtest/gtest.h>

#include "kafka/consumer.h"
#include "kafka/test_util.h"
#include "metrics/registry.h"
#include "testing/redis_server.h"

namespace walrus::apply {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

// An out-of-range fetch whose classification must wait for the log bounds: the guard retries
// the failed query after a deadline, and is not Due() meanwhile -- the applier settles its
// in-flight batch whenever it is, so "always due" would disable pipelining while it waits.
TEST(PartitionGuard, FailedWatermarkQueryIsRetriedAtADeadlineNotEveryLoop) {
  auto srv = walrus::test::RedisServer::Start();
  ASSERT_TRUE(srv.ok()) << srv.error().message;
  auto conn = (*srv)->Connect();
  ASSERT_TRUE(conn.ok());
  auto consumer =
      kafka::Consumer::Create({{"bootstrap.servers", "127.0.0.1:1"}, {"group.id", "g"}}, nullptr);
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  metrics::Registry reg;
  ApplyProbe probe(reg);
  PartitionGuard guard(probe, {.query_timeout = milliseconds(100)});
  PartitionState ps;
  ps.topic = "t";
  ps.partition = 0;
  ps.pos_key = PositionKey("t", 0);
  ps.next = 3;
  ps.synced = true;
  ps.out_of_range_at = 3;  // as OnConsumeError notes it
  const std::vector<PartitionState*> parts{&ps};

  const auto t0 = steady_clock::now();
  ASSERT_TRUE(guard.Tick(**conn, **consumer, parts).ok());
  EXPECT_EQ(ps.out_of_range_at, 3);  // still to classify
  EXPECT_FALSE(guard.Due());
  ASSERT_TRUE(guard.Tick(**conn, **consumer, parts).ok());  // before the deadline: no query
  EXPECT_FALSE(guard.Due());
  ASSERT_TRUE(kafka::testing::WaitFor([&] { return guard.Due(); }, seconds(5)));
  EXPECT_GE(steady_clock::now() - t0, milliseconds(900));
  EXPECT_FALSE(ps.hold);
}

}  // namespace
}  // namespace walrus::apply
