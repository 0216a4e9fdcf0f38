#include "verify/verify_command.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "service/common_flags.h"
#include "service/service_main.h"
#include "verify/verifier.h"

namespace walrus::verify {
namespace {

struct Flags {
  VerifyOptions opts;
  bool no_sidecars = false;
  bool quiet = false;
  service::LogFlags log;
};

int Run(Flags& f, service::ServiceMain& svc) {
  f.opts.sidecars = !f.no_sidecars;
  if (f.opts.urls.size() < 2) return svc.Fail(service::kExitUsage, "give two or more Redis URLs");
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  if (!f.quiet) {
    f.opts.progress = [&](size_t done, size_t total) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(1) && done != total) return;
      last = now;
      std::cerr << fmt::format("verify: {}/{} keys compared\n", done, total);
    };
  }
  auto rep = Verify(f.opts);
  if (!rep) return svc.Fail(service::kExitUsage, rep.error().message);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format(
      "{} instances, {} keys compared ({} sidecars) in {:.2f} s: {}\n", f.opts.urls.size(),
      rep->keys, rep->sidecars, secs,
      rep->differing == 0 ? "identical" : fmt::format("{} keys differ", rep->differing));
  for (const auto& d : rep->diffs) std::cout << "  " << d << "\n";
  if (rep->differing > rep->diffs.size()) {
    std::cout << fmt::format("  ... and {} more\n", rep->differing - rep->diffs.size());
  }
  return rep->differing == 0 ? service::kExitOk : service::kExitFailed;
}

}  // namespace

void AddVerifyCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  auto* cmd = service::AddCommand(
      root, exit_code, flags, "verify",
      "Compare two or more Redis datasets key by key (type, value digest, expiry, active-active "
      "sidecars). Exit 0 identical, 1 divergent, 2 usage/connection error.",
      Run);
  // Counted in Run (not by CLI11), so that a usage error exits 2 like every other error.
  cmd->add_option("urls", flags->opts.urls, "Redis URLs (redis://host:port), two or more");
  cmd->add_option("--ttl-tolerance-ms", flags->opts.ttl_tolerance_ms,
                  "Largest allowed difference between absolute expiries")
      ->envname("WALRUS_TTL_TOLERANCE_MS")
      ->capture_default_str();
  cmd->add_option("--max-diffs", flags->opts.max_diffs, "Differences to print")
      ->capture_default_str();
  cmd->add_option("--chunk", flags->opts.chunk, "Keys per pipelined round trip")
      ->capture_default_str();
  cmd->add_flag("--no-sidecars", flags->no_sidecars,
                "Do not compare active-active metadata (walrus:m:*)");
  cmd->add_flag("-q,--quiet", flags->quiet, "No progress on stderr");
  service::AddLogFlags(cmd, flags->log);
}

}  // namespace walrus::verify
