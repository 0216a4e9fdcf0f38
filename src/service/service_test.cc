// Unit tests of the command skeleton: the common flags (names, env, defaults, checks), log format
// parsing, exceptions -> exit codes, the stop wait, the decision flags.

#include <gtest/gtest.h>

#include <cstdlib>

#include "service/common_flags.h"
#include "service/decision_flags.h"
#include "service/service_main.h"

namespace walrus::service {
namespace {

// Parses `args` (after the program name) into a fresh sub-command `cmd` built by `add`.
template <typename Add>
void Parse(std::vector<std::string> args, Add add) {
  CLI::App app{"test"};
  auto* cmd = app.add_subcommand("cmd");
  add(cmd);
  args.insert(args.begin(), "cmd");
  std::vector<const char*> argv{"walrus"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
}

TEST(CommonFlags, DefaultsAreTheCommandsOwn) {
  LogFlags log{.level = "warn"};
  std::string admin = "127.0.0.1:0";
  Parse({}, [&](CLI::App* cmd) {
    AddLogFlags(cmd, log);
    AddAdminFlag(cmd, admin, "Admin HTTP address");
  });
  EXPECT_EQ(log.level, "warn");
  EXPECT_EQ(log.format, "text");
  EXPECT_EQ(admin, "127.0.0.1:0");
}

TEST(CommonFlags, FlagsAndHelp) {
  LogFlags log;
  std::string admin;
  CLI::App app{"test"};
  auto* cmd = app.add_subcommand("cmd");
  AddLogFlags(cmd, log, kLogLevelEnv, "(and children)");
  AddAdminFlag(cmd, admin, "Admin HTTP address for /healthz");
  const std::string help = cmd->help();
  for (const char* s :
       {"--log-level", "--log-format", "--admin", "WALRUS_LOG_LEVEL", "WALRUS_LOG_FORMAT",
        "WALRUS_ADMIN", "text|json", "(and children)", "trace|debug|info|warn|error"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s << " not in\n" << help;
  }
  Parse({"--log-level", "debug", "--log-format", "json", "--admin", "127.0.0.1:9100"},
        [&](CLI::App* c) {
          AddLogFlags(c, log);
          AddAdminFlag(c, admin, "x");
        });
  EXPECT_EQ(log.level, "debug");
  EXPECT_EQ(log.format, "json");
  EXPECT_EQ(admin, "127.0.0.1:9100");
}

TEST(CommonFlags, FromEnvironment) {
  setenv("WALRUS_LOG_FORMAT", "json", 1);
  setenv("WALRUS_TEST_LOG_LEVEL", "error", 1);
  setenv("WALRUS_ADMIN", "127.0.0.1:9200", 1);
  LogFlags log;
  std::string admin;
  Parse({}, [&](CLI::App* cmd) {
    AddLogFlags(cmd, log, "WALRUS_TEST_LOG_LEVEL");
    AddAdminFlag(cmd, admin, "x");
  });
  unsetenv("WALRUS_LOG_FORMAT");
  unsetenv("WALRUS_TEST_LOG_LEVEL");
  unsetenv("WALRUS_ADMIN");
  EXPECT_EQ(log.format, "json");
  EXPECT_EQ(log.level, "error");
  EXPECT_EQ(admin, "127.0.0.1:9200");
}

TEST(CommonFlags, BadFormatIsAParseErrorBadLevelOnlyWithTheCheck) {
  LogFlags log;
  EXPECT_THROW(Parse({"--log-format", "xml"}, [&](CLI::App* cmd) { AddLogFlags(cmd, log); }),
               CLI::ValidationError);
  EXPECT_NO_THROW(Parse({"--log-level", "loud"}, [&](CLI::App* cmd) { AddLogFlags(cmd, log); }));
  EXPECT_THROW(Parse({"--log-level", "loud"},
                     [&](CLI::App* cmd) { AddLogFlags(cmd, log).level->check(LogLevelCheck()); }),
               CLI::ValidationError);
}

TEST(CommonFlags, ParseLogFormat) {
  EXPECT_EQ(ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_THROW(ParseLogFormat("JSON"), std::invalid_argument);
  EXPECT_THROW(ParseLogFormat(""), std::invalid_argument);
}

TEST(RunCommand, ExitCodes) {
  const LogFlags log;
  EXPECT_EQ(RunCommand("t", log, [](ServiceMain&) { return 0; }), kExitOk);
  EXPECT_EQ(RunCommand("t", log, [](ServiceMain&) { return 1; }), kExitFailed);
  EXPECT_EQ(RunCommand("t", log,
                       [](ServiceMain&) -> int { throw std::invalid_argument("--x is required"); }),
            kExitUsage);
  EXPECT_EQ(RunCommand("t", log, [](ServiceMain&) -> int { throw CommandError(3, "guard"); }), 3);
  EXPECT_EQ(RunCommand("t", log, [](ServiceMain&) -> int { throw CommandError(1, ""); }), 1);
}

TEST(RunCommand, ErrorLinesNameTheCommand) {
  testing::internal::CaptureStderr();
  RunCommand("apply", LogFlags{},
             [](ServiceMain&) -> int { throw std::invalid_argument("--topic is required"); });
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "walrus apply: error: --topic is required\n");
  testing::internal::CaptureStderr();
  const int code = RunCommand("mirror", LogFlags{}, [](ServiceMain& s) { return s.Fail(2, "x"); });
  EXPECT_EQ(code, 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "walrus mirror: error: x\n");
}

TEST(RunCommand, BadLevelOrFormatIsAUsageError) {
  bool ran = false;
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCommand("t", LogFlags{.level = "loud"}, [&](ServiceMain&) { return ran = true, 0; }),
            kExitUsage);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("unknown log level 'loud'"),
            std::string::npos);
  EXPECT_EQ(RunCommand("t", LogFlags{.format = "xml"}, [&](ServiceMain&) { return ran = true, 0; }),
            kExitUsage);
  EXPECT_FALSE(ran);
}

TEST(AddCommand, RunsTheBodyInRunCommandAndStoresTheExitCode) {
  struct Flags {
    int value = 0;
    LogFlags log;
  };
  CLI::App app{"test"};
  int exit_code = -1;
  auto flags = std::make_shared<Flags>();
  std::string seen_command;
  auto* cmd =
      AddCommand(app, exit_code, flags, "cmd", "A test command", [&](Flags& f, ServiceMain& svc) {
        seen_command = svc.command();
        return f.value;
      });
  cmd->add_option("--value", flags->value);
  AddLogFlags(cmd, flags->log);
  std::vector<const char*> argv{"walrus", "cmd", "--value", "7", "--log-format", "json"};
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(exit_code, 7);
  EXPECT_EQ(seen_command, "cmd");
  EXPECT_EQ(flags->log.format, "json");
  EXPECT_EQ(cmd->get_description(), "A test command");
}

TEST(ServiceMain, ParseAdmin) {
  EXPECT_EQ(ParseAdmin("127.0.0.1:0").host, "127.0.0.1");
  try {
    ParseAdmin("not-an-address");
    ADD_FAILURE() << "no throw";
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), kExitUsage);
    EXPECT_EQ(std::string(e.what()).rfind("--admin: ", 0), 0u) << e.what();
  }
}

