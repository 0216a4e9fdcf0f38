// GET /api/events: the Server-Sent Events stream (docs/gateway-api.md), event-driven: no thread
// per client. The route runs on the I/O thread (http::Lane::kInline): it reserves one of
// --max-sse-clients slots (none left: 503 + JSON at once), subscribes to the EventHub and
// returns a streaming response. The hub wakes the connection when a message is queued; the
// connection's I/O thread then drains the subscription into the socket's send buffer. A `: ping`
// comment goes out after 5 s of silence (the server's heartbeat). The stream ends when the
// client goes away, falls too far behind (the hub's queue overflowed, or the bytes waiting for a
// client that stopped reading passed --sse-buffer-bytes: it resumes with Last-Event-ID), or the
// gateway stops.

#include <atomic>
#include <charconv>
#include <chrono>
#include <memory>

#include "core/log.h"
#include "gateway/gateway_context.h"
#include "http/stream_source.h"

namespace walrus::gateway {
namespace {

using namespace std::chrono_literals;

constexpr auto kHeartbeat = 5s;

// The --max-sse-clients slots, shared by the route and its streams.
struct Slots {
  explicit Slots(int max) : max(max) {}
  bool TryTake() {
    int n = used.load();
    while (n < max) {
      if (used.compare_exchange_weak(n, n + 1)) return true;
    }
    return false;
  }
  const int max;
  std::atomic<int> used{0};
};

// One client's stream: its subscription, its slot and the client gauge. Owned by the connection;
// every method on its I/O thread.
class SseStream : public http::StreamSource {
 public:
  SseStream(std::unique_ptr<EventHub::Subscription> s, std::shared_ptr<Slots> slots,
            GatewayProbe& p)
      : sub_(std::move(s)), slots_(std::move(slots)), probe_(p) {
    probe_.sse_clients.Increment();
  }
  ~SseStream() override {
    sub_.reset();  // unsubscribe (and drop the wake function) before giving the slot back
    probe_.sse_clients.Decrement();
    --slots_->used;
  }
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  void Start(std::function<void()> wake) override { sub_->SetWakeup(std::move(wake)); }

  void Pump(http::StreamWriter& out) override {
    if (!hello_sent_) {
      // Reconnect delay for the browser, and something to flush the headers with.
      out.Write("retry: 2000\n: connected\n\n");
      hello_sent_ = true;
    }
    EventHub::Batch b = sub_->Wait(0ms);
    for (const auto& m : b.messages) out.Write(m->frame);
    if (b.state == EventHub::State::kOverflow) {
      Dropped("its event queue overflowed");
      out.End();
    } else if (b.state == EventHub::State::kClosed) {
      out.End();
    }
  }

  void Closed(CloseReason why) override {
    if (why == CloseReason::kOverflow) Dropped("it stopped reading");
  }

 private:
  void Dropped(const char* why) {
    probe_.sse_dropped.Increment();
    WALRUS_LOG_EVERY_MS(Logger("gateway"), warn, 5000,
                        "an event-stream client fell too far behind ({}): disconnected", why);
  }

  std::unique_ptr<EventHub::Subscription> sub_;
  std::shared_ptr<Slots> slots_;
  GatewayProbe& probe_;
  bool hello_sent_ = false;
};

size_t ParseBacklog(const http::Request& req, size_t max) {
  const std::string* v = req.Param("backlog");
  if (v == nullptr) return 0;
  size_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) return 0;
  return std::min(n, max);
}

void Events(GatewayContext& ctx, const std::shared_ptr<Slots>& slots, const http::Request& req,
            http::Response& res) {
  if (!slots->TryTake()) {
    res.SetHeader("Retry-After", "5");
    return http::ReplyError(res, 503,
                            "too many event-stream clients (--max-sse-clients " +
                                std::to_string(ctx.cfg.max_sse_clients) + ")");
  }
  std::optional<std::string> last_id;
  if (const std::string* h = req.Header("last-event-id")) {
    last_id = *h;
  } else if (const std::string* q = req.Param("lastEventId")) {  // EventSource polyfills
    last_id = *q;
  }
  res.stream = std::make_shared<SseStream>(
      ctx.hub.Subscribe(last_id, ParseBacklog(req, ctx.cfg.event_buffer)), slots, ctx.probe);
  res.status = 200;
  res.content_type = "text/event-stream";
  res.SetHeader("Cache-Control", "no-cache");
  res.SetHeader("X-Accel-Buffering", "no");  // no buffering in a reverse proxy
  res.heartbeat = ": ping\n\n";
  res.heartbeat_interval = std::chrono::duration_cast<std::chrono::milliseconds>(kHeartbeat);
}

}  // namespace

void AddEventRoute(http::Router& router, GatewayContext& ctx) {
  GatewayContext* c = &ctx;
  auto slots = std::make_shared<Slots>(ctx.cfg.max_sse_clients);
  router.Add(
      "GET", "/api/events", false,
      [c, slots](const http::Request& req, http::Response& res, const http::Params&) {
        Events(*c, slots, req, res);
      },
      http::Lane::kInline);
}

}  // namespace walrus::gateway
