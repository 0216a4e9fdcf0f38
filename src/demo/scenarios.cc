#include "demo/scenarios.h"

#include <fmt/format.h>

#include <functional>
#include <thread>
#include <vector>

#include "demo/convergence.h"

namespace walrus::demo {
namespace {

using namespace std::chrono_literals;

// A failed step: the scenario stops with exit code 2 (setup error), or 130 when interrupted.
struct StepFailed {
  std::string what;
};

// Narrates numbered steps and turns failed Statuses into StepFailed.
class Story {
 public:
  Story(ScenarioEnv& env, std::string name, int steps)
      : env_(env), name_(std::move(name)), steps_(steps) {}

  void Step(const std::string& text) {
    env_.console.Step(fmt::format("{} {}/{}: {}", name_, ++step_, steps_, text));
  }
  void Note(const std::string& text) { env_.console.Step("  " + text); }
  void Must(const Status& st, const std::string& doing) {
    if (!st) throw StepFailed{doing + ": " + st.error().message};
  }
  // `n` shop writes from each of `regions`.
  void Write(const std::vector<std::string>& regions, size_t n) {
    RegionWrites w;
    for (const auto& r : regions) w[r] = env_.mix.Writes(n);
    const auto t0 = std::chrono::steady_clock::now();
    Must(env_.traffic.Write(w), "writing");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Note(fmt::format("{} writes acknowledged in {:.1f} s ({})", n * regions.size(), s,
                     env_.traffic.via_gateway() ? "POST /api/produce" : "walrus produce"));
  }
  int Converge(const std::string& highlight = "") {
    Step(
        "convergence: every region must apply every write, then `walrus verify` across us, "
        "eu, ap");
    Convergence conv(env_.sys, env_.traffic, env_.console);
    if (!highlight.empty()) conv.Highlight(highlight);
    return conv.Check(env_.settle);
  }

