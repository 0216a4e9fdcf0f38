#include "http/connection.h"

#include <fmt/format.h>

#include <exception>
#include <nlohmann/json.hpp>

#include "core/log.h"

namespace walrus::http {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kLinger = 1000ms;
constexpr auto kStreamTick = 1000ms;

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
  }
}

std::string FormatHeaders(const std::vector<std::pair<std::string, std::string>>& hs) {
  std::string out;
  for (const auto& [k, v] : hs) out += k + ": " + v + "\r\n";
  return out;
}

bool SafeHeader(const std::string& k, const std::string& v) {
  for (char c : k + v) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return !k.empty();
}

}  // namespace

ServerCore::ServerCore(const ServerOptions& o, Server::Handler h, Server::LaneOf l)
    : opts(o),
      handler(std::move(h)),
      lane_of(std::move(l)),
      limits{.max_headers = o.max_headers, .max_body_bytes = o.max_body_bytes},
      default_headers(FormatHeaders(o.default_headers)),
      probe(o.registry ? std::make_unique<ServerProbe>(*o.registry, o.metrics_prefix) : nullptr),
      workers(o.name + "-worker", o.workers, o.worker_queue),
      reserved(o.name + "-reserved", o.reserved_workers, o.reserved_queue) {}

// Collects what StreamSource::Pump writes, as chunks.
class Connection::Writer : public StreamWriter {
 public:
  explicit Writer(Connection& c) : c_(c) {}
  void Write(std::string_view bytes) override {
    if (bytes.empty() || ended_) return;
    std::string chunk = fmt::format("{:x}\r\n", bytes.size());
    chunk.append(bytes);
    chunk += "\r\n";
    c_.Queue(std::move(chunk));
    c_.last_stream_write_ = Clock::now();
  }
  void End() override { ended_ = true; }
  bool ended() const { return ended_; }

 private:
  Connection& c_;
  bool ended_ = false;
};

Connection::Connection(ServerCore& core, asio::ip::tcp::socket socket)
    : core_(core), socket_(std::move(socket)), timer_(socket_.get_executor()) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  ++core_.open;
  if (core_.probe) core_.probe->connections.Increment();
}

Connection::~Connection() {
  {
    std::lock_guard lock(core_.mu);
    core_.live.erase(this);
  }
  --core_.open;
  if (core_.probe) core_.probe->connections.Decrement();
}

void Connection::Start() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->Begin(); });
}

void Connection::Begin() {
  {
    std::lock_guard lock(core_.mu);
    core_.live.emplace(this, weak_from_this());
  }
  phase_ = Phase::kHeader;  // a new connection owes us a request head within header_timeout
  SetWaiting(true);
  Arm(core_.opts.header_timeout);
  Read();
}

void Connection::Shutdown() {
  asio::post(socket_.get_executor(),
             [self = shared_from_this()] { self->Close(StreamSource::CloseReason::kStopping); });
}

void Connection::Evict() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->waiting_since() == 0 || self->phase_ == Phase::kClosed) return;
    if (self->core_.probe) self->core_.probe->evicted.Increment();
    self->Close(StreamSource::CloseReason::kClientGone);
  });
}

void Connection::SetWaiting(bool waiting) {
  waiting_since_.store(waiting ? Clock::now().time_since_epoch().count() : 0,
                       std::memory_order_relaxed);
}

void Connection::Read() {
  if (reading_ || phase_ == Phase::kClosed) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(rbuf_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    // A stream's or lingering connection's client went away; anything else: nothing to answer.
    return Close(StreamSource::CloseReason::kClientGone);
  }
  switch (phase_) {
    case Phase::kStreaming:
    case Phase::kLinger:
      return Read();  // bytes after the request are discarded; we only wait for EOF
    default:
      in_.append(rbuf_.data(), n);
      return Process();
  }
}

void Connection::Process() {
  while (true) {
    switch (phase_) {
      case Phase::kIdle:
      case Phase::kHeader: {
        // Empty lines before a request line are ignored (RFC 9112 section 2.2).
        size_t skip = 0;
        while (in_.size() >= skip + 2 && in_[skip] == '\r' && in_[skip + 1] == '\n') skip += 2;
        in_.erase(0, skip);
        if (in_.empty()) return Read();
        if (phase_ == Phase::kIdle) {
          phase_ = Phase::kHeader;
          Arm(core_.opts.header_timeout);
        }
        const size_t end = in_.find("\r\n\r\n");
        if (end == std::string::npos || end + 4 > core_.opts.max_header_bytes) {
          if (in_.size() > core_.opts.max_header_bytes) {
            return Reject(431, "request head larger than " +
                                   std::to_string(core_.opts.max_header_bytes) + " bytes");
          }
          return Read();
        }
        HeadResult h = ParseHead(std::string_view(in_).substr(0, end + 4), core_.limits);
        in_.erase(0, end + 4);
        if (h.status != 0) return Reject(h.status, h.error);
        head_ = std::move(h.head);
        body_.clear();
        chunked_.reset();
        if (head_.framing == Framing::kNone) return Dispatch();
        if (head_.framing == Framing::kChunked) chunked_.emplace(core_.opts.max_body_bytes);
        phase_ = Phase::kBody;
        Arm(core_.opts.body_timeout);
        if (head_.expect_continue && in_.empty()) {
          Queue("HTTP/1.1 100 Continue\r\n\r\n");
          Flush();
        }
        break;
      }
      case Phase::kBody: {
        if (chunked_) {
          size_t used = 0;
          const auto st = chunked_->Feed(in_, &used, body_);
          in_.erase(0, used);
          if (st == ChunkedDecoder::State::kError) {
            return Reject(chunked_->status(), chunked_->error());
          }
          if (st == ChunkedDecoder::State::kDone) return Dispatch();
          return Read();
        }
        const size_t take = std::min<size_t>(head_.content_length - body_.size(), in_.size());
        body_.append(in_, 0, take);
        in_.erase(0, take);
        if (body_.size() == head_.content_length) return Dispatch();
        return Read();
      }
      default:
        return;  // a request is in progress; later bytes wait in in_
    }
  }
}

