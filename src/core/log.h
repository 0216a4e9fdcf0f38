#pragma once

// Logging: one named spdlog logger per module, one line per event.
//
//   auto log = walrus::Logger("apply");
//   log->info("assigned partitions={}", n);
//   WALRUS_LOG_EVERY_MS(log, warn, 1000, "redis down: {}", err);   // rate-limited, per call site
//
// Format (set once by InitLogging): `2026-11-29T14:33:07.123Z level module message`, or one JSON
// object per line with --log-format json.

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace walrus {

enum class LogFormat { kText, kJson };

// Call once at start-up (main thread). `level` is one of trace, debug, info, warn, error.
// Throws std::invalid_argument on an unknown level name.
void InitLogging(const std::string& level, LogFormat format = LogFormat::kText);

// Returns the logger for `module`, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> Logger(const std::string& module);

namespace detail {
// True at most once per `interval_ms` for the given call-site slot.
inline bool RateLimitPass(std::atomic<int64_t>& last_ms, int64_t interval_ms) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t prev = last_ms.load(std::memory_order_relaxed);
  if (now - prev < interval_ms) return false;
  return last_ms.compare_exchange_strong(prev, now, std::memory_order_relaxed);
}
}  // namespace detail

}  // namespace walrus

#define WALRUS_LOG_EVERY_MS(logger, lvl, interval_ms, ...)                             \
  do {                                                                                 \
    static std::atomic<int64_t> walrus_log_last_##lvl{-(int64_t{1} << 40)};            \
    if (::walrus::detail::RateLimitPass(walrus_log_last_##lvl, (interval_ms))) {       \
      (logger)->lvl(__VA_ARGS__);                                                      \
    }                                                                                  \
  } while (0)