 private:
  ScenarioEnv& env_;
  std::string name_;
  int steps_;
  int step_ = 0;
};

const std::vector<std::string> kAll = {"us", "eu", "ap"};

int Failover(ScenarioEnv& env) {
  Story s(env, "failover", 6);
  s.Step("all regions up; 150 shop writes in each of us, eu, ap");
  s.Write(kAll, 150);
  s.Step(
      "eu goes down: its Kafka broker stops (connections refused) and its applier is killed "
      "(SIGKILL)");
  s.Must(env.sys.SetKafkaUp("eu", false), "eu Kafka down");
  env.sys.KillApplier("eu");
  s.Step(
      "us and ap keep taking writes while eu is away: 200 each (flows into and out of eu "
      "retry meanwhile)");
  s.Write({"us", "ap"}, 200);
  if (env.fault) {
    s.Step("[--scenario-fault] eu stays down: the heal step is skipped");
    s.Write({"us", "ap"}, 50);
  } else {
    s.Step(
        "eu comes back: broker up, applier restarted (it resumes from the positions stored "
        "in eu's Redis); 50 more writes in every region");
    s.Must(env.sys.SetKafkaUp("eu", true), "eu Kafka up");
    s.Must(env.sys.StartApplier("eu"), "restarting eu's applier");
    s.Write(kAll, 50);
  }
  return s.Converge();
}

int Partition(ScenarioEnv& env) {
  Story s(env, "partition", 6);
  s.Step("all regions connected; 150 shop writes in each of us, eu, ap");
  s.Write(kAll, 150);
  s.Step(
      "ap is cut off: its mirror (us->ap, eu->ap) stops; the us and eu mirrors restart "
      "without their ap flows (ap->us, ap->eu)");
  env.sys.StopMirror("ap");
  s.Must(env.sys.StartMirror("us", {"eu"}), "restarting us's mirror");
  s.Must(env.sys.StartMirror("eu", {"us"}), "restarting eu's mirror");
  s.Step("both sides keep writing, to the same keys: 200 writes in each region");
  s.Write(kAll, 200);
  s.Step("while cut off, verify sees the split");
  Convergence conv(env.sys, env.traffic, env.console);
  auto v = conv.Verify();
  s.Must(v ? Status::Ok() : Status(v.error()), "verify");
  s.Note(fmt::format("verify exit {}: {}", v->first, v->second.substr(0, v->second.find('\n'))));
  if (env.fault) {
    s.Step("[--scenario-fault] the partition is not healed: the heal step is skipped");
  } else {
    s.Step(
        "heal: every mirror runs its two flows again (each resumes from the positions it "
        "stored in its target cluster)");
    s.Must(env.sys.StartMirror("ap", {"us", "eu"}), "restarting ap's mirror");
    s.Must(env.sys.StartMirror("us", {"eu", "ap"}), "restarting us's mirror");
    s.Must(env.sys.StartMirror("eu", {"us", "ap"}), "restarting eu's mirror");
  }
  return s.Converge();
}

int Replay(ScenarioEnv& env) {
  Story s(env, "replay", 6);
  s.Step("200 shop writes in each of us, eu, ap; the regions agree before the loss");
  s.Write(kAll, 200);
  Convergence before(env.sys, env.traffic, env.console);
  if (int code = before.Check(env.settle); code != 0) return code;
  s.Step(
      "eu loses its dataset: applier stopped, FLUSHALL on eu's Redis (values, crdt sidecars "
      "and applied positions all gone)");
  env.sys.StopApplier("eu");
  s.Must(env.sys.FlushAll("eu"), "FLUSHALL on eu");
  s.Step("us and ap keep writing: 100 each");
  s.Write({"us", "ap"}, 100);
  if (env.fault) {
    s.Step("[--scenario-fault] eu's applier is not restarted: the heal step is skipped");
  } else {
    s.Step(
        "eu's applier restarts with no positions: it replays us.events, eu.events and "
        "ap.events from offset 0 of eu's Kafka");
    s.Must(env.sys.StartApplier("eu"), "restarting eu's applier");
  }
  return s.Converge();
}

int FlashSale(ScenarioEnv& env) {
  Story s(env, "flash-sale", 5);
  const bool gateway = env.traffic.via_gateway();
  // Through the gateway every write is one HTTP request answered after Kafka's ack, so the bulk
  // of the burst comes from its simulator and the counted purchases are fewer.
  const size_t per_region = gateway ? 150 : 3000;
  const int64_t initial = static_cast<int64_t>(per_region) * 3 + 1000;
  const std::string stock = "demo:stock:{flash}";
  s.Step(fmt::format("the sale opens: {} = {} units (INCRBY from us)", stock, initial));
  s.Must(env.traffic.Write(
             {{"us",
               {nlohmann::json{
                   {"cmd", "INCRBY"}, {"key", stock}, {"args", {std::to_string(initial)}}}}}}),
         "opening the sale");
  if (env.fault) {
    s.Step("[--scenario-fault] ap's mirror stops before the burst and stays stopped");
    env.sys.StopMirror("ap");
  } else {
    s.Step("every region is connected");
  }
  RegionWrites burst;
  size_t total = 0;
  for (const auto& r : kAll) {
    burst[r] = env.mix.FlashPurchases(per_region, stock);
    auto extra = env.mix.Writes(per_region / 3);
    burst[r].insert(burst[r].end(), extra.begin(), extra.end());
    total += burst[r].size();
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (gateway) {
    constexpr int kSimRate = 1000;
    s.Step(
        fmt::format("burst for at least 5 s: the gateway's simulator at {} ops/s, plus {} "
                    "purchases and {} shop writes per region through /api/produce, all "
                    "regions at once",
                    kSimRate, per_region, per_region / 3));
    s.Must(env.traffic.SimStart(kSimRate), "starting the simulator");
    Status st = env.traffic.Write(burst);
    while (st && !env.sys.stopping() && std::chrono::steady_clock::now() - t0 < 5s) {
      std::this_thread::sleep_for(100ms);
    }
    auto sent = env.traffic.SimStop();
    s.Must(st, "burst");
    s.Must(sent ? Status::Ok() : Status(sent.error()), "stopping the simulator");
    s.Note(fmt::format("simulator sent {} ops", *sent));
  } else {
    s.Step(
        fmt::format("burst: {} purchases plus {} shop writes per region, a `walrus produce` "
                    "per region, all at once",
                    per_region, per_region / 3));
    s.Must(env.traffic.Write(burst), "burst");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.Note(fmt::format("{} counted writes acknowledged in {:.1f} s; {} should end at {} - {} = {}",
                     total, secs, stock, initial, 3 * per_region,
                     env.traffic.counters().at(stock)));
  s.Step("sale over: traffic stopped");
  return s.Converge(stock);
}

}  // namespace

int RunScenario(const std::string& name, ScenarioEnv& env) {
  const std::map<std::string, std::function<int(ScenarioEnv&)>> scenarios = {
      {"failover", Failover},
      {"partition", Partition},
      {"replay", Replay},
      {"flash-sale", FlashSale}};
  auto it = scenarios.find(name);
  if (it == scenarios.end()) {
    env.console.Step("unknown scenario " + name);
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  int code;
  try {
    code = it->second(env);
  } catch (const StepFailed& f) {
    env.console.Step("scenario step failed: " + f.what);
    code = 2;
  }
  if (env.sys.stopping()) return 130;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const char* verdict = code == 0   ? "CONVERGED"
                        : code == 1 ? "NOT CONVERGED"
                                    : "ERROR (the scenario could not run)";
  env.console.Step(fmt::format("RESULT {}: {} ({:.1f} s)", name, verdict, secs));
  return code;
}

}  // namespace walrus::demo
