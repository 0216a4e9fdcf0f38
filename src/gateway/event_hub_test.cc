#include "gateway/event_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace walrus::gateway {
namespace {

using namespace std::chrono_literals;

std::vector<uint64_t> Ids(const EventHub::Batch& b) {
  std::vector<uint64_t> ids;
  for (const auto& m : b.messages) ids.push_back(m->id);
  return ids;
}

TEST(SseFrame, Format) {
  EXPECT_EQ(SseFrame(42, "op", R"({"a":1})"), "id: 42\nevent: op\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseFrame(0, "reset", "{}"), "event: reset\ndata: {}\n\n");
}

TEST(EventHub, IdsStartAtFirstIdAndIncrease) {
  EventHub hub({.ring = 10, .client_queue = 10, .first_id = 1000});
  EXPECT_EQ(hub.last_id(), 999u);
  EXPECT_EQ(hub.Publish("op", "{}"), 1000u);
  EXPECT_EQ(hub.Publish("op", "{}"), 1001u);
  EXPECT_EQ(hub.last_id(), 1001u);
}

TEST(EventHub, LiveSubscriberGetsOnlyNewMessages) {
  EventHub hub({.ring = 10, .client_queue = 10, .first_id = 1});
  hub.Publish("op", "{}");
  auto sub = hub.Subscribe(std::nullopt);
  EXPECT_TRUE(sub->Wait(1ms).messages.empty());
  hub.Publish("flows", R"({"x":1})");
  auto b = sub->Wait(1s);
  ASSERT_EQ(b.messages.size(), 1u);
  EXPECT_EQ(b.messages[0]->id, 2u);
  EXPECT_EQ(b.messages[0]->event, "flows");
  EXPECT_EQ(b.state, EventHub::State::kOpen);
}

TEST(EventHub, BacklogForFreshClients) {
  EventHub hub({.ring = 10, .client_queue = 10, .first_id = 1});
  for (int i = 0; i < 5; ++i) hub.Publish("op", "{}");
  auto sub = hub.Subscribe(std::nullopt, 3);
  EXPECT_EQ(Ids(sub->Wait(1ms)), (std::vector<uint64_t>{3, 4, 5}));
}

TEST(EventHub, ResumeGetsExactlyTheMissedOnes) {
  EventHub hub({.ring = 10, .client_queue = 10, .first_id = 100});
  for (int i = 0; i < 8; ++i) hub.Publish("op", "{}");  // 100..107
  auto sub = hub.Subscribe(std::string("104"));
  EXPECT_EQ(Ids(sub->Wait(1ms)), (std::vector<uint64_t>{105, 106, 107}));
  // Up to date: nothing, then live.
  auto cur = hub.Subscribe(std::string("107"));
  EXPECT_TRUE(cur->Wait(1ms).messages.empty());
  hub.Publish("op", "{}");
  EXPECT_EQ(Ids(cur->Wait(1s)), (std::vector<uint64_t>{108}));
}

TEST(EventHub, ResumeAtTheOldestBoundary) {
  EventHub hub({.ring = 4, .client_queue = 10, .first_id = 1});
  for (int i = 0; i < 10; ++i) hub.Publish("op", "{}");  // ring holds 7..10
  // 6 seen: 7.. are all buffered -> a plain resume.
  auto ok = hub.Subscribe(std::string("6"));
  auto b = ok->Wait(1ms);
  EXPECT_EQ(Ids(b), (std::vector<uint64_t>{7, 8, 9, 10}));
  EXPECT_EQ(b.messages[0]->event, "op");
  // 5 seen: 6 is lost -> reset, then the whole ring.
  auto old = hub.Subscribe(std::string("5"));
  b = old->Wait(1ms);
  ASSERT_EQ(b.messages.size(), 5u);
  EXPECT_EQ(b.messages[0]->event, "reset");
  EXPECT_EQ(b.messages[0]->id, 0u);
  EXPECT_EQ(b.messages[0]->frame.rfind("event: reset\ndata: {", 0), 0u) << b.messages[0]->frame;
  EXPECT_EQ(b.messages[1]->id, 7u);
}

TEST(EventHub, ResetForIdsFromAnotherRunOrGarbage) {
  EventHub hub({.ring = 4, .client_queue = 10, .first_id = 1000});
  hub.Publish("op", "{}");
  for (const std::string id : {"5000", "abc", "", "-1", "1000x"}) {
    auto sub = hub.Subscribe(id);
    auto b = sub->Wait(1ms);
    ASSERT_EQ(b.messages.size(), 2u) << id;
    EXPECT_EQ(b.messages[0]->event, "reset") << id;
    EXPECT_EQ(b.messages[1]->id, 1000u) << id;
  }
  // Before anything was published in this run, "first_id - 1" is up to date.
  EventHub empty({.ring = 4, .client_queue = 10, .first_id = 1000});
  auto sub = empty.Subscribe(std::string("999"));
  EXPECT_TRUE(sub->Wait(1ms).messages.empty());
}

TEST(EventHub, SlowClientIsCutOffOthersAreNot) {
  EventHub hub({.ring = 100, .client_queue = 3, .first_id = 1});
  auto slow = hub.Subscribe(std::nullopt);
  auto fast = hub.Subscribe(std::nullopt);
  for (int i = 0; i < 6; ++i) {
    hub.Publish("op", "{}");
    EXPECT_EQ(fast->Wait(1s).messages.size(), 1u);
  }
  auto b = slow->Wait(1ms);
  EXPECT_EQ(b.state, EventHub::State::kOverflow);
  EXPECT_TRUE(b.messages.empty());
  EXPECT_EQ(hub.overflows(), 1u);
  // The backlog of a resuming client does not count against its live bound.
  auto resumed = hub.Subscribe(std::string("1"));
  hub.Publish("op", "{}");
  b = resumed->Wait(1ms);
  EXPECT_EQ(b.state, EventHub::State::kOpen);
  EXPECT_EQ(b.messages.size(), 6u);
}

TEST(EventHub, SubscriptionsUnregisterAndCloseWakesWaiters) {
  EventHub hub({.ring = 10, .client_queue = 10, .first_id = 1});
  {
    auto a = hub.Subscribe(std::nullopt);
    EXPECT_EQ(hub.subscribers(), 1u);
  }
  EXPECT_EQ(hub.subscribers(), 0u);
  auto sub = hub.Subscribe(std::nullopt);
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    auto b = sub->Wait(30s);
    woke = b.state == EventHub::State::kClosed;
  });
  hub.Close();
  waiter.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(hub.Subscribe(std::nullopt)->Wait(1ms).state, EventHub::State::kClosed);
}

TEST(EventHub, ConcurrentPublishersKeepIdsUniqueAndOrderedPerSubscriber) {
  EventHub hub({.ring = 100000, .client_queue = 100000, .first_id = 1});
  auto sub = hub.Subscribe(std::nullopt);
  std::vector<std::thread> pubs;
  for (int t = 0; t < 4; ++t) {
    pubs.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) hub.Publish("op", "{}");
    });
  }
  for (auto& t : pubs) t.join();
  std::vector<uint64_t> got;
  while (got.size() < 8000) {
    auto b = sub->Wait(1s);
    ASSERT_FALSE(b.messages.empty());
    for (auto id : Ids(b)) got.push_back(id);
  }
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], i + 1);
}

}  // namespace
}  // namespace walrus::gateway
