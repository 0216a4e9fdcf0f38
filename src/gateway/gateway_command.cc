#include "gateway/gateway_command.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "core/log.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_service.h"
#include "kafka/security.h"
#include "service/common_flags.h"
#include "service/service_main.h"

namespace walrus::gateway {
namespace {

struct Flags {
  GatewayFlags g;
  kafka::SecurityFlags security;
  service::LogFlags log;
};

int RunGateway(Flags& f, service::ServiceMain& svc) {
  if (const char* t = std::getenv("WALRUS_GATEWAY_TOKEN")) f.g.token_env = t;
  auto security = kafka::SecurityProperties(f.security);
  if (!security) throw std::invalid_argument(security.error().message);
  const GatewayConfig cfg = BuildConfig(f.g, *security);
  auto log = Logger("gateway");
  log->info("{}", cfg.Describe());
  if (cfg.no_auth) log->warn("--no-auth: anyone who can reach {} can write", cfg.http.ToString());
  for (const auto& r : cfg.regions) {
    if (r.hlc_floor_file.empty()) {
      log->warn("region {}: no --hlc-dir: HLC stamps are not protected against a clock going "
                "back across restarts",
                r.name);
    }
  }
  svc.HandleSignals();  // also ignores SIGPIPE: a client that went away is a failed write
  GatewayService gateway(cfg);
  if (auto st = gateway.Start(); !st) return svc.Fail(service::kExitUsage, st.error().message);
  // One line on stdout for people and scripts (the demo waits for it).
  std::cout << "walrus gateway listening on http://"
            << http::HostPort{cfg.http.host, gateway.port()}.ToString() << "/" << std::endl;
  svc.WaitForStop();
  log->info("stopping");
  gateway.Stop();
  return service::kExitOk;
}

}  // namespace

void AddGatewayCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  auto& g = flags->g;
  auto* cmd = service::AddCommand(
      root, exit_code, flags, "gateway",
      "HTTP API and dashboard for active-active regions: POST /api/produce (Bearer token) stamps\n"
      "the region's HLC and produces to <region>.events; GET /api/regions/<r>/state reads the\n"
      "region's Redis; GET /api/events streams every op as it arrives in each region (SSE);\n"
      "/api/sim/* drives a shopping-traffic simulator; / is the dashboard; /healthz /readyz\n"
      "/metrics on the same port. Writes need a token (--token-file or WALRUS_GATEWAY_TOKEN);\n"
      "it refuses to start without one unless --no-auth (then anyone reaching the port can\n"
      "write: for a local demo only). See docs/gateway-api.md.",
      RunGateway);
  cmd->add_option("--http", g.http, "Listen address HOST:PORT (port 0: ephemeral)")
      ->envname("WALRUS_GATEWAY_HTTP")
      ->capture_default_str();
  cmd->add_option("--region", g.regions, "NAME=KAFKA_BOOTSTRAP, one per region, in display order")
      ->envname("WALRUS_GATEWAY_REGION")
      ->delimiter(' ')
      ->required();
  cmd->add_option("--redis", g.redis, "NAME=REDIS_URL (redis[s]://[user:pass@]host:port[/db]), one "
                                      "per region")
      ->envname("WALRUS_GATEWAY_REDIS")
      ->delimiter(' ')
      ->required();
  cmd->add_option("--token-file", g.token_file,
                  "File holding the Bearer token for writes (else env WALRUS_GATEWAY_TOKEN)")
      ->envname("WALRUS_GATEWAY_TOKEN_FILE");
  cmd->add_flag("--no-auth", g.no_auth,
                "Accept writes without a token (local demo only: anyone reaching the port writes)")
      ->envname("WALRUS_GATEWAY_NO_AUTH");
  cmd->add_option("--topic-suffix", g.topic_suffix, "Region R's topic is R + suffix")
      ->envname("WALRUS_GATEWAY_TOPIC_SUFFIX")
      ->capture_default_str();
  cmd->add_option("--hlc-dir", g.hlc_dir,
                  "Directory for the per-region HLC floor files (hlc-<region>); restart safety")
      ->envname("WALRUS_GATEWAY_HLC_DIR");
  cmd->add_option("--validate", g.validate,
                  "crdt: refuse (400) ops `walrus apply --mode crdt` would dead-letter; plain: "
                  "only the op format")
      ->envname("WALRUS_GATEWAY_VALIDATE")
      ->check(CLI::IsMember({"crdt", "plain"}))
      ->capture_default_str();
  cmd->add_option("-X", g.x_props, "librdkafka property key=value for every client (repeatable)");
  kafka::AddSecurityFlags(cmd, &flags->security);
  cmd->add_option("--http-threads", g.http_threads,
                  "HTTP worker threads for handlers that may block (produce waits for Kafka's "
                  "ack); 4x as many requests may wait, more get 503")
      ->envname("WALRUS_GATEWAY_HTTP_THREADS")
      ->capture_default_str();
  cmd->add_option("--http-io-threads", g.http_io_threads,
                  "HTTP I/O threads multiplexing every connection (they also answer /healthz "
                  "and /metrics, so those never wait behind slow requests)")
      ->envname("WALRUS_GATEWAY_HTTP_IO_THREADS")
      ->capture_default_str();
  cmd->add_option("--max-connections", g.max_connections,
                  "Open HTTP connections; at the cap the one that waited longest for a request is "
                  "closed to make room, or, when all are busy, the newcomer gets 503 at once")
      ->envname("WALRUS_GATEWAY_MAX_CONNECTIONS")
      ->capture_default_str();
  cmd->add_option("--header-timeout-ms", g.header_timeout_ms,
                  "A request head must be complete this long after its first byte (after the "
                  "accept on a new connection); else 408 and close")
      ->envname("WALRUS_GATEWAY_HEADER_TIMEOUT_MS")
      ->capture_default_str();
  cmd->add_option("--body-timeout-ms", g.body_timeout_ms,
                  "A request body must be complete this long after its head (else 408), and a "
                  "response written within it (else the connection closes)")
      ->envname("WALRUS_GATEWAY_BODY_TIMEOUT_MS")
      ->capture_default_str();
  cmd->add_option("--idle-timeout-ms", g.idle_timeout_ms,
                  "An idle keep-alive connection is closed after this long")
      ->envname("WALRUS_GATEWAY_IDLE_TIMEOUT_MS")
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", g.max_header_bytes,
                  "Largest request head (request line and header fields); larger: 431")
      ->envname("WALRUS_GATEWAY_MAX_HEADER_BYTES")
      ->capture_default_str();
  cmd->add_option("--max-headers", g.max_headers, "Most header fields in a request; more: 431")
      ->envname("WALRUS_GATEWAY_MAX_HEADERS")
      ->capture_default_str();
  cmd->add_option("--max-sse-clients", g.max_sse_clients,
                  "Event-stream clients served at once; more get 503 at once")
      ->envname("WALRUS_GATEWAY_MAX_SSE_CLIENTS")
      ->capture_default_str();
  cmd->add_option("--sse-buffer-bytes", g.sse_buffer_bytes,
                  "Bytes that may wait for an event-stream client that does not read; beyond, "
                  "it is disconnected (it resumes with Last-Event-ID)")
      ->envname("WALRUS_GATEWAY_SSE_BUFFER_BYTES")
      ->capture_default_str();
  cmd->add_option("--events-lookback", g.events_lookback,
                  "Records per partition replayed into the event log at start")
      ->envname("WALRUS_GATEWAY_EVENTS_LOOKBACK")
      ->capture_default_str();
  cmd->add_option("--sim-rate", g.sim_rate, "Simulator rate, ops/s over all regions (1..5000)")
      ->envname("WALRUS_GATEWAY_SIM_RATE")
      ->capture_default_str();
  cmd->add_flag("--sim-autostart", g.sim_autostart, "Start the simulator at start-up")
      ->envname("WALRUS_GATEWAY_SIM_AUTOSTART");
  cmd->add_option("--convergence-interval-ms", g.convergence_interval_ms,
                  "How often the regions' digests are compared")
      ->envname("WALRUS_GATEWAY_CONVERGENCE_INTERVAL_MS")
      ->capture_default_str();
  cmd->add_option("--flows-interval-ms", g.flows_interval_ms,
                  "How often mirror lag per flow is measured")
      ->envname("WALRUS_GATEWAY_FLOWS_INTERVAL_MS")
      ->capture_default_str();
  service::AddLogFlags(cmd, flags->log);
}

}  // namespace walrus::gateway