Response Connection::Invoke(const Request& req) const {
  try {
    return core_.handler(req);
  } catch (const std::exception& e) {
    Logger("http")->error("{}: {} {} threw: {}", core_.opts.name, req.method, req.path, e.what());
    return Response::Json(500, nlohmann::json{{"error", std::string("internal error: ") +
                                                            e.what()}}.dump());
  }
}

void Connection::Dispatch() {
  phase_ = Phase::kHandling;
  SetWaiting(false);
  ++timer_gen_;
  timer_.cancel();
  keep_alive_ = head_.keep_alive;
  auto req = std::make_shared<Request>();
  req->method = head_.method;
  req->path = std::move(head_.path);
  req->params = std::move(head_.params);
  req->headers = std::move(head_.headers);
  req->body = std::move(body_);
  req->remote_addr = remote_;
  body_.clear();
  const Lane lane = core_.lane_of ? core_.lane_of(*req) : Lane::kWorker;
  if (lane == Lane::kInline) return Respond(Invoke(*req));
  WorkerPool& pool = lane == Lane::kReserved ? core_.reserved : core_.workers;
  auto self = shared_from_this();
  const bool queued = pool.TrySubmit([self, req] {
    Response r = self->Invoke(*req);
    asio::post(self->socket_.get_executor(),
               [self, r = std::move(r)]() mutable { self->Respond(std::move(r)); });
  });
  if (!queued) {
    const char* name = lane == Lane::kReserved ? "reserved" : "worker";
    if (core_.probe) core_.probe->Busy(name);
    WALRUS_LOG_EVERY_MS(Logger("http"), warn, 5000, "{}: every {} busy and {} queued: 503",
                        core_.opts.name, name, lane == Lane::kReserved
                                                   ? core_.opts.reserved_queue
                                                   : core_.opts.worker_queue);
    if (core_.opts.on_refusal) core_.opts.on_refusal(503);
    Response r = Response::Json(503, R"({"error":"server busy: try again"})");
    r.SetHeader("Retry-After", "1");
    Respond(std::move(r));
  }
}

void Connection::Respond(Response r) {
  if (phase_ == Phase::kClosed) return;
  const bool head_only = head_.method == "HEAD";
  const bool stream = r.stream != nullptr && !head_only;
  if (stream) keep_alive_ = false;
  std::string h = fmt::format("HTTP/1.1 {} {}\r\n", r.status, Reason(r.status));
  h += core_.default_headers;
  for (const auto& [k, v] : r.headers) {
    if (SafeHeader(k, v)) {
      h += k + ": " + v + "\r\n";
    } else {
      Logger("http")->error("{}: response header '{}' dropped: CR/LF/NUL in it", core_.opts.name,
                            k);
    }
  }
  if (!r.content_type.empty()) h += "Content-Type: " + r.content_type + "\r\n";
  if (stream) {
    h += "Transfer-Encoding: chunked\r\n";
  } else {
    h += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  if (!keep_alive_) {
    h += "Connection: close\r\n";
  } else if (head_.minor_version == 0) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
  if (!head_only && !stream) h += r.body;
  Queue(std::move(h));
  if (stream) {
    StartStream(r);
  } else {
    phase_ = Phase::kWriting;
    Arm(core_.opts.write_timeout);
  }
  Flush();
}

void Connection::Reject(int status, const std::string& why) {
  if (core_.probe) core_.probe->Rejected(status);
  if (core_.opts.on_refusal) core_.opts.on_refusal(status);
  Logger("http")->debug("{}: {} from {}: {}", core_.opts.name, status, remote_, why);
  SetWaiting(false);
  keep_alive_ = false;
  in_.clear();
  head_.method.clear();
  head_.minor_version = 1;
  Respond(Response::Json(status, nlohmann::json{{"error", why}}.dump()));
}

void Connection::Queue(std::string bytes) {
  out_bytes_ += bytes.size();
  out_.push_back(std::move(bytes));
}

void Connection::Flush() {
  if (writing_ || out_.empty() || phase_ == Phase::kClosed) return;
  writing_ = true;
  write_started_ = Clock::now();
  inflight_.assign(std::make_move_iterator(out_.begin()), std::make_move_iterator(out_.end()));
  out_.clear();
  std::vector<asio::const_buffer> bufs;
  bufs.reserve(inflight_.size());
  for (const auto& s : inflight_) bufs.push_back(asio::buffer(s));
  asio::async_write(socket_, bufs,
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->OnWritten(ec);
                    });
}

