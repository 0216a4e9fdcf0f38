// Unit tests of RedisSession's lifecycle with a fake locator and a fake connector (scripted
// greetings) on a ManualClock: backoff, epoch refusal, primary changes, health checks. No Redis.

#include "apply/redis_session.h"

#include <gtest/gtest.h>

#include <deque>

#include "metrics/registry.h"

namespace walrus::apply {
namespace {

using std::chrono::milliseconds;

class FakeLocator final : public redis::PrimaryLocator {
 public:
  Result<redis::Endpoint> Locate() override {
    ++locates;
    changed = false;
    if (down) return Error(Errc::kIo, "no sentinel answers");
    return redis::Endpoint{.host = "10.0.0.1", .port = 6379};
  }
  bool Changed() override { return changed; }
  std::string Describe() const override { return "fake sentinels"; }

  bool down = false;
  bool changed = false;
  int locates = 0;
};

class FakeConnector final : public RedisConnector {
 public:
  Result<Greeting> Open(const redis::Endpoint&) override {
    ++opens;
    if (greetings.empty()) return Error(Errc::kIo, "connection refused");
    auto g = std::move(greetings.front());
    greetings.pop_front();
    return g;
  }
  Result<std::string> Role(redis::Connection*) override {
    ++pings;
    return role;
  }

  static Result<Greeting> Primary(std::optional<std::string> epoch = std::nullopt) {
    Greeting g;
    g.role = "master";
    g.epoch = std::move(epoch);
    return g;
  }

  std::deque<Result<Greeting>> greetings;
  Result<std::string> role = std::string("master");
  int opens = 0;
  int pings = 0;
};

class RedisSessionTest : public ::testing::Test {
 protected:
  RedisSessionTest() {
    auto locator = std::make_unique<FakeLocator>();
    auto connector = std::make_unique<FakeConnector>();
    locator_ = locator.get();
    connector_ = connector.get();
    session_ = std::make_unique<RedisSession>(std::move(locator), std::move(connector), probe_,
                                              clock_, milliseconds(1000));
    session_->set_hooks({.resync = [this] { ++resyncs_; return resync_ok_; },
                         .dropped = [this] { ++drops_; },
                         .partitions = [] { return size_t{3}; }});
  }

  double Refusals() const { return probe_.epoch_refusals.Value(); }

