#pragma once

// StreamSource: the producer of a long-lived response body (Server-Sent Events) on
// http::Server. A handler returns a Response whose `stream` is one; the server sends the head
// (Transfer-Encoding: chunked), then drives the source on the connection's I/O thread:
//
//   class Ticks : public StreamSource {
//     void Start(std::function<void()> wake) override { wake_ = wake; feed_.OnData(wake_); }
//     void Pump(StreamWriter& w) override { for (auto& m : feed_.Take()) w.Write(m); }
//   };
//
// Lifecycle: owned by the connection (shared_ptr) from the response until the connection
// closes (client gone, server stopping, the source ended, or the client stopped reading and
// the bytes waiting for it passed the server's stream buffer bound), then destroyed on the I/O
// thread after Closed(). Threading: Start, Pump and Closed run on the connection's I/O thread
// and must not block. The `wake` function is thread-safe, cheap, never blocks and coalesces:
// call it from any thread (even under your own locks) when Pump has something to do; it is a
// no-op once the connection is gone. It must not be called after the server was destroyed.

#include <functional>
#include <string_view>

namespace walrus::http {

// What Pump writes to. Only valid during the Pump call.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual void Write(std::string_view bytes) = 0;
  // Ends the stream after what was written (the connection then closes).
  virtual void End() = 0;
};

class StreamSource {
 public:
  enum class CloseReason { kEnded, kClientGone, kOverflow, kStopping };
  virtual ~StreamSource() = default;
  // Once, right after the head was queued. Pump follows immediately.
  virtual void Start(std::function<void()> wake) = 0;
  // After Start and after every wake().
  virtual void Pump(StreamWriter& out) = 0;
  // Once, when the stream is over.
  virtual void Closed(CloseReason) {}
};

}  // namespace walrus::http
