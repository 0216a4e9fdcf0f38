#include "metrics/process_collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace walrus::metrics {
namespace {

double PageSize() {
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<double>(page) : 4096.0;
}

// /proc/self/statm: "size resident shared text lib data dt", in pages.
void ReadStatm(ProcessStats& out) {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  if (in >> size >> resident) {
    out.virtual_bytes = size * PageSize();
    out.resident_bytes = resident * PageSize();
  }
}

void ReadCpu(ProcessStats& out) {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return;
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  out.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void CountOpenFds(ProcessStats& out) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return;
  double n = 0;
  for (const auto& entry : it) {
    (void)entry;
    ++n;
  }
  // The iterator's own descriptor is listed too.
  out.open_fds = n > 0 ? n - 1 : 0;
}

// Boot time (seconds since the epoch) from the "btime" line of /proc/stat.
std::optional<double> BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) != 0) continue;
    char* end = nullptr;
    const double v = std::strtod(line.c_str() + 6, &end);
    if (end != line.c_str() + 6) return v;
    return std::nullopt;
  }
  return std::nullopt;
}

// Field 22 of /proc/self/stat is the start time in clock ticks after boot. Field 2 (comm) may
// contain spaces and parentheses, so parsing starts after the last ')'.
std::optional<double> StartTimeSeconds() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  // After ')' come fields 3 (state) .. 22 (starttime): skip 19 of them.
  for (int i = 3; i < 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  double ticks = 0;
  if (!(fields >> ticks)) return std::nullopt;
  const long hz = sysconf(_SC_CLK_TCK);
  const auto boot = BootTimeSeconds();
  if (hz <= 0 || !boot) return std::nullopt;
  return *boot + ticks / static_cast<double>(hz);
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  ReadStatm(stats);
  ReadCpu(stats);
  CountOpenFds(stats);
  stats.start_time_seconds = StartTimeSeconds();
  return stats;
}

ProcessCollector::ProcessCollector() : start_time_seconds_(StartTimeSeconds()) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  ProcessStats stats;
  ReadStatm(stats);
  ReadCpu(stats);
  CountOpenFds(stats);

  std::vector<prometheus::MetricFamily> out;
  if (stats.cpu_seconds) {
    out.push_back(Family("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", MetricType::Counter,
                         *stats.cpu_seconds));
  }
  if (stats.open_fds) {
    out.push_back(Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                         *stats.open_fds));
  }
  if (stats.resident_bytes) {
    out.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::Gauge, *stats.resident_bytes));
  }
  if (start_time_seconds_) {
    out.push_back(Family("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.",
                         MetricType::Gauge, *start_time_seconds_));
  }
  if (stats.virtual_bytes) {
    out.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::Gauge, *stats.virtual_bytes));
  }
  return out;
}

}  // namespace walrus::metrics
