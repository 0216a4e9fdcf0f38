#pragma once

// Typed configuration of `walrus demo`, filled from flags / WALRUS_DEMO_* env by
// demo_command.cc and validated once at start-up.
//
//   DemoConfig c;
//   c.scenario = "failover";
//   if (Status st = Validate(c); !st) std::cerr << st.error().message;

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace walrus::demo {

inline const std::vector<std::string> kScenarios = {"failover", "partition", "replay",
                                                    "flash-sale"};

struct DemoConfig {
  std::string http = "127.0.0.1:8080";  // the gateway's address (dashboard, API)
  std::string scenario;                 // empty: interactive (run until Ctrl-C)
  std::string data_dir;                 // empty: a new directory under $TMPDIR (or /tmp)
  int partitions = 4;                   // per topic
  bool keep_data = false;               // keep the data dir (always kept on failure)
  bool no_gateway = false;              // do not start `walrus gateway`
  // Test hook: the scenario skips its heal step, so it must end divergent (exit 1).
  bool scenario_fault = false;
  // How long the regions may take to apply every write after the heal (fault mode: 10 s).
  std::chrono::seconds settle_timeout{45};
  std::string redis_server = "redis-server";  // program (PATH lookup) or path
  std::string log_level = "info";             // of the demo and its children
  uint64_t seed = 0;                          // traffic generator; 0: random
};

// The three regions of the demo, in start order.
inline const std::vector<std::string> kRegions = {"us", "eu", "ap"};

// kInvalidArgument naming the flag: unknown scenario, partitions outside 1..64, bad --http.
Status Validate(const DemoConfig& c);

}  // namespace walrus::demo