  metrics::Registry registry_;
  ApplyProbe probe_{registry_};
  ManualClock clock_;
  FakeLocator* locator_;
  FakeConnector* connector_;
  std::unique_ptr<RedisSession> session_;
  int resyncs_ = 0;
  int drops_ = 0;
  bool resync_ok_ = true;
};

TEST_F(RedisSessionTest, ConnectsAndResyncs) {
  connector_->greetings.push_back(FakeConnector::Primary());
  EXPECT_TRUE(session_->Ensure());
  EXPECT_TRUE(session_->ok());
  EXPECT_TRUE(session_->connected());
  EXPECT_EQ(resyncs_, 1);
  EXPECT_TRUE(session_->Ensure());  // stays up: no new connection
  EXPECT_EQ(connector_->opens, 1);
  EXPECT_EQ(resyncs_, 1);
  EXPECT_EQ(probe_.redis_reconnects.Value(), 1);
}

TEST_F(RedisSessionTest, BackoffGrowsWhileDownAndNoAttemptBeforeItPassed) {
  EXPECT_FALSE(session_->Ensure());  // connection refused
  EXPECT_EQ(session_->backoff(), milliseconds(100));
  EXPECT_EQ(connector_->opens, 1);
  clock_.Advance(milliseconds(99));
  EXPECT_FALSE(session_->Ensure());
  EXPECT_EQ(connector_->opens, 1);  // too early
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(session_->Ensure());
  EXPECT_EQ(connector_->opens, 2);
  EXPECT_EQ(session_->backoff(), milliseconds(200));
  for (auto want : {400, 800, 1000, 1000}) {
    clock_.Advance(session_->backoff());
    EXPECT_FALSE(session_->Ensure());
    EXPECT_EQ(session_->backoff(), milliseconds(want));
  }
  EXPECT_FALSE(session_->ok());
  EXPECT_EQ(resyncs_, 0);
}

TEST_F(RedisSessionTest, BackoffStartsOverOnlyAfterACommit) {
  EXPECT_FALSE(session_->Ensure());
  clock_.Advance(milliseconds(100));
  connector_->greetings.push_back(FakeConnector::Primary());
  ASSERT_TRUE(session_->Ensure());
  session_->Drop("connection reset");
  EXPECT_EQ(session_->backoff(), milliseconds(200));  // connecting alone is no progress
  EXPECT_EQ(drops_, 2);
  clock_.Advance(milliseconds(200));
  connector_->greetings.push_back(FakeConnector::Primary());
  ASSERT_TRUE(session_->Ensure());
  session_->Committed();
  session_->Drop("connection reset");
  EXPECT_EQ(session_->backoff(), milliseconds(100));
}

TEST_F(RedisSessionTest, LocatorFailureBacksOff) {
  locator_->down = true;
  EXPECT_FALSE(session_->Ensure());
  EXPECT_EQ(connector_->opens, 0);
  EXPECT_EQ(session_->backoff(), milliseconds(100));
}

TEST_F(RedisSessionTest, AnnouncedPrimaryIsTriedAtOnce) {
  EXPECT_FALSE(session_->Ensure());
  locator_->changed = true;  // Sentinel failover: no waiting for the backoff
  connector_->greetings.push_back(FakeConnector::Primary());
  EXPECT_TRUE(session_->Ensure());
  EXPECT_EQ(locator_->locates, 2);
}

TEST_F(RedisSessionTest, MovedPrimaryIsDroppedAndReconnected) {
  connector_->greetings.push_back(FakeConnector::Primary());
  ASSERT_TRUE(session_->Ensure());
  locator_->changed = true;
  connector_->greetings.push_back(FakeConnector::Primary());
  EXPECT_TRUE(session_->Ensure());
  EXPECT_EQ(drops_, 1);
  EXPECT_EQ(resyncs_, 2);
  EXPECT_EQ(connector_->opens, 2);
}

TEST_F(RedisSessionTest, ReplicaIsNotWrittenTo) {
  auto g = FakeConnector::Primary();
  g->role = "slave";
  connector_->greetings.push_back(std::move(g));
  EXPECT_FALSE(session_->Ensure());
  EXPECT_FALSE(session_->connected());
  EXPECT_EQ(resyncs_, 0);
}

TEST_F(RedisSessionTest, UnreadableEpochIsNotWrittenTo) {
  auto g = FakeConnector::Primary();
  g->epoch_error = "WRONGTYPE";
  connector_->greetings.push_back(std::move(g));
  EXPECT_FALSE(session_->Ensure());
  EXPECT_EQ(resyncs_, 0);
  EXPECT_EQ(Refusals(), 0);
}

TEST_F(RedisSessionTest, OlderEpochIsRefusedUntilTheNewerOneIsBack) {
  connector_->greetings.push_back(FakeConnector::Primary("5"));
  ASSERT_TRUE(session_->Ensure());
  EXPECT_EQ(session_->epoch().newest(), 5);
  session_->Drop("failover");
  for (const char* stale : {"3", "4"}) {
    clock_.Advance(session_->backoff());
    connector_->greetings.push_back(FakeConnector::Primary(stale));
    EXPECT_FALSE(session_->Ensure());  // a deposed primary: nothing is written to it
    EXPECT_FALSE(session_->connected());
    EXPECT_FALSE(session_->ok());
  }
  EXPECT_EQ(Refusals(), 2);
  EXPECT_EQ(resyncs_, 1);                              // never resynced on a stale Redis
  EXPECT_EQ(session_->backoff(), milliseconds(400));   // backs off like any failure
  connector_->greetings.push_back(FakeConnector::Primary());  // missing after an epoch was seen
  clock_.Advance(session_->backoff());
  EXPECT_FALSE(session_->Ensure());
  EXPECT_EQ(Refusals(), 3);
  clock_.Advance(session_->backoff());
  connector_->greetings.push_back(FakeConnector::Primary("6"));
  EXPECT_TRUE(session_->Ensure());
  EXPECT_EQ(session_->epoch().newest(), 6);
}

TEST_F(RedisSessionTest, RefusalFromATransactionDropsTheConnection) {
  connector_->greetings.push_back(FakeConnector::Primary());
  ASSERT_TRUE(session_->Ensure());
  session_->RefuseStaleEpoch("fence: epoch 3 < 5");
  EXPECT_FALSE(session_->connected());
  EXPECT_FALSE(session_->ok());
  EXPECT_EQ(drops_, 1);
  EXPECT_EQ(Refusals(), 1);
  EXPECT_FALSE(session_->Ensure());  // backing off
  EXPECT_EQ(connector_->opens, 1);
}

TEST_F(RedisSessionTest, FailedResyncDrops) {
  resync_ok_ = false;
  connector_->greetings.push_back(FakeConnector::Primary());
  EXPECT_FALSE(session_->Ensure());
  EXPECT_FALSE(session_->connected());
  EXPECT_FALSE(session_->ok());
  EXPECT_EQ(drops_, 1);
  EXPECT_EQ(session_->backoff(), milliseconds(100));
}

TEST_F(RedisSessionTest, HealthCheckDropsADemotedOrDeadPrimary) {
  connector_->greetings.push_back(FakeConnector::Primary());
  ASSERT_TRUE(session_->Ensure());
  session_->Ping();
  EXPECT_TRUE(session_->ok());
  connector_->role = std::string("slave");
  session_->Ping();
  EXPECT_FALSE(session_->ok());
  EXPECT_EQ(drops_, 1);

  clock_.Advance(session_->backoff());
  connector_->greetings.push_back(FakeConnector::Primary());
  ASSERT_TRUE(session_->Ensure());
  connector_->role = Error(Errc::kIo, "reset by peer");
  session_->Ping();
  EXPECT_FALSE(session_->connected());
  EXPECT_EQ(connector_->pings, 3);
}

}  // namespace
}  // namespace walrus::apply
