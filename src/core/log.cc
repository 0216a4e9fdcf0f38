#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <stdexcept>

namespace walrus {
namespace {

std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;
LogFormat g_format = LogFormat::kText;
std::shared_ptr<spdlog::sinks::sink> g_sink;

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %n %v";
constexpr const char* kJsonPattern =
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","module":"%n","msg":"%v"})";

std::shared_ptr<spdlog::sinks::sink> SinkLocked() {
  if (!g_sink) {
    g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    g_sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        g_format == LogFormat::kJson ? kJsonPattern : kTextPattern,
        spdlog::pattern_time_type::utc));
  }
  return g_sink;
}

}  // namespace

void InitLogging(const std::string& level, LogFormat format) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw std::invalid_argument("unknown log level '" + level +
                                "' (expected trace, debug, info, warn, error)");
  }
  std::lock_guard lock(g_mu);
  g_level = lvl;
  g_format = format;
  g_sink.reset();
  auto sink = SinkLocked();
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->sinks() = {sink};
    l->set_level(lvl);
  });
}

std::shared_ptr<spdlog::logger> Logger(const std::string& module) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(module)) return existing;
  auto logger = std::make_shared<spdlog::logger>(module, SinkLocked());
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace walrus
