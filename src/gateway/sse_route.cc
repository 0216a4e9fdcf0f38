// GET /api/events: the Server-Sent Events stream (docs/gateway-api.md). One HTTP worker thread
// serves each connected client for as long as it stays: it waits on the client's EventHub
// subscription, writes the frames, and a `: ping` comment after 5 s of silence. The stream ends
// when the client goes away (a write fails), falls too far behind (its queue overflowed: it
// resumes with Last-Event-ID), or the gateway stops.

#include <charconv>
#include <chrono>
#include <memory>

#include "core/log.h"
#include "gateway/gateway_context.h"

namespace walrus::gateway {
namespace {

using namespace std::chrono_literals;

constexpr auto kHeartbeat = 5s;
constexpr auto kWaitSlice = 500ms;

// The subscription plus the client gauge; destroyed with the response's content provider.
struct SseClient {
  SseClient(std::unique_ptr<EventHub::Subscription> s, GatewayProbe& p)
      : sub(std::move(s)), probe(p) {
    probe.sse_clients.Increment();
  }
  ~SseClient() { probe.sse_clients.Decrement(); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  std::unique_ptr<EventHub::Subscription> sub;
  GatewayProbe& probe;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
};

size_t ParseBacklog(const httplib::Request& req, size_t max) {
  if (!req.has_param("backlog")) return 0;
  const std::string v = req.get_param_value("backlog");
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return 0;
  return std::min(n, max);
}

void Events(GatewayContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (ctx.hub.subscribers() >= static_cast<size_t>(ctx.cfg.max_sse_clients)) {
    res.set_header("Retry-After", "5");
    return ReplyError(res, 503,
                      "too many event-stream clients (--max-sse-clients " +
                          std::to_string(ctx.cfg.max_sse_clients) + ")");
  }
  std::optional<std::string> last_id;
  if (req.has_header("Last-Event-ID")) {
    last_id = req.get_header_value("Last-Event-ID");
  } else if (req.has_param("lastEventId")) {  // EventSource polyfills put it in the query
    last_id = req.get_param_value("lastEventId");
  }
  auto client = std::make_shared<SseClient>(
      ctx.hub.Subscribe(last_id, ParseBacklog(req, ctx.cfg.event_buffer)), ctx.probe);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // no buffering in a reverse proxy
  GatewayProbe* probe = &ctx.probe;
  res.set_chunked_content_provider(
      "text/event-stream", [client, probe](size_t offset, httplib::DataSink& sink) {
        if (offset == 0) {
          // Reconnect delay for the browser, and something to flush the headers with.
          const std::string hello = "retry: 2000\n: connected\n\n";
          if (!sink.write(hello.data(), hello.size())) return false;
        }
        EventHub::Batch b = client->sub->Wait(kWaitSlice);
        for (const auto& m : b.messages) {
          if (!sink.write(m->frame.data(), m->frame.size())) return false;
        }
        const auto now = std::chrono::steady_clock::now();
        if (!b.messages.empty()) {
          client->last_write = now;
        } else if (now - client->last_write >= kHeartbeat) {
          static constexpr std::string_view kPing = ": ping\n\n";
          if (!sink.write(kPing.data(), kPing.size())) return false;
          client->last_write = now;
        }
        if (b.state == EventHub::State::kOverflow) {
          probe->sse_dropped.Increment();
          WALRUS_LOG_EVERY_MS(Logger("gateway"), warn, 5000,
                              "an event-stream client fell too far behind: disconnected");
          return false;
        }
        return b.state == EventHub::State::kOpen;
      });
}

}  // namespace

void AddEventRoute(Router& router, GatewayContext& ctx) {
  GatewayContext* c = &ctx;
  router.Add("GET", "/api/events", false,
             [c](const httplib::Request& req, httplib::Response& res, const Params&) {
               Events(*c, req, res);
             });
}

}  // namespace walrus::gateway
