// RegionMonitor's loop without Kafka or Redis: rounds until stop, the period from the round's
// duration, the last round's JSON.

#include "gateway/region_monitor.h"

#include <gtest/gtest.h>

#include <thread>

#include "metrics/registry.h"

namespace walrus::gateway {
namespace {

using namespace std::chrono_literals;

class CountingMonitor final : public RegionMonitor {
 public:
  CountingMonitor(const GatewayConfig& cfg, EventHub& hub, GatewayProbe& probe,
                  const std::atomic<bool>& stop)
      : RegionMonitor(cfg, {}, hub, probe, stop, R"({"rounds":0})") {}
  std::atomic<int> rounds{0};
  mutable std::atomic<int64_t> last_took_ns{-1};

 private:
  void Round() override {
    std::this_thread::sleep_for(2ms);
    SetJson(R"({"rounds":)" + std::to_string(++rounds) + "}");
  }
  Duration Period(Duration took) const override {
    last_took_ns = took.count();
    return 1ms;
  }
};

// What a monitor is built from, none of it used by CountingMonitor's rounds.
struct Parts {
  GatewayConfig cfg;
  EventHub hub{EventHub::Options{}};
  metrics::Registry registry;
  GatewayProbe probe{registry};
};

TEST(RegionMonitor, RoundsUntilStoppedAndKeepsTheLastJson) {
  Parts p;
  std::atomic<bool> stop{false};
  CountingMonitor m(p.cfg, p.hub, p.probe, stop);
  EXPECT_EQ(m.Json(), R"({"rounds":0})");
  std::thread t([&] { m.Run(); });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (m.rounds < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  stop = true;
  t.join();
  ASSERT_GE(m.rounds.load(), 3);
  EXPECT_EQ(m.Json(), R"({"rounds":)" + std::to_string(m.rounds.load()) + "}");
  EXPECT_GE(m.last_took_ns.load(), std::chrono::nanoseconds(2ms).count());  // the round's time
}

TEST(RegionMonitor, AStoppedMonitorRunsNoRound) {
  Parts p;
  std::atomic<bool> stop{true};
  CountingMonitor m(p.cfg, p.hub, p.probe, stop);
  m.Run();
  EXPECT_EQ(m.rounds.load(), 0);
}

}  // namespace
}  // namespace walrus::gateway
