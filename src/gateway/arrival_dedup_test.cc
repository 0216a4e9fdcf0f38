#include "gateway/arrival_dedup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace walrus::gateway {
namespace {

TEST(ArrivalDedup, WhicheverComesFirstWins) {
  ArrivalDedup d(100);
  EXPECT_TRUE(d.FirstFromAck(0, 10));
  EXPECT_FALSE(d.FirstFromConsumer(0, 10));
  EXPECT_TRUE(d.FirstFromConsumer(0, 11));
  EXPECT_FALSE(d.FirstFromAck(0, 11));
  // Coordinates are per partition.
  EXPECT_TRUE(d.FirstFromAck(1, 10));
  EXPECT_TRUE(d.FirstFromConsumer(2, 10));
  // Once matched, forgotten: a (theoretical) third report counts as new.
  EXPECT_TRUE(d.FirstFromConsumer(0, 10));
}

TEST(ArrivalDedup, BoundedOldestForgottenFirst) {
  ArrivalDedup d(3);
  for (int64_t o = 0; o < 5; ++o) EXPECT_TRUE(d.FirstFromConsumer(0, o));
  EXPECT_TRUE(d.FirstFromAck(0, 0));   // evicted: shown twice (the bounded cost)
  EXPECT_TRUE(d.FirstFromAck(0, 1));
  EXPECT_FALSE(d.FirstFromAck(0, 2));  // still remembered
  EXPECT_FALSE(d.FirstFromAck(0, 4));
}

TEST(ArrivalDedup, ConcurrentReportsShowEachRecordOnce) {
  ArrivalDedup d(1000000);
  std::atomic<int> shown{0};
  constexpr int kN = 50000;
  std::thread acks([&] {
    for (int64_t o = 0; o < kN; ++o) shown += d.FirstFromAck(0, o);
  });
  std::thread consumer([&] {
    for (int64_t o = 0; o < kN; ++o) shown += d.FirstFromConsumer(0, o);
  });
  acks.join();
  consumer.join();
  EXPECT_EQ(shown.load(), kN);
}

}  // namespace
}  // namespace walrus::gateway
