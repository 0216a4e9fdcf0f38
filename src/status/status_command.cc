#include "status/status_command.h"

#include <iostream>
#include <memory>

#include "service/common_flags.h"
#include "service/service_main.h"
#include "status/status_report.h"

namespace walrus::status {
namespace {

struct Flags {
  std::vector<std::string> clusters, redis, topics;
  std::string group;
  bool json = false;
  int timeout_ms = 5000;
  service::LogFlags log{.level = "error"};
};

std::pair<std::string, std::string> Split(const std::string& kv, const std::string& flag) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
    throw std::invalid_argument(flag + " expects NAME=VALUE, got '" + kv + "'");
  }
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

int RunStatus(const Flags& f, service::ServiceMain&) {
  StatusOptions o;
  if (f.clusters.empty()) throw std::invalid_argument("at least one --cluster NAME=BOOTSTRAP");
  for (const auto& c : f.clusters) o.clusters.push_back(Split(c, "--cluster"));
  for (const auto& r : f.redis) o.redis.push_back(Split(r, "--redis"));
  o.group = f.group;
  o.topics = f.topics;
  o.timeout = std::chrono::milliseconds(f.timeout_ms);
  StatusReport r = CollectStatus(o);
  std::cout << (f.json ? RenderJson(r) : RenderTable(r)) << std::flush;
  bool redis_ok = true;
  for (const auto& x : r.redis) redis_ok = redis_ok && x.ok;
  return r.errors.empty() && redis_ok && !AnyOutsideLog(r) ? service::kExitOk
                                                            : service::kExitFailed;
}

}  // namespace

void AddStatusCommand(CLI::App& root, int& exit_code) {
  auto f = std::make_shared<Flags>();
  auto* cmd = service::AddCommand(
      root, exit_code, f, "status",
      "End offsets per topic/partition in each cluster, mirror lag, applier lag (consumer group\n"
      "and Redis positions) and Redis health, as one table. Exit 1 if something could not be\n"
      "read, a Redis is down, or a partition is held / its stored position is outside the log.",
      RunStatus);
  cmd->add_option("--cluster", f->clusters, "NAME=BOOTSTRAP, repeatable")
      ->envname("WALRUS_CLUSTER");
  cmd->add_option("--group", f->group, "Applier consumer group (committed offsets -> lag)")
      ->envname("WALRUS_GROUP");
  cmd->add_option("--redis", f->redis, "NAME=REDIS_URL of the cluster NAME's applier, repeatable")
      ->envname("WALRUS_REDIS");
  cmd->add_option("--topics", f->topics, "Topics or ^regex (default: all but internal ones)")
      ->delimiter(',');
  cmd->add_flag("--json", f->json, "JSON output");
  cmd->add_option("--timeout-ms", f->timeout_ms, "Per-request timeout")->capture_default_str();
  service::AddLogFlags(cmd, f->log);
}

}  // namespace walrus::status
