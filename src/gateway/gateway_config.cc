#include "gateway/gateway_config.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "core/hlc.h"
#include "core/secret_file.h"
#include "kafka/security.h"

namespace walrus::gateway {
namespace {

std::pair<std::string, std::string> SplitNamed(const std::string& v, const std::string& flag) {
  const auto eq = v.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
    throw std::invalid_argument(flag + " expects NAME=VALUE, got '" + v + "'");
  }
  std::string name = v.substr(0, eq);
  if (!ValidOrigin(name)) {
    throw std::invalid_argument(flag + ": region name '" + name +
                                "' must be 1-32 characters of [A-Za-z0-9_.-]");
  }
  return {std::move(name), v.substr(eq + 1)};
}

void CheckRange(int v, int lo, int hi, const std::string& flag) {
  if (v < lo || v > hi) {
    throw std::invalid_argument(fmt::format("{} must be in {}..{}, got {}", flag, lo, hi, v));
  }
}

}  // namespace

const RegionConfig* GatewayConfig::FindRegion(std::string_view name) const {
  for (const auto& r : regions) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string GatewayConfig::Describe() const {
  std::string out = "http=" + http.ToString();
  for (const auto& r : regions) {
    out += fmt::format(" region {}: kafka={} topic={} redis={}{}", r.name, r.brokers, r.topic,
                       redis::Redacted(r.redis),
                       r.hlc_floor_file.empty() ? "" : " hlc-floor=" + r.hlc_floor_file);
  }
  out += no_auth ? " auth=off" : " auth=bearer";
  out += validate_crdt ? " validate=crdt" : " validate=plain";
  out += fmt::format(" sim-rate={}{}", sim_rate, sim_autostart ? " (autostart)" : "");
  out += fmt::format(
      " http: io-threads={} workers={} max-connections={} header/body/idle timeout={}/{}/{} ms "
      "max-header-bytes={} max-headers={} max-sse-clients={} sse-buffer-bytes={}",
      http_io_threads, http_threads, max_connections, header_timeout.count(),
      body_timeout.count(), idle_timeout.count(), max_header_bytes, max_headers, max_sse_clients,
      sse_buffer_bytes);
  return out;
}

GatewayConfig BuildConfig(const GatewayFlags& f, const kafka::Properties& security) {
  GatewayConfig c;
  auto addr = http::ParseHostPort(f.http);
  if (!addr) throw std::invalid_argument("--http: " + addr.error().message);
  c.http = *addr;

  if (f.regions.empty()) throw std::invalid_argument("at least one --region NAME=BOOTSTRAP needed");
  if (f.topic_suffix.empty()) throw std::invalid_argument("--topic-suffix must not be empty");
  c.topic_suffix = f.topic_suffix;
  std::map<std::string, std::string> redis_urls;
  for (const auto& v : f.redis) {
    auto [name, url] = SplitNamed(v, "--redis");
    if (!redis_urls.emplace(name, url).second) {
      throw std::invalid_argument("--redis: region '" + name + "' given twice");
    }
  }
  std::set<std::string> seen;
  for (const auto& v : f.regions) {
    auto [name, brokers] = SplitNamed(v, "--region");
    if (!seen.insert(name).second) {
      throw std::invalid_argument("--region: region '" + name + "' given twice");
    }
    auto it = redis_urls.find(name);
    if (it == redis_urls.end()) {
      throw std::invalid_argument("--redis: no Redis for region '" + name + "' (--redis " + name +
                                  "=redis://HOST:PORT)");
    }
    auto ep = redis::ParseRedisUrl(it->second);
    if (!ep) throw std::invalid_argument("--redis " + name + ": " + ep.error().message);
    RegionConfig r{.name = name, .brokers = brokers, .topic = name + f.topic_suffix, .redis = *ep};
    if (!f.hlc_dir.empty()) {
      r.hlc_floor_file = (std::filesystem::path(f.hlc_dir) / ("hlc-" + name)).string();
    }
    c.regions.push_back(std::move(r));
  }
  for (const auto& [name, url] : redis_urls) {
    if (!seen.count(name)) {
      throw std::invalid_argument("--redis: region '" + name + "' has no --region");
    }
  }

  if (!f.token_file.empty()) {
    c.token =
        ReadSecretFile(f.token_file, "--token-file", {.trim_blanks = true, .non_empty = true});
  } else {
    c.token = f.token_env;
  }
  c.no_auth = f.no_auth;
  if (c.no_auth && !c.token.empty()) {
    throw std::invalid_argument("--no-auth conflicts with --token-file / WALRUS_GATEWAY_TOKEN");
  }
  if (!c.no_auth && c.token.empty()) {
    throw std::invalid_argument(
        "no token: give --token-file PATH or WALRUS_GATEWAY_TOKEN (or --no-auth for a "
        "local demo: anyone reaching the port can then write)");
  }

  if (f.validate != "crdt" && f.validate != "plain") {
    throw std::invalid_argument("--validate must be crdt or plain, got '" + f.validate + "'");
  }
  c.validate_crdt = f.validate == "crdt";
  c.kafka_props = security;
  if (auto st = kafka::AppendPropertyFlags(f.x_props, "-X", c.kafka_props); !st) {
    throw std::invalid_argument(st.error().message);
  }
  CheckRange(f.http_threads, 4, 1024, "--http-threads");
  CheckRange(f.http_io_threads, 1, 64, "--http-io-threads");
  CheckRange(f.max_connections, 16, 1000000, "--max-connections");
  CheckRange(f.header_timeout_ms, 100, 600000, "--header-timeout-ms");
  CheckRange(f.body_timeout_ms, 100, 600000, "--body-timeout-ms");
  CheckRange(f.idle_timeout_ms, 100, 3600000, "--idle-timeout-ms");
  CheckRange(f.max_header_bytes, 1024, 1 << 20, "--max-header-bytes");
  CheckRange(f.max_headers, 8, 10000, "--max-headers");
  CheckRange(f.max_sse_clients, 1, 100000, "--max-sse-clients");
  CheckRange(f.sse_buffer_bytes, 4096, 64 << 20, "--sse-buffer-bytes");
  if (f.max_sse_clients >= f.max_connections) {
    throw std::invalid_argument(fmt::format(
        "--max-sse-clients ({}) must be below --max-connections ({}): streams would hold every "
        "connection",
        f.max_sse_clients, f.max_connections));
  }
  CheckRange(f.events_lookback, 0, 100000, "--events-lookback");
  CheckRange(f.sim_rate, kMinSimRate, kMaxSimRate, "--sim-rate");
  CheckRange(f.convergence_interval_ms, 50, 60000, "--convergence-interval-ms");
  CheckRange(f.flows_interval_ms, 50, 60000, "--flows-interval-ms");
  c.http_threads = f.http_threads;
  c.http_io_threads = f.http_io_threads;
  c.max_connections = f.max_connections;
  c.header_timeout = std::chrono::milliseconds(f.header_timeout_ms);
  c.body_timeout = std::chrono::milliseconds(f.body_timeout_ms);
  c.idle_timeout = std::chrono::milliseconds(f.idle_timeout_ms);
  c.max_header_bytes = static_cast<size_t>(f.max_header_bytes);
  c.max_headers = f.max_headers;
  c.max_sse_clients = f.max_sse_clients;
  c.sse_buffer_bytes = static_cast<size_t>(f.sse_buffer_bytes);
  c.events_lookback = f.events_lookback;
  c.sim_rate = f.sim_rate;
  c.sim_autostart = f.sim_autostart;
  c.convergence_interval = std::chrono::milliseconds(f.convergence_interval_ms);
  c.flows_interval = std::chrono::milliseconds(f.flows_interval_ms);
  return c;
}

}  // namespace walrus::gateway
