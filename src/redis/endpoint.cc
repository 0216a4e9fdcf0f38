#include "redis/endpoint.h"

#include <charconv>

#include "core/host_port.h"

namespace walrus::redis {
namespace {

constexpr std::string_view kRedisScheme = "redis://";
constexpr std::string_view kRedissScheme = "rediss://";

Error Bad(std::string_view what) {
  return Error(Errc::kInvalidArgument, "invalid redis url: " + std::string(what));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`. `field` names the part for the error message; the value itself is
// never echoed (it may be a password).
Result<std::string> PercentDecode(std::string_view in, std::string_view field) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return Bad("truncated percent-escape in " + std::string(field));
    }
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return Bad("bad percent-escape in " + std::string(field));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Parses a decimal integer in [lo, hi] that must span all of `s`.
bool ParseInt(std::string_view s, int lo, int hi, int* out) {
  if (s.empty()) return false;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

Result<Endpoint> ParseRedisUrl(std::string_view url) {
  Endpoint ep;
  std::string_view rest = url;
  if (rest.starts_with(kRedissScheme)) {
    ep.tls = true;
    rest.remove_prefix(kRedissScheme.size());
  } else if (rest.starts_with(kRedisScheme)) {
    rest.remove_prefix(kRedisScheme.size());
  } else if (const size_t sep = rest.find("://"); sep != std::string_view::npos) {
    return Bad("unsupported scheme '" + std::string(rest.substr(0, sep)) +
               "' (want redis:// or rediss://)");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Bad("query strings and fragments are not supported");
  }

  // Split authority from the path ("/db"). The userinfo may itself contain '/' only if
  // percent-encoded, so the first '/' after the last '@' starts the path.
  const size_t at = rest.rfind('@');
  const size_t slash = rest.find('/', at == std::string_view::npos ? 0 : at + 1);
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);

  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      // redis-cli reads "redis://secret@host" as a password for the default user.
      auto pass = PercentDecode(userinfo, "password");
      if (!pass) return pass.error();
      ep.password = std::move(*pass);
    } else {
      auto user = PercentDecode(userinfo.substr(0, colon), "user");
      if (!user) return user.error();
      auto pass = PercentDecode(userinfo.substr(colon + 1), "password");
      if (!pass) return pass.error();
      ep.user = std::move(*user);
      ep.password = std::move(*pass);
    }
    if (!ep.user.empty() && ep.password.empty()) {
      return Bad("user '" + ep.user + "' given without a password");
    }
  }

  // Host and port (core/host_port.h); an IPv6 literal is bracketed, the port is optional.
  auto parts = SplitHostPort(authority);
  if (!parts) return Bad(parts.error().message);
  ep.host = std::string(parts->host);
  const std::string_view port_text = parts->port;
  if (parts->has_port && port_text.empty()) return Bad("empty port");
  if (ep.host.empty()) return Bad("missing host");
  if (!port_text.empty() && !ParseInt(port_text, 1, 65535, &ep.port)) {
    return Bad("port '" + std::string(port_text) + "' is not a number in 1..65535");
  }

  if (!path.empty()) {
    std::string_view db_text = path.substr(1);  // drop '/'
    if (!db_text.empty() && !ParseInt(db_text, 0, 1 << 20, &ep.db)) {
      return Bad("database '" + std::string(db_text) + "' is not a non-negative number");
    }
  }
  return ep;
}

std::string HostPort(const Endpoint& ep) { return FormatHostPort(ep.host, ep.port); }

std::string Redacted(const Endpoint& ep) {
  std::string out = ep.tls ? "rediss://" : "redis://";
  if (!ep.user.empty() || !ep.password.empty()) {
    out += ep.user;
    if (!ep.password.empty()) out += ":***";
    out += "@";
  }
  out += HostPort(ep);
  if (ep.db != 0) out += "/" + std::to_string(ep.db);
  return out;
}

}  // namespace walrus::redis
