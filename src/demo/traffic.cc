#include "demo/traffic.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "demo/net.h"

namespace walrus::demo {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::vector<std::string> kUsers = {"alice", "bob",   "carol", "dave",
                                         "erin",  "frank", "grace", "heidi"};
const std::vector<std::string> kSkus = {"sku1", "sku2", "sku3", "sku4", "sku5", "sku6"};
constexpr int64_t kCartTtlMs = 3600 * 1000;

json Op(const std::string& cmd, const std::string& key, std::vector<std::string> args) {
  return json{{"cmd", cmd}, {"key", key}, {"args", std::move(args)}};
}

// Delta of a counter op, or nullopt for other commands.
std::optional<int64_t> CounterDelta(const json& op) {
  const std::string cmd = op.value("cmd", "");
  const auto& args = op.contains("args") ? op["args"] : json::array();
  const auto arg = [&]() -> int64_t {
    return args.empty() ? 0 : std::stoll(args[0].get<std::string>());
  };
  if (cmd == "INCR") return 1;
  if (cmd == "DECR") return -1;
  if (cmd == "INCRBY") return arg();
  if (cmd == "DECRBY") return -arg();
  return std::nullopt;
}

}  // namespace

std::string ShopMix::Pick(const std::vector<std::string>& from) {
  return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng_)];
}

std::vector<json> ShopMix::Writes(size_t n) {
  std::vector<json> out;
  out.reserve(n);
  std::uniform_int_distribution<int> pct(0, 99);
  for (size_t i = 0; i < n; ++i) {
    const int f = pct(rng_);
    const std::string user = Pick(kUsers);
    const std::string sku = Pick(kSkus);
    if (f < 25) {  // purchase: stock and sales move together, atomically
      out.push_back(json{{"multi", json::array({Op("DECRBY", "demo:stock:{" + sku + "}", {"1"}),
                                                Op("INCRBY", "demo:sold:{" + sku + "}", {"1"})})}});
    } else if (f < 40) {
      json op = Op("SADD", "demo:cart:" + user, {sku});
      op["ttl_ms"] = kCartTtlMs;
      out.push_back(std::move(op));
    } else if (f < 50) {
      json op = Op("SREM", "demo:cart:" + user, {sku});
      op["ttl_ms"] = kCartTtlMs;
      out.push_back(std::move(op));
    } else if (f < 60) {
      out.push_back(Op("SET", "demo:last-order:" + user, {fmt::format("o-{}", ++orders_)}));
    } else if (f < 70) {
      out.push_back(Op("ZINCRBY", "demo:vip", {"1", user}));
    } else if (f < 78) {
      out.push_back(Op("HSET", "demo:user:" + user, {"tier", Pick({"basic", "gold", "vip"})}));
    } else if (f < 85) {
      out.push_back(Op("INCRBY", "demo:stock:{" + sku + "}", {"5"}));
    } else {
      out.push_back(Op("INCR", kCounterKey, {}));
    }
  }
  return out;
}

std::vector<json> ShopMix::FlashPurchases(size_t n, const std::string& stock_key) {
  std::vector<json> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        json{{"multi", json::array({Op("DECRBY", stock_key, {"1"}),
                                    Op("SADD", "demo:buyers:{flash}", {Pick(kUsers)})})}});
  }
  return out;
}

Traffic::Traffic(DemoSystem& sys) : sys_(sys) {}

void Traffic::Tally(const std::vector<json>& writes) {
  for (const auto& w : writes) {
    ++writes_;
    const auto tally_op = [&](const json& op) {
      if (auto d = CounterDelta(op)) counters_[op["key"].get<std::string>()] += *d;
    };
    if (w.contains("multi")) {
      for (const auto& op : w["multi"]) tally_op(op);
    } else {
      tally_op(w);
    }
  }
}

Status Traffic::Write(const RegionWrites& writes) {
  std::string failed;
  for (const auto& [region, st] : WriteEach(writes)) {
    if (!st) failed += fmt::format("\n  {}: {}", region, st.error().message);
  }
  if (!failed.empty()) return Error(Errc::kUnavailable, "writes not acknowledged:" + failed);
  return Status::Ok();
}

std::map<std::string, Status> Traffic::WriteEach(const RegionWrites& writes) {
  auto out = via_gateway() ? WriteViaGateway(writes) : WriteViaProduce(writes);
  for (const auto& [region, st] : out) {
    if (st) Tally(writes.at(region));
  }
  return out;
}

