#pragma once

// DemoSystem: the three-region deployment on localhost, as children of the demo:
//
//   per region R (us, eu, ap):
//     devkafka-R   `walrus devkafka --cluster R` holding us.events, eu.events, ap.events (+ .dlq)
//     redis-R      Debian's redis-server on a free port, data under DATA/redis-R
//     apply-R      `walrus apply --mode crdt` of the three topics on R's Kafka into redis-R
//     mirror-R     `walrus mirror` pulling the other regions' R'.events into R's Kafka
//   gateway        `walrus gateway` (HTTP API + dashboard), token via WALRUS_GATEWAY_TOKEN
//
//   DemoSystem sys(config, data_dir, self_exe, supervisor, console, shutdown.flag());
//   if (Status st = sys.Start(); !st) ...;            // every piece started and ready
//   sys.SetKafkaUp("eu", false); sys.KillApplier("eu");  // faults used by the scenarios
//   sys.StartMirror("us", {"eu"});                        // us pulls only from eu now
//
// Every wait polls with a deadline, gives up early when `stop` is set (kInternal
// "interrupted") and, when the child died, fails with the tail of its log.
//
// Ownership: the Supervisor owns the processes; DemoSystem knows their names, ports and
// arguments. Threading: the demo's main thread only.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "demo/console.h"
#include "demo/demo_config.h"
#include "demo/supervisor.h"
#include "redis/connection.h"

namespace walrus::demo {

struct RegionInfo {
  std::string name;
  std::string kafka;  // bootstrap servers
  int kafka_admin_port = 0;
  int redis_port = 0;
  int apply_admin_port = 0;
  int mirror_admin_port = 0;

  std::string topic() const { return name + ".events"; }
  std::string redis_url() const { return "redis://127.0.0.1:" + std::to_string(redis_port); }
};

// A short-lived `walrus` child (produce, verify).
struct WalrusRun {
  std::string name;  // unique among running children; the log is DATA/<name>.log
  std::vector<std::string> args;
  std::string stdin_path;  // empty: /dev/null
};

struct GatewayInfo {
  bool enabled = false;
  std::string host;
  int port = 0;
  std::string token;
  std::string url() const { return "http://" + host + ":" + std::to_string(port) + "/"; }
};

class DemoSystem {
 public:
  DemoSystem(const DemoConfig& config, std::string data_dir, std::string self_exe, Supervisor& sup,
             Console& console, const std::atomic<bool>& stop);

  // Starts devkafka, redis-server, appliers and mirrors, then the gateway (unless
  // --no-gateway), each layer waited for. Errors name the piece and carry its log tail.
  Status Start();

  // Faults and heals.
  Status SetKafkaUp(const std::string& region, bool up);  // every broker of R's cluster
  void KillApplier(const std::string& region);            // SIGKILL
  void StopApplier(const std::string& region);            // SIGTERM (clean leave)
  Status StartApplier(const std::string& region);         // and wait for /readyz
  // (Re)starts R's mirror pulling from `sources`; an empty list leaves it stopped.
  Status StartMirror(const std::string& region, const std::vector<std::string>& sources);
  void StopMirror(const std::string& region);
  Status FlushAll(const std::string& region);

  // A fresh connection to R's redis-server.
  Result<std::unique_ptr<redis::Connection>> Redis(const std::string& region) const;
  // Runs `walrus ARGS...` children concurrently to completion, each with its output in
  // DATA/<name>.log: their exit codes, in order. kTimeout (and the ones still running are
  // killed) after `timeout`.
  Result<std::vector<int>> RunWalrus(const std::vector<WalrusRun>& runs,
                                     std::chrono::milliseconds timeout);
  // Polls `check` (every 50 ms) until it returns true; fails if `child` (when not empty)
  // exited, the deadline passed (kTimeout naming `what`) or the demo is stopping.
  Status WaitFor(const std::string& child, const std::string& what,
                 const std::function<bool()>& check, std::chrono::milliseconds timeout);

  const std::vector<RegionInfo>& regions() const { return regions_; }
  const RegionInfo& region(const std::string& name) const;
  const GatewayInfo& gateway() const { return gateway_; }
  const std::string& data_dir() const { return data_dir_; }
  const DemoConfig& config() const { return config_; }
  std::string LogPath(const std::string& child) const { return data_dir_ + "/" + child + ".log"; }
  // The last `lines` lines of a child's log, indented, for error messages.
  std::string LogTail(const std::string& child, size_t lines = 15) const;
  bool stopping() const { return stop_.load(); }

 private:
  Status WriteSrcKey();
  Status StartKafka();
  Status StartRedis();
  Status StartServices();
  Status StartGateway();
  Status SpawnApplier(const RegionInfo& r);
  Status SpawnMirror(const RegionInfo& r, const std::vector<std::string>& sources);
  Status WaitHttpReady(const std::string& child, int port, const std::string& path,
                       std::chrono::milliseconds timeout);
  Status Spawn(ChildSpec spec);
  RegionInfo& MutableRegion(const std::string& name);

  const DemoConfig& config_;
  const std::string data_dir_;
  const std::string self_exe_;
  Supervisor& sup_;
  Console& console_;
  const std::atomic<bool>& stop_;
  std::string redis_program_;  // resolved before anything starts
  std::string src_key_file_;   // DATA/src-key, written by Start()
  std::vector<RegionInfo> regions_;
  GatewayInfo gateway_;
};

}  // namespace walrus::demo
