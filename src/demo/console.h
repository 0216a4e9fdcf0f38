#pragma once

// Console: everything `walrus demo` tells its user, on stdout, one flushed line at a time:
// progress and scenario narration stamped with the time since start, and the table of what runs.
//
//   Console console(std::cout);
//   console.Step("starting Kafka (walrus devkafka) for us, eu, ap");   // "[  0.1s] starting ..."
//   console.Table(supervisor.children());
//   console.Line("Dashboard: http://127.0.0.1:8080/#token=...");
//
// The table has one row per running child, columns COMPONENT REGION PID ADDRESS LOG (the test
// and scripts parse it: whitespace-separated, PID a decimal number).
//
// Threading: one thread (the demo's main thread) uses a Console.

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "demo/supervisor.h"

namespace walrus::demo {

class Console {
 public:
  explicit Console(std::ostream& out) : out_(out), start_(std::chrono::steady_clock::now()) {}

  // "[ 12.3s] text"
  void Step(std::string_view text);
  // The text as is.
  void Line(std::string_view text);
  // The running children, log paths relative to `log_dir` when inside it.
  void Table(const std::vector<ChildInfo>& children, const std::string& log_dir);
  // Seconds since the Console was made.
  double Elapsed() const;

 private:
  std::ostream& out_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace walrus::demo
