#pragma once

// Service: the running state of `walrus devkafka`: one librdkafka mock cluster per --cluster,
// each with every --topic created, plus the optional admin HTTP endpoint.
// Owned by Run() (or a test); its methods may be called from any thread.
//
//   std::atomic<bool> stop{false};
//   int code = devkafka::Run(config, std::cout, stop);   // returns when stop becomes true

#include <atomic>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "devkafka/admin_server.h"
#include "devkafka/config.h"
#include "kafka/mock_cluster.h"

namespace walrus::devkafka {

class Service {
 public:
  // Creates every cluster and topic, then starts the admin endpoint. `config` must be valid.
  static Result<std::unique_ptr<Service>> Start(const Config& config);
  ~Service();  // stops the admin endpoint, then destroys the clusters (in parallel, ~1 s)
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // One "NAME=host:port,host:port" line per cluster, in --cluster order.
  const std::vector<std::string>& lines() const { return lines_; }
  // nullptr if no cluster has that name.
  kafka::MockCluster* Find(const std::string& name) const;
  // Bound port of the admin endpoint, 0 without --admin.
  int admin_port() const { return admin_ ? admin_->port() : 0; }

 private:
  Service() = default;
  std::vector<std::pair<std::string, std::unique_ptr<kafka::MockCluster>>> clusters_;
  std::vector<std::string> lines_;
  std::unique_ptr<AdminServer> admin_;  // declared last: stopped first
};

// Replaces `path` with `content` atomically: writes a temporary file beside it, then renames.
Status WriteFileAtomically(const std::string& path, const std::string& content);

// Validates `config`, starts the service, prints the cluster lines to `out` (flushed), writes
// the bootstrap file, logs "ready", waits until `stop` is true, then shuts down and removes the
// bootstrap file. Returns the process exit code: 0 clean stop, 1 start-up failure, 2 bad config.
int Run(const Config& config, std::ostream& out, const std::atomic<bool>& stop);

}  // namespace walrus::devkafka
