#pragma once

// Typed configuration of `walrus gateway`, filled from flags / WALRUS_* env by
// gateway_command.cc and validated once at start-up (BuildConfig throws std::invalid_argument
// naming the flag). Passed by const reference to every component; never changed afterwards.
//
//   GatewayFlags f;                       // as parsed by CLI11
//   f.regions = {"us=127.0.0.1:9092"};  f.redis = {"us=redis://127.0.0.1:6379"};
//   f.token_env = "s3cret";
//   GatewayConfig c = BuildConfig(f);     // c.regions[0].topic == "us.events"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http/host_port.h"
#include "kafka/types.h"
#include "redis/endpoint.h"

namespace walrus::gateway {

// Largest accepted request body; larger ones get 413.
inline constexpr size_t kMaxBodyBytes = 64 * 1024;
// Simulator rate bounds (ops/s over all regions).
inline constexpr int kMinSimRate = 1;
inline constexpr int kMaxSimRate = 5000;

struct RegionConfig {
  std::string name;     // [A-Za-z0-9_.-]{1,32}
  std::string brokers;  // the region's Kafka bootstrap servers
  std::string topic;    // name + topic suffix: the region's own origin topic
  redis::Endpoint redis;
  std::string hlc_floor_file;  // empty: no persisted HLC floor
};

struct GatewayConfig {
  http::HostPort http{"127.0.0.1", 8080};
  std::vector<RegionConfig> regions;  // in command-line order
  std::string token;                  // empty only with no_auth
  bool no_auth = false;
  std::string topic_suffix = ".events";
  kafka::Properties kafka_props;  // security flags, then -X (later entries win)
  bool validate_crdt = true;      // refuse ops `walrus apply --mode crdt` would dead-letter
  int http_threads = 48;          // worker threads for handlers that may block (produce)
  int http_io_threads = 2;        // event loops multiplexing every connection
  int max_connections = 1024;     // open connections; at the cap: evict the longest-waiting, or 503
  std::chrono::milliseconds header_timeout{10000};  // a request head must arrive within
  std::chrono::milliseconds body_timeout{10000};    // ... and its body (also the write deadline)
  std::chrono::milliseconds idle_timeout{5000};     // an idle keep-alive connection is closed
  size_t max_header_bytes = 16 * 1024;              // larger heads: 431
  int max_headers = 100;                            // more header fields: 431
  int max_sse_clients = 16;       // more get 503 at once
  size_t sse_buffer_bytes = 256 * 1024;  // bytes waiting for an SSE client; beyond: dropped
  int events_lookback = 0;        // records per partition replayed into the event log at start
  size_t event_buffer = 10000;    // SSE ring buffer (Last-Event-ID resume window)
  size_t client_queue = 4096;     // per SSE client; a client further behind is disconnected
  int sim_rate = 50;
  bool sim_autostart = false;
  std::chrono::milliseconds convergence_interval{500};
  std::chrono::milliseconds flows_interval{1000};
  std::chrono::milliseconds produce_timeout{10000};
  size_t state_max_keys = 500;  // keys listed by /state (the digest covers all)

  const RegionConfig* FindRegion(std::string_view name) const;
  // One line for the start-up log; never contains secrets.
  std::string Describe() const;
};

// Flags as parsed by CLI11; BuildConfig validates them.
struct GatewayFlags {
  std::string http = "127.0.0.1:8080";
  std::vector<std::string> regions;  // NAME=BOOTSTRAP
  std::vector<std::string> redis;    // NAME=REDIS_URL
  std::string token_file;
  std::string token_env;  // the value of WALRUS_GATEWAY_TOKEN, read by the command
  bool no_auth = false;
  std::string topic_suffix = ".events";
  std::string hlc_dir;
  std::string validate = "crdt";
  std::vector<std::string> x_props;  // key=value
  int http_threads = 48;
  int http_io_threads = 2;
  int max_connections = 1024;
  int header_timeout_ms = 10000;
  int body_timeout_ms = 10000;
  int idle_timeout_ms = 5000;
  int max_header_bytes = 16 * 1024;
  int max_headers = 100;
  int max_sse_clients = 16;
  int sse_buffer_bytes = 256 * 1024;
  int events_lookback = 0;
  int sim_rate = 50;
  bool sim_autostart = false;
  int convergence_interval_ms = 500;
  int flows_interval_ms = 1000;
};

// Throws std::invalid_argument naming the flag. `security` holds the Kafka security properties
// (kafka::SecurityProperties), placed before -X.
GatewayConfig BuildConfig(const GatewayFlags& f, const kafka::Properties& security = {});

}  // namespace walrus::gateway