void Connection::OnWritten(const boost::system::error_code& ec) {
  writing_ = false;
  for (const auto& s : inflight_) out_bytes_ -= s.size();
  inflight_.clear();
  if (phase_ == Phase::kClosed) return;
  if (ec) return Close(StreamSource::CloseReason::kClientGone);
  if (!out_.empty()) return Flush();
  if (phase_ != Phase::kWriting) return;
  if (!keep_alive_) return Linger();
  phase_ = Phase::kIdle;
  SetWaiting(true);
  Arm(core_.opts.idle_timeout);
  Process();
}

void Connection::Linger() {
  // Half-close and drain briefly, so the client reads our answer instead of a reset caused by
  // request bytes we never read.
  phase_ = Phase::kLinger;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return Close(StreamSource::CloseReason::kClientGone);
  Arm(kLinger);
  Read();
}

void Connection::StartStream(Response& r) {
  phase_ = Phase::kStreaming;
  stream_ = std::move(r.stream);
  heartbeat_ = std::move(r.heartbeat);
  heartbeat_interval_ = r.heartbeat_interval;
  last_stream_write_ = Clock::now();
  if (core_.probe) core_.probe->streams.Increment();
  struct WakeState {
    asio::any_io_executor exec;
    std::weak_ptr<Connection> conn;
    std::atomic<bool> pending{false};
  };
  auto ws = std::make_shared<WakeState>();
  ws->exec = socket_.get_executor();
  ws->conn = weak_from_this();
  stream_->Start([ws] {
    if (ws->pending.exchange(true)) return;
    asio::post(ws->exec, [ws] {
      ws->pending = false;
      if (auto c = ws->conn.lock()) c->PumpStream();
    });
  });
  Arm(kStreamTick);
  PumpStream();
  Read();  // to see the client go away
}

void Connection::PumpStream() {
  if (phase_ != Phase::kStreaming || !stream_) return;
  Writer w(*this);
  stream_->Pump(w);
  if (out_bytes_ > core_.opts.stream_buffer_bytes) {
    if (core_.probe) core_.probe->stream_overflows.Increment();
    WALRUS_LOG_EVERY_MS(Logger("http"), warn, 5000,
                        "{}: stream to {} dropped: {} bytes wait for a client that does not read "
                        "(bound {})",
                        core_.opts.name, remote_, out_bytes_, core_.opts.stream_buffer_bytes);
    return Close(StreamSource::CloseReason::kOverflow);
  }
  if (w.ended()) {
    EndStream(StreamSource::CloseReason::kEnded);
    Queue("0\r\n\r\n");
    phase_ = Phase::kWriting;
    Arm(core_.opts.write_timeout);
  }
  Flush();
}

void Connection::EndStream(StreamSource::CloseReason why) {
  if (!stream_) return;
  auto s = std::move(stream_);
  stream_.reset();
  if (core_.probe) core_.probe->streams.Decrement();
  s->Closed(why);
}

void Connection::Close(StreamSource::CloseReason why) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  SetWaiting(false);
  ++timer_gen_;
  timer_.cancel();
  EndStream(why);
  boost::system::error_code ec;
  socket_.close(ec);
  in_.clear();
  out_.clear();
}

void Connection::Arm(std::chrono::milliseconds d) {
  const uint64_t gen = ++timer_gen_;
  timer_.expires_after(d);
  timer_.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
    if (!ec && gen == self->timer_gen_) self->OnTimer();
  });
}

void Connection::OnTimer() {
  const auto& o = core_.opts;
  switch (phase_) {
    case Phase::kIdle:
    case Phase::kLinger:
      return Close(StreamSource::CloseReason::kClientGone);
    case Phase::kHeader:
      if (core_.probe) core_.probe->Timeout("header");
      return Reject(408, fmt::format("request head not complete within {} ms",
                                     o.header_timeout.count()));
    case Phase::kBody:
      if (core_.probe) core_.probe->Timeout("body");
      return Reject(408, fmt::format("request body not complete within {} ms",
                                     o.body_timeout.count()));
    case Phase::kWriting:
      if (core_.probe) core_.probe->Timeout("write");
      return Close(StreamSource::CloseReason::kClientGone);
    case Phase::kStreaming: {
      const auto now = Clock::now();
      if (writing_ && now - write_started_ > o.write_timeout) {
        if (core_.probe) core_.probe->Timeout("write");
        return Close(StreamSource::CloseReason::kOverflow);
      }
      if (!heartbeat_.empty() && now - last_stream_write_ >= heartbeat_interval_) {
        Writer w(*this);
        w.Write(heartbeat_);
        Flush();
      }
      return Arm(kStreamTick);
    }
    default:
      return;
  }
}

}  // namespace walrus::http
