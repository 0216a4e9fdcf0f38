#include "service/common_flags.h"

#include <stdexcept>

namespace walrus::service {

LogOptions AddLogFlags(CLI::App* cmd, LogFlags& flags, const std::string& level_env,
                       const std::string& level_note) {
  LogOptions o;
  o.level = cmd->add_option("--log-level", flags.level,
                            "trace|debug|info|warn|error" +
                                (level_note.empty() ? std::string() : " " + level_note))
                ->envname(level_env)
                ->capture_default_str();
  o.format = cmd->add_option("--log-format", flags.format, "text|json (one line per event)")
                 ->envname(kLogFormatEnv)
                 ->check(CLI::IsMember({"text", "json"}))
                 ->capture_default_str();
  return o;
}

CLI::Validator LogLevelCheck() {
  return CLI::IsMember({"trace", "debug", "info", "warn", "error"});
}

CLI::Option* AddAdminFlag(CLI::App* cmd, std::string& admin, const std::string& help) {
  auto* opt = cmd->add_option("--admin", admin, help)->envname(kAdminEnv);
  if (!admin.empty()) opt->capture_default_str();
  return opt;
}

LogFormat ParseLogFormat(const std::string& name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  throw std::invalid_argument("--log-format must be text or json, got '" + name + "'");
}

void InitLogging(const LogFlags& flags) {
  walrus::InitLogging(flags.level, ParseLogFormat(flags.format));
}

}  // namespace walrus::service
