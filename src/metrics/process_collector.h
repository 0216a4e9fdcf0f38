#pragma once

// ProcessCollector: the standard Prometheus process metrics of the current process, read fresh
// from /proc and getrusage() on every Collect():
//
//   process_resident_memory_bytes  gauge    resident set size (/proc/self/statm)
//   process_virtual_memory_bytes   gauge    virtual memory size (/proc/self/statm)
//   process_cpu_seconds_total      counter  user + system CPU time (getrusage)
//   process_start_time_seconds     gauge    start time since the Unix epoch (/proc/self/stat)
//   process_open_fds               gauge    open file descriptors (/proc/self/fd)
//
// A metric whose source cannot be read is left out rather than reported as 0.
//
//   walrus::metrics::ProcessCollector pc;
//   for (const auto& family : pc.Collect()) std::cout << family.name << "\n";
//
// Stateless apart from the cached start time; Collect() is safe from any thread.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <optional>
#include <vector>

namespace walrus::metrics {

// Raw readings, exposed for tests; each is empty when its source is unavailable.
struct ProcessStats {
  std::optional<double> resident_bytes;
  std::optional<double> virtual_bytes;
  std::optional<double> cpu_seconds;
  std::optional<double> start_time_seconds;
  std::optional<double> open_fds;
};

// Reads the current values for this process.
ProcessStats ReadProcessStats();

class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::optional<double> start_time_seconds_;  // constant for the life of the process
};

}  // namespace walrus::metrics
