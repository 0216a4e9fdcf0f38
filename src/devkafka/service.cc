#include "devkafka/service.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include "core/log.h"

namespace walrus::devkafka {

Result<std::unique_ptr<Service>> Service::Start(const Config& config) {
  auto log = Logger("devkafka");
  std::unique_ptr<Service> self(new Service());
  for (const auto& name : config.clusters) {
    auto cluster = kafka::MockCluster::Create(config.brokers);
    if (!cluster) return Error(cluster.error().code, "cluster " + name + ": " + cluster.error().message);
    for (const auto& topic : config.topics) {
      // Replication as a real cluster would have it, capped by the broker count.
      if (Status s = (*cluster)->CreateTopic(topic.name, topic.partitions, 3); !s.ok()) {
        return Error(s.error().code, "cluster " + name + ": " + s.error().message);
      }
    }
    log->info("cluster {}: {} broker(s) at {}, {} topic(s)", name, config.brokers,
              (*cluster)->bootstraps(), config.topics.size());
    self->lines_.push_back(name + "=" + (*cluster)->bootstraps());
    self->clusters_.emplace_back(name, std::move(*cluster));
  }
  if (!config.admin.empty()) {
    auto admin = AdminServer::Start(
        config.admin, [raw = self.get()](const std::string& n) { return raw->Find(n); },
        self->lines_);
    if (!admin) return admin.error();
    self->admin_ = std::move(*admin);
    log->info("admin endpoint on port {}", self->admin_->port());
  }
  return self;
}

Service::~Service() {
  admin_.reset();
  // Each mock cluster takes ~1 s to stop; stop them together.
  std::vector<std::future<void>> done;
  for (auto& entry : clusters_) {
    done.push_back(std::async(std::launch::async, [c = std::move(entry.second)]() mutable { c.reset(); }));
  }
  for (auto& f : done) f.wait();
}

kafka::MockCluster* Service::Find(const std::string& name) const {
  for (const auto& [n, c] : clusters_) {
    if (n == name) return c.get();
  }
  return nullptr;
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      return Error(Errc::kIo, "cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(Errc::kIo, fmt::format("cannot rename {} to {}", tmp, path));
  }
  return Status::Ok();
}

int Run(const Config& config, std::ostream& out, const std::atomic<bool>& stop) {
  auto log = Logger("devkafka");
  if (Status s = Validate(config); !s.ok()) {
    log->error("{}", s.error().message);
    return 2;
  }
  // A stale file from an earlier run must not be mistaken for this run's.
  if (!config.bootstrap_file.empty()) std::remove(config.bootstrap_file.c_str());

  auto service = Service::Start(config);
  if (!service) {
    log->error("devkafka failed to start: {}", service.error().message);
    return 1;
  }
  std::string text;
  for (const auto& line : (*service)->lines()) text += line + "\n";
  out << text << std::flush;
  if (!config.bootstrap_file.empty()) {
    if (Status s = WriteFileAtomically(config.bootstrap_file, text); !s.ok()) {
      log->error("--bootstrap-file: {}", s.error().message);
      return 1;
    }
  }
  log->info("ready");

  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  log->info("stopping");
  service->reset();
  if (!config.bootstrap_file.empty()) std::remove(config.bootstrap_file.c_str());
  log->info("stopped");
  return 0;
}

}  // namespace walrus::devkafka