std::map<std::string, Status> Traffic::WriteViaProduce(const RegionWrites& writes) {
  const std::string dir = sys_.data_dir() + "/traffic";
  const std::string hlc_dir = sys_.data_dir() + "/hlc";
  std::filesystem::create_directories(dir);
  std::filesystem::create_directories(hlc_dir);
  std::map<std::string, Status> out;
  std::vector<WalrusRun> runs;
  std::vector<std::string> regions;
  ++batch_;
  for (const auto& [region, list] : writes) {
    if (list.empty()) continue;
    const std::string path = fmt::format("{}/{}-{}.jsonl", dir, region, batch_);
    std::ofstream file(path, std::ios::trunc);
    for (const json& w : list) file << w.dump() << "\n";
    file.close();
    if (!file) {
      out[region] = Error(Errc::kIo, "cannot write " + path);
      continue;
    }
    runs.push_back(WalrusRun{
        .name = fmt::format("produce-{}-{}", region, batch_),
        .args = {"produce", "--brokers", sys_.region(region).kafka, "--topic",
                 sys_.region(region).topic(), "--origin", region, "--hlc-floor-file",
                 hlc_dir + "/produce-" + region, "--observe-redis", sys_.region(region).redis_url(),
                 "-q", "--log-level", "warn", "-X", "message.timeout.ms=15000"},
        .stdin_path = path});
    regions.push_back(region);
  }
  auto codes = sys_.RunWalrus(runs, 60s);
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!codes) {
      out[regions[i]] = codes.error();
    } else if ((*codes)[i] == 0) {
      out[regions[i]] = Status::Ok();
    } else {
      out[regions[i]] =
          Error(Errc::kUnavailable,
                fmt::format("walrus produce exited {}; log {}:{}", (*codes)[i],
                            sys_.LogPath(runs[i].name), sys_.LogTail(runs[i].name, 5)));
    }
  }
  return out;
}

std::map<std::string, Status> Traffic::WriteViaGateway(const RegionWrites& writes) {
  const GatewayInfo& gw = sys_.gateway();
  // kConnections keep-alive connections per region, each sending every kConnections-th write:
  // /api/produce answers after Kafka's ack, so one connection alone waits most of the time.
  constexpr size_t kConnections = 4;
  std::map<std::string, std::vector<std::string>> errors;  // per region, per connection
  for (const auto& [region, list] : writes) {
    if (!list.empty()) errors[region].resize(kConnections);
  }
  std::vector<std::thread> threads;
  for (auto& [region, errs] : errors) {
    for (size_t c = 0; c < kConnections; ++c) {
      threads.emplace_back([&, c, region = region, &list = writes.at(region), &err = errs[c]] {
        HttpClient client(gw.host, gw.port, 15s);
        for (size_t i = c; i < list.size(); i += kConnections) {
          if (sys_.stopping()) {
            err = "interrupted";
            return;
          }
          json w = list[i];
          w["region"] = region;
          auto r = client.Post("/api/produce", w.dump(), gw.token);
          if (!r || r->status != 200) {
            err = "POST /api/produce: " +
                  (r ? fmt::format("HTTP {} {}", r->status, r->body) : r.error().message);
            return;
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  std::map<std::string, Status> out;
  for (const auto& [region, errs] : errors) {
    std::string err;
    for (const auto& e : errs) {
      if (!e.empty()) err = e;
    }
    out[region] = err.empty() ? Status::Ok() : Status(Error(Errc::kUnavailable, err));
  }
  return out;
}

Status Traffic::SimStart(int rate) {
  const GatewayInfo& gw = sys_.gateway();
  auto r = HttpPost(gw.host, gw.port, "/api/sim/start", json{{"rate", rate}}.dump(), gw.token, 10s);
  if (!r) return r.error();
  if (r->status != 200) {
    return Error(Errc::kUnavailable,
                 fmt::format("POST /api/sim/start: HTTP {} {}", r->status, r->body));
  }
  return Status::Ok();
}

Result<int64_t> Traffic::SimStop() {
  const GatewayInfo& gw = sys_.gateway();
  auto r = HttpPost(gw.host, gw.port, "/api/sim/stop", "{}", gw.token, 10s);
  if (!r) return r.error();
  if (r->status != 200) {
    return Error(Errc::kUnavailable,
                 fmt::format("POST /api/sim/stop: HTTP {} {}", r->status, r->body));
  }
  auto doc = json::parse(r->body, nullptr, false);
  if (doc.is_discarded() || !doc.contains("sent")) return int64_t{-1};
  return doc["sent"].get<int64_t>();
}

}  // namespace walrus::demo
