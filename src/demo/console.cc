#include "demo/console.h"

#include <fmt/format.h>

#include <algorithm>

namespace walrus::demo {

double Console::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Console::Step(std::string_view text) {
  out_ << fmt::format("[{:6.1f}s] {}", Elapsed(), text) << std::endl;
}

void Console::Line(std::string_view text) { out_ << text << std::endl; }

void Console::Table(const std::vector<ChildInfo>& children, const std::string& log_dir) {
  struct Row {
    std::string component, region, pid, address, log;
  };
  std::vector<Row> rows = {{"COMPONENT", "REGION", "PID", "ADDRESS", "LOG"}};
  for (const auto& c : children) {
    if (!c.running) continue;
    std::string log = c.spec.log_path;
    if (!log_dir.empty() && log.rfind(log_dir + "/", 0) == 0) log = log.substr(log_dir.size() + 1);
    rows.push_back({c.spec.component, c.spec.region.empty() ? "-" : c.spec.region,
                    std::to_string(c.pid), c.spec.address.empty() ? "-" : c.spec.address, log});
  }
  size_t w[4] = {0, 0, 0, 0};
  for (const auto& r : rows) {
    w[0] = std::max(w[0], r.component.size());
    w[1] = std::max(w[1], r.region.size());
    w[2] = std::max(w[2], r.pid.size());
    w[3] = std::max(w[3], r.address.size());
  }
  for (const auto& r : rows) {
    out_ << fmt::format("  {:<{}}  {:<{}}  {:>{}}  {:<{}}  {}", r.component, w[0], r.region, w[1],
                        r.pid, w[2], r.address, w[3], r.log)
         << "\n";
  }
  out_.flush();
}

}  // namespace walrus::demo
