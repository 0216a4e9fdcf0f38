#include "demo/convergence.h"

#include <fmt/format.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/routing.h"

namespace walrus::demo {
namespace {

using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string Convergence::FenceKey(const std::string& region, int partition) const {
  for (int n = 0;; ++n) {
    std::string key = fmt::format("demo:fence:{}:{}", region, n);
    if (PartitionFor(key, sys_.config().partitions) == partition) return key;
  }
}

bool Convergence::WaitFences(const std::vector<std::string>& origins, const std::string& token,
                             std::chrono::seconds timeout) {
  std::vector<std::string> keys;
  for (const auto& o : origins) {
    for (int p = 0; p < sys_.config().partitions; ++p) keys.push_back(FenceKey(o, p));
  }
  // Per region: the fence keys it does not hold yet.
  std::map<std::string, std::vector<std::string>> missing;
  const auto poll = [&] {
    missing.clear();
    for (const auto& r : sys_.regions()) {
      auto conn = sys_.Redis(r.name);
      std::vector<std::string> argv = {"MGET"};
      argv.insert(argv.end(), keys.begin(), keys.end());
      auto reply = conn ? (*conn)->Command(argv) : Result<redis::Reply>(conn.error());
      for (size_t i = 0; i < keys.size(); ++i) {
        const bool have = reply && reply->size() == keys.size() &&
                          reply->element(i).str() == std::string_view(token);
        if (!have) missing[r.name].push_back(keys[i]);
      }
    }
    return missing.empty();
  };
  Status st = sys_.WaitFor("", "every region to apply every fence", poll, timeout);
  if (st) return true;
  if (st.error().message == "interrupted") return false;
  for (const auto& [region, keys_missing] : missing) {
    std::map<std::string, int> by_origin;
    for (const auto& k : keys_missing) {
      by_origin[k.substr(11, k.find(':', 11) - 11)]++;  // "demo:fence:<origin>:<n>"
    }
    std::string what;
    for (const auto& [o, n] : by_origin) {
      what += fmt::format("{}{} of {}'s {} partitions", what.empty() ? "" : ", ", n, o,
                          sys_.config().partitions);
    }
    console_.Step(fmt::format("  {} has not applied the fences of: {}", region, what));
  }
  return false;
}

Result<std::pair<int, std::string>> Convergence::Verify() {
  std::vector<std::string> args = {"verify", "-q"};
  for (const auto& r : sys_.regions()) args.push_back(r.redis_url());
  const std::string name = fmt::format("verify-{}", ++verify_runs_);
  auto codes = sys_.RunWalrus({WalrusRun{.name = name, .args = args}}, 60s);
  if (!codes) return codes.error();
  return std::pair{codes->at(0), ReadAll(sys_.LogPath(name))};
}

bool Convergence::CheckCounters() {
  bool ok = true;
  size_t exact = 0;
  for (const auto& [key, expected] : traffic_.counters()) {
    std::string values;
    bool key_ok = true;
    for (const auto& r : sys_.regions()) {
      auto conn = sys_.Redis(r.name);
      auto reply = conn ? (*conn)->Command({"GET", key}) : Result<redis::Reply>(conn.error());
      std::string v = !reply ? "error" : reply->IsNil() ? "0" : std::string(reply->str());
      key_ok = key_ok && v == std::to_string(expected);
      values += fmt::format("{}{}={}", values.empty() ? "" : " ", r.name, v);
    }
    if (key_ok) ++exact;
    if (key == kCounterKey || highlight_.count(key) || !key_ok) {
      console_.Step(fmt::format("  counter {}: {} (expected {}: the increments this run made) {}",
                                key, values, expected, key_ok ? "exact" : "WRONG"));
    }
    ok = ok && key_ok;
  }
  console_.Step(
      fmt::format("  {} of {} counters exact in every region", exact, traffic_.counters().size()));
  return ok;
}

int Convergence::Check(std::chrono::seconds settle_timeout) {
  std::random_device rd;
  const std::string token = fmt::format("round-{}-{:08x}", ++round_, rd());
  console_.Step(
      fmt::format("writing fences ({} per region, one per partition) and waiting up "
                  "to {} s for every region to apply them",
                  sys_.config().partitions, settle_timeout.count()));
  RegionWrites fences;
  for (const auto& r : sys_.regions()) {
    for (int p = 0; p < sys_.config().partitions; ++p) {
      fences[r.name].push_back(
          nlohmann::json{{"cmd", "SET"}, {"key", FenceKey(r.name, p)}, {"args", {token}}});
    }
  }
  std::vector<std::string> written;
  for (const auto& [region, st] : traffic_.WriteEach(fences)) {
    if (st) {
      written.push_back(region);
    } else {
      console_.Step(fmt::format("  fence of {} not written: {}", region, st.error().message));
    }
  }
  if (sys_.stopping()) return 2;
  const auto t0 = std::chrono::steady_clock::now();
  const bool settled = WaitFences(written, token, settle_timeout);
  if (sys_.stopping()) return 2;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  console_.Step(settled ? fmt::format("every region applied every fence ({:.1f} s)", secs)
                        : "the regions did not settle; verifying anyway");
  Result<std::pair<int, std::string>> v = Verify();
  for (int attempt = 0; v && v->first == 1 && settled && attempt < 3; ++attempt) {
    std::this_thread::sleep_for(1s);
    v = Verify();
  }
  if (!v) {
    console_.Step("walrus verify failed: " + v.error().message);
    return 2;
  }
  std::istringstream lines(v->second);
  std::string line;
  int shown = 0;
  while (std::getline(lines, line) && shown < 25) {
    if (line.empty()) continue;
    console_.Step("  verify: " + line);
    ++shown;
  }
  if (v->first == 2) return 2;
  const bool identical = v->first == 0;
  const bool counters_ok = CheckCounters();
  return identical && counters_ok ? 0 : 1;
}

}  // namespace walrus::demo
