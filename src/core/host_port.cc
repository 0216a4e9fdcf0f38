#include "core/host_port.h"

#include <cctype>

namespace walrus {
namespace {

Error Invalid(std::string_view input, std::string_view why) {
  return Error(Errc::kInvalidArgument, "invalid address '" + std::string(input) +
                                           "': " + std::string(why) +
                                           " (expected HOST:PORT, :PORT or [IPV6]:PORT)");
}

Error Reason(const char* why) { return Error(Errc::kInvalidArgument, why); }

}  // namespace

std::string FormatHostPort(std::string_view host, int port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string out = v6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

std::string HostPort::ToString() const { return FormatHostPort(host, port); }

Result<HostPortText> SplitHostPort(std::string_view s) {
  HostPortText out;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return Reason("missing ']' after IPv6 host");
    out.host = s.substr(1, close - 1);
    if (out.host.empty()) return Reason("empty IPv6 host");
    const auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Reason("expected ':PORT' after ']'");
      out.port = rest.substr(1);
      out.has_port = true;
    }
    return out;
  }
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = s;
    return out;
  }
  out.host = s.substr(0, colon);
  out.port = s.substr(colon + 1);
  out.has_port = true;
  if (out.host.find(':') != std::string_view::npos) {
    return Reason("IPv6 hosts must be written in [brackets]");
  }
  return out;
}

Result<HostPort> ParseHostPort(std::string_view s) {
  if (s.empty()) return Invalid(s, "empty");
  auto parts = SplitHostPort(s);
  if (!parts) return Invalid(s, parts.error().message);
  if (!parts->has_port) return Invalid(s, "missing ':PORT'");
  const std::string_view host = parts->host, port = parts->port;
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

}  // namespace walrus
