#include "demo/demo_command.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include "core/log.h"
#include "demo/console.h"
#include "demo/demo_config.h"
#include "demo/scenarios.h"
#include "demo/supervisor.h"
#include "demo/system.h"
#include "demo/traffic.h"
#include "service/common_flags.h"
#include "service/service_main.h"

namespace walrus::demo {
namespace {

using namespace std::chrono_literals;

constexpr const char* kFooter = R"(
Runs, as children of this process: per region (us, eu, ap) a `walrus devkafka` cluster holding
us.events, eu.events and ap.events, a redis-server (Debian's, from PATH), a `walrus apply --mode
crdt` of the three topics, and a `walrus mirror` pulling the two other regions' topics; then
`walrus gateway` with a random token. Prints a table of what runs (pids, addresses, logs) and the
dashboard URL http://HOST:PORT/#token=TOKEN. Ctrl-C (or SIGTERM) stops everything in reverse
order; if the demo itself is killed, its children die with it (PR_SET_PDEATHSIG).

Scenarios (narrated, then asserted with `walrus verify` and an exact counter):
  failover    a region's Kafka and applier go down, the others keep writing, it comes back
  partition   a region is cut off (mirror flows stopped), both sides write, the flows heal
  replay      a region's Redis is flushed and rebuilt from offset 0
  flash-sale  a burst of purchases from every region on one hot item
Exit codes: 0 converged (or a clean Ctrl-C), 1 not converged, 2 setup error, 130 interrupted.
Details: docs/demo.md.)";

// A fresh directory under $TMPDIR (or /tmp).
Result<std::string> MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/walrus-demo-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return Error(Errc::kIo, "cannot create a directory like " + templ);
  }
  return templ;
}

void ReportUnexpectedExits(Supervisor& sup, DemoSystem& sys, Console& console) {
  for (const auto& c : sup.TakeUnexpectedExits()) {
    console.Step(fmt::format("WARNING: {} exited on its own (code {}); log {}:{}", c.spec.name,
                             c.exit_code.value_or(-1), c.spec.log_path,
                             sys.LogTail(c.spec.name, 10)));
  }
}

struct Flags {
  DemoConfig c;
  int settle_s = static_cast<int>(c.settle_timeout.count());
  service::LogFlags log;
};

int RunDemo(Flags& flags, service::ServiceMain& svc) {
  using service::kExitUsage;
  DemoConfig& c = flags.c;
  c.settle_timeout = std::chrono::seconds(flags.settle_s);
  c.log_level = flags.log.level;  // the children's too
  if (Status st = Validate(c); !st) return svc.Fail(kExitUsage, st.error().message);
  auto self = SelfExe();
  if (!self) return svc.Fail(kExitUsage, self.error().message);
  const bool temp_dir = c.data_dir.empty();
  if (temp_dir) {
    auto dir = MakeTempDir();
    if (!dir) return svc.Fail(kExitUsage, dir.error().message);
    c.data_dir = *dir;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(c.data_dir, ec);
    if (ec) return svc.Fail(kExitUsage, "--data-dir " + c.data_dir + ": " + ec.message());
    c.data_dir = std::filesystem::canonical(c.data_dir).string();
  }
  if (c.scenario_fault) c.settle_timeout = std::min(c.settle_timeout, std::chrono::seconds(10));
  if (c.seed == 0) c.seed = std::random_device{}();

  svc.HandleSignals();  // before any thread; children get a clean signal mask
  Console console(std::cout);
  Supervisor sup(5s);
  console.Line(fmt::format("walrus demo: three regions (us, eu, ap) on localhost{}",
                           c.scenario.empty() ? "" : ", scenario " + c.scenario));
  console.Line("  data and logs: " + c.data_dir);
  if (!c.scenario.empty()) {
    console.Line(
        fmt::format("  traffic seed: {} (--seed {} replays the same writes)", c.seed, c.seed));
  }
  DemoSystem sys(c, c.data_dir, *self, sup, console, svc.stop_flag());
  int code = 0;
  if (Status st = sys.Start(); !st) {
    if (svc.stop_flag().load()) {
      code = service::kExitInterrupted;
    } else {
      console.Step("setup error: " + st.error().message);
      code = 2;
    }
  } else {
    console.Step("everything is running:");
    console.Table(sup.children(), c.data_dir);
    if (sys.gateway().enabled) {
      console.Line(fmt::format("Dashboard: {}#token={}", sys.gateway().url(), sys.gateway().token));
    }
    if (!c.scenario.empty()) {
      ShopMix mix(c.seed);
      Traffic traffic(sys);
      ScenarioEnv env{sys, traffic, console, mix, c.scenario_fault, c.settle_timeout};
      code = RunScenario(c.scenario, env);
      ReportUnexpectedExits(sup, sys, console);
    } else {
      console.Line("Ready. Press Ctrl-C to stop everything.");
      while (!svc.stop_flag().load()) {
        ReportUnexpectedExits(sup, sys, console);
        std::this_thread::sleep_for(200ms);
      }
    }
  }
  console.Step("stopping everything in reverse order (SIGTERM, SIGKILL after 5 s)");
  sup.StopAll();
  console.Step("all children stopped");
  if (temp_dir && !c.keep_data && code == 0) {
    std::error_code ec;
    std::filesystem::remove_all(c.data_dir, ec);
  } else {
    console.Line("  data and logs kept in " + c.data_dir);
  }
  return code;
}

}  // namespace

void AddDemoCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  DemoConfig* c = &flags->c;
  auto* cmd = service::AddCommand(
      root, exit_code, flags, "demo",
      "Run the whole three-region system on localhost (Kafka, Redis, appliers, mirrors, "
      "gateway), interactively or as a narrated, self-checking scenario.",
      RunDemo);
  cmd->footer(kFooter);
  cmd->add_option("--http", c->http, "HOST:PORT of the gateway (dashboard and API)")
      ->envname("WALRUS_DEMO_HTTP")
      ->capture_default_str();
  cmd->add_option("--scenario", c->scenario,
                  "Run a scenario and assert convergence: failover, partition, replay, flash-sale")
      ->envname("WALRUS_DEMO_SCENARIO")
      ->check(CLI::IsMember(kScenarios));
  cmd->add_option("--data-dir", c->data_dir,
                  "Where data and logs go (default: a new temp dir, removed after a clean run)")
      ->envname("WALRUS_DEMO_DATA_DIR");
  cmd->add_option("--partitions", c->partitions, "Partitions per topic")
      ->envname("WALRUS_DEMO_PARTITIONS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--keep-data", c->keep_data, "Keep the temp data dir and logs after a clean run")
      ->envname("WALRUS_DEMO_KEEP_DATA");
  cmd->add_flag("--no-gateway", c->no_gateway,
                "Do not start the gateway (scenarios then write with `walrus produce`)")
      ->envname("WALRUS_DEMO_NO_GATEWAY");
  cmd->add_option("--redis-server", c->redis_server, "redis-server program (PATH lookup) or path")
      ->envname("WALRUS_DEMO_REDIS_SERVER")
      ->capture_default_str();
  cmd->add_option("--seed", c->seed, "Seed of the scenario's traffic (0: random)")
      ->envname("WALRUS_DEMO_SEED");
  service::AddLogFlags(cmd, flags->log, "WALRUS_DEMO_LOG_LEVEL", "(demo and children)")
      .level->check(service::LogLevelCheck());
  // Test hooks (docs/demo.md), hidden from --help.
  cmd->add_flag("--scenario-fault", c->scenario_fault,
                "Test hook: skip the scenario's heal step, so it must end not converged")
      ->group("");
  cmd->add_option("--settle-timeout", flags->settle_s,
                  "Seconds the regions may take to apply everything after the heal")
      ->check(CLI::Range(1, 3600))
      ->group("");
}

}  // namespace walrus::demo
