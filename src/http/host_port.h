#pragma once

// HostPort: a listen or connect address given as "host:port" on the command line.
//
//   auto addr = walrus::http::ParseHostPort(":9100");     // {"0.0.0.0", 9100}
//   if (!addr) throw std::invalid_argument(addr.error().message);
//   ParseHostPort("[::1]:0");                              // {"::1", 0}: IPv6, ephemeral port
//
// Accepted: "HOST:PORT", ":PORT" (all interfaces, host "0.0.0.0"), "[IPV6]:PORT". PORT is a decimal
// number 0..65535 (0 = ephemeral when listening). Value type; no threads involved.

#include <string>
#include <string_view>

#include "core/result.h"

namespace walrus::http {

struct HostPort {
  std::string host;
  int port = 0;

  // "host:port", with brackets around an IPv6 host ("[::1]:9000").
  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

// Errors are Errc::kInvalidArgument with a message naming the input and the problem.
Result<HostPort> ParseHostPort(std::string_view s);

}  // namespace walrus::http
