#pragma once

// HostPort: a listen or connect address given as "host:port" — the one parser of such text for
// every flag and client library (http, redis, elect, devkafka, demo).
//
//   auto addr = walrus::ParseHostPort(":9100");      // {"0.0.0.0", 9100}
//   if (!addr) throw std::invalid_argument(addr.error().message);
//   walrus::ParseHostPort("[::1]:0");                // {"::1", 0}: IPv6, ephemeral port
//   walrus::FormatHostPort("::1", 6379);             // "[::1]:6379"
//
//   // A client with its own port rules (optional port, other range, own messages):
//   auto parts = walrus::SplitHostPort("cache:6380");   // {host "cache", port "6380", has_port}
//
// ParseHostPort accepts "HOST:PORT", ":PORT" (all interfaces, host "0.0.0.0"), "[IPV6]:PORT";
// PORT is a decimal number 0..65535 (0 = ephemeral when listening). SplitHostPort only splits
// (brackets, the last ':'), leaving the port text to the caller. Value types and pure functions;
// no threads involved.

#include <string>
#include <string_view>

#include "core/result.h"

namespace walrus {

struct HostPort {
  std::string host;
  int port = 0;

  // "host:port", with brackets around an IPv6 host ("[::1]:9000").
  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

// "host:port", with brackets around a host that contains ':' (IPv6).
std::string FormatHostPort(std::string_view host, int port);

// The two halves of "host[:port]" text, not yet judged. Views into the input.
struct HostPortText {
  std::string_view host;  // without brackets; may be empty (":6379")
  std::string_view port;  // the text after ':' (may be empty: "host:"); empty without a ':'
  bool has_port = false;  // a ':' separated a port
};

// Splits "host", "host:port", "[v6]" and "[v6]:port". Errors (Errc::kInvalidArgument, the message
// is only the reason, for the caller to wrap): "missing ']' after IPv6 host", "empty IPv6 host",
// "expected ':PORT' after ']'", "IPv6 hosts must be written in [brackets]".
Result<HostPortText> SplitHostPort(std::string_view s);

// Errors are Errc::kInvalidArgument with a message naming the input and the problem.
Result<HostPort> ParseHostPort(std::string_view s);

}  // namespace walrus
