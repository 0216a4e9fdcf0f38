#include "devkafka/devkafka_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "devkafka/config.h"
#include "devkafka/service.h"
#include "service/common_flags.h"
#include "service/service_main.h"

namespace walrus {
namespace {

struct Flags {
  devkafka::Config config;
  std::vector<std::string> topic_specs;  // NAME:PARTITIONS
  service::LogFlags log;
};

int RunDevkafka(Flags& f, service::ServiceMain& svc) {
  f.config.topics.clear();
  for (const auto& spec : f.topic_specs) {
    auto parsed = devkafka::ParseTopicSpec(spec);
    if (!parsed) {  // already checked by the validator; kept for env/config paths
      Logger("devkafka")->error("{}", parsed.error().message);
      return service::kExitUsage;
    }
    f.config.topics.push_back(*parsed);
  }
  svc.HandleSignals();
  return devkafka::Run(f.config, std::cout, svc.stop_flag());
}

constexpr const char* kDescription =
    "Run in-memory Kafka clusters (librdkafka's mock cluster) for development and tests only.";

constexpr const char* kFooter = R"(
The brokers listen on 127.0.0.1 ephemeral ports and speak the real Kafka protocol, so any
Kafka client can use them. They are for development and tests ONLY:
  - everything lives in memory and is lost when the command stops;
  - each partition keeps only ~5 MiB (or 100,000 batches) and silently drops older records;
  - transactions are accepted but not honoured (read_committed readers see aborted records);
  - a topic that a client names but that does not exist is auto-created with 4 partitions;
  - a rebalance of a group that already has members completes only after the members'
    session.timeout.ms - 1 s: give clients e.g. -X session.timeout.ms=6000.

Output: once every cluster and topic is ready, prints one line per cluster on stdout,
  NAME=host:port,host:port,...
then writes the same lines to --bootstrap-file (atomically) and logs "ready" on stderr.
Runs until SIGTERM or SIGINT, then exits 0 (and removes the bootstrap file).

With --admin HOST:PORT, an HTTP control endpoint for fault tests:
  GET  /healthz, GET /clusters
  POST /clusters/NAME/brokers/ID/down    POST /clusters/NAME/brokers/ID/up
  POST /clusters/NAME/topics/TOPIC/partitions/P/leader/ID
  POST /clusters/NAME/topics/TOPIC?partitions=N
A broker taken down does not hand its partitions over: move leaders explicitly.

Example:
  walrus devkafka --cluster us --cluster eu --brokers 3 --topic us.events:12 \
      --topic eu.events:12 --bootstrap-file /tmp/kafka.env)";

}  // namespace

void AddDevkafkaCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  devkafka::Config* config = &flags->config;

  auto* cmd = service::AddCommand(root, exit_code, flags, "devkafka", kDescription, RunDevkafka);
  cmd->footer(kFooter);
  cmd->add_option("--cluster", config->clusters,
                  "Name of a cluster to create; repeat (or comma-separate) for several "
                  "independent clusters, e.g. one per region")
      ->envname("WALRUS_DEVKAFKA_CLUSTER")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--brokers", config->brokers, "Brokers per cluster (broker ids 1..N)")
      ->envname("WALRUS_DEVKAFKA_BROKERS")
      ->check(CLI::Range(1, devkafka::kMaxBrokers))
      ->capture_default_str();
  cmd->add_option("--topic", flags->topic_specs,
                  "Topic to create on every cluster, as NAME:PARTITIONS (e.g. redis-writes:12); "
                  "repeat or comma-separate for several")
      ->envname("WALRUS_DEVKAFKA_TOPIC")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](const std::string& spec) {
            auto parsed = devkafka::ParseTopicSpec(spec);
            return parsed ? std::string() : parsed.error().message;
          },
          "NAME:PARTITIONS"));
  cmd->add_option("--bootstrap-file", config->bootstrap_file,
                  "Write the NAME=bootstraps lines to this file (temp file + rename) once every "
                  "cluster and topic is ready; tests can wait for it to appear")
      ->envname("WALRUS_BOOTSTRAP_FILE");
  service::AddAdminFlag(cmd, config->admin,
                        "HOST:PORT of an HTTP control endpoint (broker down/up, leader moves, "
                        "topic creation, /healthz); port 0 picks a free port");
  service::AddLogFlags(cmd, flags->log).level->check(service::LogLevelCheck());
}

}  // namespace walrus
