#include "http/host_port.h"

#include <cctype>

namespace walrus::http {
namespace {

Error Invalid(std::string_view input, std::string_view why) {
  return Error(Errc::kInvalidArgument, "invalid address '" + std::string(input) +
                                           "': " + std::string(why) +
                                           " (expected HOST:PORT, :PORT or [IPV6]:PORT)");
}

}  // namespace

std::string HostPort::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view s) {
  if (s.empty()) return Invalid(s, "empty");
  std::string_view host, port;
  if (s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return Invalid(s, "missing ']'");
    host = s.substr(1, close - 1);
    if (host.empty()) return Invalid(s, "empty IPv6 host");
    const auto rest = s.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Invalid(s, "missing ':PORT' after ']'");
    port = rest.substr(1);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return Invalid(s, "missing ':PORT'");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Invalid(s, "IPv6 hosts must be written in brackets");
    }
  }
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c))) return Invalid(s, "space in host");
  }
  if (port.empty()) return Invalid(s, "missing port");
  if (port.size() > 5) return Invalid(s, "port out of range 0..65535");
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Invalid(s, "port is not a number");
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return Invalid(s, "port out of range 0..65535");
  return HostPort{host.empty() ? "0.0.0.0" : std::string(host), value};
}

}  // namespace walrus::http