TEST(ServiceMain, WaitForStopReturnsTheFatalCodeAndStops) {
  ServiceMain svc("t");
  svc.HandleSignals();
  int polls = 0;
  const int code = svc.WaitForStop(
      [&]() -> std::optional<int> {
        if (++polls < 3) return std::nullopt;
        return 3;
      },
      std::chrono::milliseconds(1));
  EXPECT_EQ(code, 3);
  EXPECT_EQ(polls, 3);
  EXPECT_TRUE(svc.stop_flag().load());
  EXPECT_EQ(svc.WaitForStop(), kExitOk);  // already stopped: returns at once
}

TEST(ServiceMain, StartAdminServesAndNamesTheFlagOnFailure) {
  ServiceMain svc("t");
  const auto addr = ParseAdmin("127.0.0.1:0");
  http::AdminServer admin(addr, nullptr);
  svc.StartAdmin(admin, addr, "/healthz");
  EXPECT_GT(admin.port(), 0);
  const http::HostPort taken{"127.0.0.1", admin.port()};
  http::AdminServer second(taken, nullptr);
  try {
    svc.StartAdmin(second, taken, "/healthz");
    ADD_FAILURE() << "no throw";
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), kExitUsage);
    EXPECT_EQ(std::string(e.what()).rfind("--admin: ", 0), 0u) << e.what();
  }
  admin.Stop();
}

TEST(DecisionFlags, ParsedAndCounted) {
  DecisionFlags d;
  d.timeout_ms = 10000;
  Parse({"--partition", "1", "--partition", "3", "--reset-to", "7", "--reason", "why"},
        [&](CLI::App* cmd) { AddDecisionFlags(cmd, d, {}); });
  EXPECT_EQ(d.partitions, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(d.reset_to, 7);
  EXPECT_EQ(d.ActionCount(), 1);
  EXPECT_EQ(d.timeout_ms, 10000);
  d.accept_gap = true;
  EXPECT_EQ(d.ActionCount(), 2);
  d.op = "alice";
  EXPECT_EQ(d.Operator(), "alice");
  d.op.clear();
  setenv("USER", "bob", 1);
  EXPECT_EQ(d.Operator(), "bob");
  EXPECT_FALSE(HostName().empty());
}

TEST(DecisionFlags, DecisionsAreNotReadFromTheEnvironment) {
  setenv("WALRUS_ACCEPT_GAP", "1", 1);
  setenv("WALRUS_RESET_TO", "5", 1);
  setenv("WALRUS_REASON", "from env", 1);
  DecisionFlags d;
  Parse({}, [&](CLI::App* cmd) { AddDecisionFlags(cmd, d, {}); });
  unsetenv("WALRUS_ACCEPT_GAP");
  unsetenv("WALRUS_RESET_TO");
  unsetenv("WALRUS_REASON");
  EXPECT_EQ(d.ActionCount(), 0);
  EXPECT_EQ(d.reason, "from env");
}

}  // namespace
}  // namespace walrus::service
