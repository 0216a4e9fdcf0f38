#pragma once

// The flags every `walrus <command>` shares, registered once here so that each command spells them
// (names, env vars, help) the same way:
//
//   --log-level  trace|debug|info|warn|error   env WALRUS_LOG_LEVEL (demo: WALRUS_DEMO_LOG_LEVEL)
//   --log-format text|json                     env WALRUS_LOG_FORMAT
//   --admin      HOST:PORT of the admin HTTP endpoint, env WALRUS_ADMIN (long-running services)
//
//   service::LogFlags log{.level = "warn"};      // the command's default level
//   service::AddLogFlags(cmd, log);
//   service::AddAdminFlag(cmd, cfg.admin, "Admin HTTP address for /healthz /readyz /metrics");
//   ... in the callback: service::InitLogging(log);   // throws std::invalid_argument
//
// Registration happens on the main thread while the CLI is built; no threads involved.

#include <CLI/CLI.hpp>
#include <string>

#include "core/log.h"

namespace walrus::service {

struct LogFlags {
  std::string level = "info";
  std::string format = "text";
};

// The options AddLogFlags created, for a command that adds a check of its own.
struct LogOptions {
  CLI::Option* level;
  CLI::Option* format;
};

inline constexpr const char* kLogLevelEnv = "WALRUS_LOG_LEVEL";
inline constexpr const char* kLogFormatEnv = "WALRUS_LOG_FORMAT";
inline constexpr const char* kAdminEnv = "WALRUS_ADMIN";

// --log-level (default: `flags.level` as given) and --log-format (text|json, checked by CLI11).
// `level_env` names the level's environment variable; `level_note` is appended to its help.
LogOptions AddLogFlags(CLI::App* cmd, LogFlags& flags, const std::string& level_env = kLogLevelEnv,
                       const std::string& level_note = "");

// A CLI11 check of a --log-level value at parse time (a command whose bad flags are all parse
// errors adds it; the others let InitLogging refuse the level, exit 2).
CLI::Validator LogLevelCheck();

// --admin HOST:PORT (env WALRUS_ADMIN) with the command's own help; shows `admin`'s current value
// as the default unless it is empty.
CLI::Option* AddAdminFlag(CLI::App* cmd, std::string& admin, const std::string& help);

// "text" or "json"; throws std::invalid_argument naming --log-format otherwise.
LogFormat ParseLogFormat(const std::string& name);

// Initialises logging (core/log.h) from the flags. Throws std::invalid_argument on an unknown level
// or format.
void InitLogging(const LogFlags& flags);

}  // namespace walrus::service
